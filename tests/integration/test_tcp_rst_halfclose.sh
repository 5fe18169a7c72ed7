#!/usr/bin/env bash
# Connection endings through the proxy, against the Linux stack:
#  1. RST: a server on :9001 (proxied by a rule added at runtime) accepts,
#     reads the client's first bytes and closes with SO_LINGER 0 (a RST);
#     the client's read fails with ECONNRESET (not EOF, not a timeout).
#  2. Half-close: the client sends an 8 MiB upload with no length and shuts
#     its write side down (SHUT_WR) to end it; the server's answer (the
#     sha256 of what it got) still arrives and equals the sent stream's, then
#     the server's FIN.  And the client asks for 16 MiB and half-closes right
#     after the request: all 16 MiB still arrive (sha256), then the FIN.
#  3. Stalled reader: the client asks for 64 MiB and reads nothing for 8 s.
#     In the server namespace `ss` shows the server's socket with a
#     non-empty send queue whose bytes_acked does not move over 2 s (the
#     proxy's window to the server closed: backpressure, not buffering); the
#     client then reads everything, sha256 equal.
# Afterwards no connection is left (show tcp active = 0; TIME-WAIT is 2 s).
# Sizes: 8/16 MiB cross several windows; 64 MiB is more than every buffer on
# the way (the client's and server's socket buffers, a few MB each, and the
# proxy's).  ~30 s.
# timeout: 180
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tcp_rst_halfclose
SL_ON_FAIL=sl_tcp_diag

RST_PORT=9001
TIME_WAIT_MS=2000
STALL_SIZE=64M
STALL=8

sl_conf_tcp "time_wait_ms = $TIME_WAIT_MS;"
SL_CONF_RULES=$(sl_conf_proxy_rule "$SL_BULK_PORT")
sl_appliance_start
sl_bulk_server_start
t0='{}'
if sl_tcp_stack; then t0=$(sl_tcp_json); fi

# --- 1. the server's RST reaches the client as a RST ---------------------------
sl_spawn "$SL_WORK/rstserver.log" rst-server --ns "$SL_NS_S" -- "$SL_PY" -c '
import socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
print("rst server listening", flush=True)
while True:
    c, peer = s.accept()
    c.settimeout(3)
    try:
        got = c.recv(100)
    except OSError:
        got = b""
    # SO_LINGER on with a zero timeout: close() sends a RST (RFC 9293 3.6)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    print("reset %s:%d after %d bytes" % (peer[0], peer[1], len(got)), flush=True)
' "$SL_S_ADDR" "$RST_PORT"
sl_wait_for 10 "RST server on :$RST_PORT" sl_listening "$SL_NS_S" "$RST_PORT" || sl_fail "RST server did not start"
sl_proxy_rule_add "$RST_PORT"

sl_log "+ client: connect to :$RST_PORT, send, read"
res=$(ip netns exec "$SL_NS_C" "$SL_PY" - "$SL_S_ADDR" "$RST_PORT" <<'PY'
import errno, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
t0 = time.time()
try:
    s.sendall(b"hello, then a reset please\n")
    d = s.recv(100)
    print("eof" if d == b"" else "data")
except ConnectionResetError:
    print("reset %.3f" % (time.time() - t0))
except socket.timeout:
    print("timeout")
except OSError as e:
    print("error errno=%s" % e.errno)
PY
)
printf '    | %s\n' "$res" >&2
[[ $res == reset* ]] || sl_fail "the client should see ECONNRESET, got: $res"
sl_ok "the client saw ECONNRESET (${res#reset }s after connecting)"
grep -q '^reset' "$SL_WORK/rstserver.log" || sl_fail "the RST server never reset a connection"

# --- 2. half-close ---------------------------------------------------------------------
sl_bulk "upload 8 MiB ended by the client's FIN (SHUT_WR); the answer still arrives" \
	upload --size 8M --half-close
sl_bulk "request 16 MiB and SHUT_WR at once; all 16 MiB still arrive" \
	download --size 16M --half-close

# --- 3. stalled reader ------------------------------------------------------------------
sendq() { # Send-Q and bytes_acked of the server's established socket(s) on the bulk port
	ip netns exec "$SL_NS_S" ss -Htin state established "( sport = :$SL_BULK_PORT )" |
		awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^bytes_acked:/) { split($i, a, ":"); b += a[2] } }
		     $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ { q += $2; n++ }
		     END { printf "%d %d %d\n", n, q, b }'
}
sl_bulk_spawn stall download --size "$STALL_SIZE" --stall "$STALL" --expect-local
pid=$SL_LAST_PID
sl_bulk_wait_ready stall "$pid" 30
sleep 3
read -r n1 q1 b1 < <(sendq)
sleep 2
read -r n2 q2 b2 < <(sendq)
sl_log "server socket while the client stalls: conns $n1/$n2, Send-Q $q1/$q2, bytes_acked $b1/$b2"
ip netns exec "$SL_NS_S" ss -tin state established "( sport = :$SL_BULK_PORT )" | sed 's/^/    | /' >&2
((n1 == 1 && n2 == 1)) || sl_fail "expected one established server socket, saw $n1 then $n2"
((q1 > 0 && q2 > 0)) || sl_fail "the server's send queue should be non-empty while the client stalls (Send-Q $q1, $q2)"
((b1 == b2)) || sl_fail "the server's data kept being acknowledged while the client read nothing ($b1 -> $b2)"
sl_ok "the server is blocked: Send-Q $q2 bytes, $b2 bytes acknowledged and not moving"
sl_bulk_finish stall "$pid" 60 "after the stall the client got all $STALL_SIZE, sha256 equal"

# --- counters and nothing left ------------------------------------------------------
if sl_tcp_stack; then
	sl_tcp_log
	t1=$(sl_tcp_json)
	sl_tcp_moved resets_rcvd "$t0" "$t1"
	sl_tcp_moved resets_sent "$t0" "$t1"
	active_zero() { [[ $(sl_tcp_field active) == 0 ]]; }
	sl_wait_for $((TIME_WAIT_MS / 1000 + 20)) "show tcp active = 0" active_zero ||
		{ sl_tcp_log; sl_fail "connections left after the tests"; }
	sl_ok "show tcp active = 0"
else
	sl_selfcheck_note "resets_rcvd/resets_sent, active back to 0"
fi
sl_assert_alive
sl_log "tcp RST / half-close / stalled reader test passed"
