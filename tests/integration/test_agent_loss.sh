#!/usr/bin/env bash
# S4 failures, each during 10 concurrent transfers:
#  - kill -9 of site A's agent: every client gets a reset (not a hang, not
#    a clean end), nothing leaks (connection slots, bound STREAM sessions,
#    held SYNs, mbufs), and the restarted agent serves new flows;
#  - kill -9 of sluice-cp: the relays run on the workers, so every transfer
#    completes with the right sha256; the agents are back within 10 s of
#    the new sluice-cp;
#  - the HTTP CONNECT proxy stopped and started again: site B comes back by
#    itself.
# timeout: 600
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
SL_ON_FAIL=sl_agent_diag
sl_instance_init agent_loss
sl_need_pkgs tinyproxy:tinyproxy-bin nft:nftables || exit 77
sl_certs
[[ -x $SL_AGENT ]] || sl_die "$SL_AGENT not built"
SRV=$SL_SITE_SRV
sl_agent_appliance_start
sl_agents_up

# connections other than TIME-WAIT (which ends by itself)
tcp_active() { sl_ctl_json show tcp | jq -r '.active - .time_wait'; }
pool_in_use() { sl_ctl_json show pools | jq -r '[.pools[] | select(.name | test("^sl_mp_w")) | .in_use] | add'; }
spawn_bulk() { # spawn_bulk NAME SOURCE ARGS...: 10 transfers in the background
	local name=$1 src=$2
	shift 2
	rm -f "$SL_WORK/$name.json" "$SL_WORK/$name.ready"
	sl_spawn "$SL_WORK/$name.log" "bulk-$name" --ns "$SL_NS_C" -- \
		"$SL_PY" "$SL_ROOT/scripts/bulkclient.py" --host "$SRV" --port 9000 --source "$src" \
		--json-out "$SL_WORK/$name.json" --ready-file "$SL_WORK/$name.ready" "$@"
}
sleep 2
base_tcp=$(tcp_active)
base_pool=$(pool_in_use)
sl_log "baseline: $base_tcp connections (the agents' sessions), $base_pool mbufs in use"

# --- kill -9 of an agent -------------------------------------------------------
spawn_bulk killa "$SL_C_ADDR" download --conns 10 --size 1G --timeout 120
bulk_pid=$SL_LAST_PID
sl_bulk_wait_ready killa "$bulk_pid" 30
sleep 2
sl_log "kill -9 site-a's agent (pid $SL_AGENT_A_PID) during 10 transfers"
kill -KILL "$SL_AGENT_A_PID"
for ((i = 0; i < 300; i++)); do sl_pid_alive "$bulk_pid" || break; sleep 0.1; done
sl_pid_alive "$bulk_pid" && sl_fail "the clients did not notice the agent's death within 30 s"
wait "$bulk_pid" 2>/dev/null || true
sl_bulk_summary <"$SL_WORK/killa.json"
failed=$(jq -r .failed "$SL_WORK/killa.json")
resets=$(jq -r '[.errors | to_entries[] | select(.key | test("reset|ECONNRESET|104"; "i")) | .value] | add // 0' "$SL_WORK/killa.json")
((failed == 10)) || sl_fail "want all 10 transfers cut by the agent's death, $failed were"
((resets == 10)) || sl_fail "want a reset for each client, got: $(jq -c .errors "$SL_WORK/killa.json")"
sl_ok "agent killed: all 10 clients got a reset"
settled() {
	[[ $(sl_agent_field site-a streams_bound) == 0 ]] || return 1
	[[ $(sl_agents_json | jq -r .workers.held) == 0 ]] || return 1
	(($(tcp_active) <= base_tcp))
}
sl_wait_for 30 "the relays' connections to be gone" settled ||
	sl_fail "left behind: $(tcp_active) connections (baseline $base_tcp), $(sl_agents_json | jq -c .workers)"
pool=$(pool_in_use)
# per-lcore mempool caches hold up to 256 mbufs each: some slack
((pool <= base_pool + 600)) || sl_fail "mbufs in use: $pool, baseline $base_pool: a leak"
sl_ok "nothing left: $(tcp_active) connections (baseline $base_tcp), $pool mbufs in use (baseline $base_pool)"
sl_agent_up a
got=$(ip netns exec "$SL_NS_C" curl -sS -m 10 --interface "$SL_C_ADDR" "http://$SRV/")
[[ $got == site-a ]] || sl_fail "the restarted agent does not serve: '$got'"
sl_ok "the restarted agent serves new flows"

# --- kill -9 of sluice-cp ----------------------------------------------------------
spawn_bulk cpkill "$SL_C2_ADDR" download --conns 10 --size 64M --timeout 300
bulk_pid=$SL_LAST_PID
sl_bulk_wait_ready cpkill "$bulk_pid" 30
sleep 1
sl_log "kill -9 sluice-cp (pid $SL_CP_PID) during 10 transfers through site-b"
kill -KILL "$SL_CP_PID"
for ((i = 0; i < 50; i++)); do sl_pid_alive "$SL_CP_PID" || break; sleep 0.1; done
wait "$SL_CP_PID" 2>/dev/null || true
sl_cp_start "$SL_WORK/cp2.log" -c "$SL_CONF"
sl_cp_wait "$SL_WORK/cp2.log" 40 || sl_fail "sluice-cp did not come back"
t0=$(date +%s)
both_up() { sl_agent_pool_ready site-a && sl_agent_pool_ready site-b; }
sl_wait_for 10 "both agents back" both_up || sl_fail "agents not back within 10 s: $(sl_agents_json)"
sl_ok "agents back $(($(date +%s) - t0)) s after sluice-cp restarted"
sl_bulk_finish cpkill "$bulk_pid" 300 "10 transfers through a sluice-cp kill -9: all complete"
[[ $(jq -r .sha256_match <<<"$SL_BULK") == true ]] || sl_fail "sha256 mismatch after the sluice-cp kill"
sl_ok "every byte intact across the sluice-cp restart"

# --- the proxy goes away and comes back -----------------------------------------------
sl_log "stopping the HTTP CONNECT proxy (pid $SL_PROXY_PID)"
kill -TERM "$SL_PROXY_PID"
for ((i = 0; i < 50; i++)); do sl_pid_alive "$SL_PROXY_PID" || break; sleep 0.1; done
down() { [[ $(sl_agent_field site-b connected) == false ]]; }
sl_wait_for 15 "site-b to be seen gone" down || sl_fail "site-b still connected without its proxy"
sleep 2
sl_spawn "$SL_WORK/$SL_NS_WAN-tinyproxy2.log" "$SL_NS_WAN-tinyproxy2" --ns "$SL_NS_WAN" -- \
	tinyproxy -d -c "$SL_WORK/$SL_NS_WAN-tinyproxy.conf"
sl_wait_for 30 "site-b back by itself" sl_agent_pool_ready site-b || sl_fail "site-b did not come back: $(sl_agents_json)"
got=$(ip netns exec "$SL_NS_C" curl -sS -m 10 --interface "$SL_C2_ADDR" "http://$SRV/")
[[ $got == site-b ]] || sl_fail "site-b after the proxy came back: '$got'"
sl_ok "proxy stopped and started: site-b came back by itself"
sl_assert_alive
sl_log "test agent loss passed"
