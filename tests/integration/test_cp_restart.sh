#!/usr/bin/env bash
# sluice-cp is disposable: kill -9 it while iperf3 runs through the gateway;
# traffic keeps flowing for the whole run; a restarted sluice-cp shows the
# same routes (including one added before the kill) and counters that did
# not go back to zero, and can change routes again.
# timeout: 150
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init cp_restart
sl_appliance_start

extra=198.19.128.0/24
sl_expect_rc 0 "route add $extra via $SL_S_ADDR" sl_ctl route add "$extra" via "$SL_S_ADDR"
sl_route_listed "$extra" || sl_fail "$extra not listed after route add"
routes_before=$(sl_ctl_json show routes | jq -c '.routes | sort_by(tostring)')
sl_run "baseline ping" ip netns exec "$SL_NS_C" ping -c2 -i0.2 -W2 "$SL_S_ADDR"
sl_iperf_server_start 5201

out=$SL_WORK/iperf3.json
t0=$(date +%s.%N)
sl_spawn "$SL_WORK/iperf3-client.log" iperf3-client --ns "$SL_NS_C" -- \
	sh -c "exec iperf3 -c $SL_S_ADDR -p 5201 -t 12 -i 1 -J >'$out'"
iperf_pid=$SL_LAST_PID
sleep 4
sl_pid_alive "$iperf_pid" || sl_fail "iperf3 ended early: $(cat "$out")"

declare -A before
for p in "$SL_PORT_C" "$SL_PORT_S"; do
	before[$p]=$(sl_port_stat "$p" ipackets)
done
sl_log "ipackets before the kill: $(declare -p before)"

sl_log "kill -9 sluice-cp (pid $SL_CP_PID)"
tk=$(date +%s.%N)
kill -KILL "$SL_CP_PID"
for ((i = 0; i < 50; i++)); do sl_pid_alive "$SL_CP_PID" || break; sleep 0.1; done
sl_pid_alive "$SL_CP_PID" && sl_fail "sluice-cp survived kill -9"
wait "$SL_CP_PID" 2>/dev/null || true
sl_pid_alive "$SL_DP_PID" || sl_fail "sluice-dp died with sluice-cp"
sleep 1
sl_cp_start "$SL_WORK/cp2.log" -c "$SL_CONF"
sl_cp_wait "$SL_WORK/cp2.log" 40 || sl_fail "restarted sluice-cp did not come up"

rc=0
for ((i = 0; i < 300; i++)); do sl_pid_alive "$iperf_pid" || break; sleep 0.1; done
wait "$iperf_pid" || rc=$?
((rc == 0)) || sl_fail "iperf3 exited $rc: $(jq -r '.error // empty' "$out" 2>/dev/null || tail -n 20 "$out")"
bps=$(sl_iperf_bps "$out")
((bps > 0)) || sl_fail "iperf3: zero throughput"
sl_ok "iperf3 over the whole run: $((bps / 1000000)) Mbit/s"

# Every 1 s interval that starts after the kill carried data.
koff=$(awk -v a="$tk" -v b="$t0" 'BEGIN { printf "%.2f", a - b - 0.5 }')
jq -r '.intervals[].sum | "\(.start) \(.end) \(.bytes)"' "$out" | sed 's/^/    | /' >&2
after_kill=$(jq --argjson k "$koff" '[.intervals[].sum | select(.start >= $k)] | length' "$out")
empty=$(jq --argjson k "$koff" '[.intervals[].sum | select(.start >= $k and .bytes == 0)] | length' "$out")
((after_kill >= 5)) || sl_fail "only $after_kill intervals after the kill (at +${koff}s)"
((empty == 0)) || sl_fail "$empty of $after_kill one-second intervals after the kill carried no data"
sl_ok "all $after_kill intervals after the kill (at +${koff}s) carried data"

# The restarted sluice-cp sees the data plane's state.
routes_after=$(sl_ctl_json show routes | jq -c '.routes | sort_by(tostring)')
sl_route_listed "$extra" || sl_fail "restarted sluice-cp does not list $extra: $routes_after"
[[ $routes_after == "$routes_before" ]] || sl_fail "routes differ after the restart: $routes_before -> $routes_after"
sl_ok "same routes after the restart, $extra included"
for p in "$SL_PORT_C" "$SL_PORT_S"; do
	now=$(sl_port_stat "$p" ipackets)
	((now > ${before[$p]})) || sl_fail "port $p ipackets went ${before[$p]} -> $now across the restart"
	sl_ok "port $p ipackets ${before[$p]} -> $now (not reset)"
done
js=$(sl_ctl_json show neighbors)
jq -e --arg a "$SL_S_ADDR" '[.. | strings] | index($a) != null' <<<"$js" >/dev/null ||
	sl_fail "restarted sluice-cp does not show neighbour $SL_S_ADDR: $js"
sl_ok "restarted sluice-cp shows neighbour $SL_S_ADDR"

# ... and can drive the data plane again.
sl_expect_rc 0 "route add 198.19.129.0/24 through the new sluice-cp" sl_ctl route add 198.19.129.0/24 via "$SL_S_ADDR"
sl_route_listed 198.19.129.0/24 || sl_fail "route added through the new sluice-cp not listed"
sl_expect_rc 0 "route del $extra through the new sluice-cp" sl_ctl route del "$extra"
! sl_route_listed "$extra" || sl_fail "$extra still listed after del"
sl_run "ping after the restart" ip netns exec "$SL_NS_C" ping -c3 -i0.2 -W2 "$SL_S_ADDR"

sl_assert_alive
sl_log "cp restart test passed"
