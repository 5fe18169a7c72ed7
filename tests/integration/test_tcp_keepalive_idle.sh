#!/usr/bin/env bash
# Keepalive and the proxy's idle timeout, against the Linux stack:
#  1. With keepalive after 1 s of silence (tcp.keepalive_idle_ms), a proxied
#     connection held idle for 4 s stays open: the appliance probes both
#     legs (show tcp keepalives moves) and Linux answers every probe.
#  2. With idle_timeout_ms = 3 s, a connection held idle for longer is reset
#     both ways (idle_timeouts moves, the client sees the connection end);
#     keepalive answers do not count as activity, data does.
#  3. Keepalive to a peer that went silent: the client namespace drops every
#     packet from the appliance's side (nftables, inside the namespace only),
#     the probe goes unanswered, and one interval later the legs are reset
#     (before the 3 s idle timeout could).
# Durations are the smallest the timers allow while staying clear of the
# 1 ms wheel and a loaded CI machine.  ~25 s.
# timeout: 120
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tcp_keepalive_idle
SL_ON_FAIL=sl_tcp_diag

sl_conf_tcp "time_wait_ms = 1000; keepalive_idle_ms = 1000; keepalive_intvl_ms = 1000; keepalive_probes = 1; idle_timeout_ms = 3000;"
SL_CONF_RULES=$(sl_conf_proxy_rule "$SL_BULK_PORT")
sl_appliance_start
sl_bulk_server_start

# --- 1 + 2: probes answered, then the idle timeout ------------------------------
t0=$(sl_tcp_json)
rc=0
out=$SL_WORK/hold.json
sl_log "+ bulkclient.py hold --conns 1 --seconds 6"
ip netns exec "$SL_NS_C" timeout -k 5 60 "$SL_PY" "$SL_ROOT/scripts/bulkclient.py" --host "$SL_S_ADDR" \
	--port "$SL_BULK_PORT" --json-out "$out" hold --conns 1 --seconds 6 >/dev/null 2>>"$SL_WORK/bulkclient.log" || rc=$?
t1=$(sl_tcp_json)
sl_tcp_moved keepalives "$t0" "$t1" 2
ka=$(( $(sl_tcp_field keepalives "$t1") - $(sl_tcp_field keepalives "$t0") ))
sl_ok "keepalive probes sent while idle: $ka"
sl_tcp_moved idle_timeouts "$t0" "$t1" 1
((rc != 0)) || sl_fail "the held connection should have been closed by the idle timeout"
grep -q -e "closed during the hold" -e "reset by peer" "$out" || sl_fail "the hold failed for another reason: $(cat "$out")"
sl_ok "idle for 3 s (keepalives answered): the proxy reset both legs"

# --- 3: unanswered probes -------------------------------------------------------
# A short hold keeps the connection under the idle timeout; then the client
# side goes dark and only keepalive can notice.
t2=$(sl_tcp_json)
ip netns exec "$SL_NS_C" "$SL_PY" - "$SL_S_ADDR" "$SL_BULK_PORT" "$SL_NS_C" <<'PY' &
import socket, subprocess, sys, time
host, port, ns = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
s.sendall(b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.3)
subprocess.run(["nft", "-f", "-"], check=True, input=(
    "table inet sl_ka_test {\n chain c_in {\n type filter hook input priority 0;\n"
    " ip saddr %s tcp sport %d drop\n }\n}\n" % (host, port)).encode())
time.sleep(8)
PY
pyp=$!
sl_track_pid "$pyp" ka-client
active0() { (($(sl_tcp_field active) == 0)); }
active2() { (($(sl_tcp_field active) == 2)); }
sl_wait_for 5 "the held connection to be relayed" active2 || sl_fail "no proxied connection"
sl_wait_for 10 "keepalive to give up on the silent client" active0 ||
	sl_fail "connections still open after an unanswered probe"
t3=$(sl_tcp_json)
sl_tcp_moved keepalives "$t2" "$t3" 1
idle_before=$(sl_tcp_field idle_timeouts "$t2")
idle_after=$(sl_tcp_field idle_timeouts "$t3")
((idle_after == idle_before)) || sl_fail "the idle timeout, not keepalive, closed it"
sl_ok "an unanswered probe: both legs reset by keepalive"
wait "$pyp" 2>/dev/null || true
ip netns exec "$SL_NS_C" nft delete table inet sl_ka_test 2>/dev/null || true
sl_assert_alive
sl_log "tcp keepalive / idle timeout test passed"
