#!/usr/bin/env bash
# The worker's record layer against awkward clients, while a 50 MB download
# runs on another connection (it must finish intact):
#  1. KeyUpdate: openssl s_client asks for a 150 MB body and, mid-transfer,
#     sends a KeyUpdate requesting one back ("K"); the body arrives intact.
#  2. close_notify: s_client's "Q" ends the session cleanly (the relay
#     answers with its own close_notify, s_client reports no error).
#  3. a TLS 1.2 renegotiation attempt: the worker hands the record to
#     sluice-cp (logged, `escalated` moves) and ends the connection.
#  4. garbage instead of a ClientHello, and after a real handshake a record
#     that does not authenticate and a truncated one: each gets an alert
#     and a close -- never a crash (sluice-dp answers afterwards).
# ~20 s.
# timeout: 150
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tls_robust
SL_ON_FAIL=sl_tcp_diag
sl_certs
S=$SL_S_ADDR
SL_CONF_EXTRA="apps = ( $(sl_app_conf demo "$S" 443 8080) );"
sl_appliance_start
sl_bulk_server_start 8080
CA=$SL_CERTS/ca.pem

# the bystander: 50 MB through the relay in the background
want50=$(ip netns exec "$SL_NS_C" curl -sf -m 30 --cacert "$CA" "https://$S/sha256/50M")
( ip netns exec "$SL_NS_C" curl -sf -m 120 --limit-rate 5M --cacert "$CA" "https://$S/bytes/50M" |
	sha256sum | cut -d' ' -f1 >"$SL_WORK/bystander" ) &
by=$!

# --- 1. KeyUpdate mid-transfer ---------------------------------------------------------
want=$(ip netns exec "$SL_NS_C" curl -sf -m 30 --cacert "$CA" "https://$S/sha256/150M")
{
	printf 'GET /bytes/150M HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n'
	sleep 0.1
	printf 'K\n'
	sleep 6 # s_client takes commands only without -ign_eof: stdin must stay open
} | ip netns exec "$SL_NS_C" timeout 30 openssl s_client -CAfile "$CA" -tls1_3 \
	-connect "$S:443" >"$SL_WORK/ku.out" 2>"$SL_WORK/ku.err" || true
got=$("$SL_PY" - "$SL_WORK/ku.out" <<'PY'
import hashlib, sys
# s_client's own chatter comes first (no -quiet: it would disable commands)
d = open(sys.argv[1], 'rb').read()
h = d.find(b'HTTP/1.1 200')
i = d.find(b'\r\n\r\n', h)
n = 0
for line in d[h:i].split(b'\r\n'):
    if line.lower().startswith(b'content-length:'):
        n = int(line.split(b':')[1])
print(hashlib.sha256(d[i + 4:i + 4 + n]).hexdigest() if h >= 0 and i >= 0 and n else 'no-head')
PY
)
grep -q "KEYUPDATE" "$SL_WORK/ku.err" "$SL_WORK/ku.out" || sl_fail "s_client sent no KeyUpdate: $(tail -5 "$SL_WORK/ku.err"; grep -a -m5 -v "^[A-Za-z0-9+/=]*$" "$SL_WORK/ku.out" | tail -5)"
[[ $got == "$want" ]] || sl_fail "150 MB across a KeyUpdate: sha256 $got != $want ($(tail -2 "$SL_WORK/ku.err"))"
sl_ok "KeyUpdate (update_requested) mid-transfer: 150 MB intact"

# --- 2. close_notify ----------------------------------------------------------------------
out=$({ printf 'GET /sha256/1K HTTP/1.1\r\nHost: demo\r\n\r\n'; sleep 1; printf 'Q\n'; sleep 1; } |
	ip netns exec "$SL_NS_C" timeout 10 openssl s_client -CAfile "$CA" -connect "$S:443" 2>&1) || true
grep -q "DONE" <<<"$out" || sl_fail "s_client did not finish cleanly: $(tail -5 <<<"$out")"
! grep -qi "alert\|error" <<<"$(grep -v 'verify error:num=0' <<<"$out")" ||
	sl_fail "close_notify: s_client reports an error: $(grep -i 'alert\|error' <<<"$out" | head -3)"
sl_ok "close_notify: clean close"

# --- renegotiation (TLS 1.2): a handshake message the worker does not
# handle goes to sluice-cp, which logs it; the connection ends ---------------------------
x0=$(sl_ctl_json show apps | jq -r '.apps[0].escalated')
{ printf 'GET /sha256/1K HTTP/1.1\r\nHost: demo\r\n\r\n'; sleep 1; printf 'R\n'; sleep 2; } |
	ip netns exec "$SL_NS_C" timeout 10 openssl s_client -tls1_2 -CAfile "$CA" -connect "$S:443" \
		>/dev/null 2>&1 || true
x1=$(sl_ctl_json show apps | jq -r '.apps[0].escalated')
((x1 > x0)) || sl_fail "a renegotiation attempt was not handed to sluice-cp (escalated $x0 -> $x1)"
grep -q "unhandled record type 22" "$SL_WORK/cp.log" || sl_fail "sluice-cp did not log the unhandled record"
sl_ok "renegotiation refused: the record went to sluice-cp (escalated $x0 -> $x1) and the connection ended"

# --- 3. garbage, bad MAC, truncated ------------------------------------------------------------
e0=$(sl_ctl_json show apps | jq -r '.apps[0].errors + .apps[0].handshake_errors')
ip netns exec "$SL_NS_C" "$SL_PY" - "$S" "$CA" <<'PY' || sl_fail "the abuse script failed"
import os, socket, ssl, sys, time
host, ca = sys.argv[1], sys.argv[2]

def ends(s, what):
    s.settimeout(5)
    try:
        while s.recv(4096):
            pass
    except (ssl.SSLError, ConnectionResetError):
        pass
    except socket.timeout:
        sys.exit("%s: the relay did not close the connection" % what)

# garbage instead of a ClientHello
s = socket.create_connection((host, 443))
s.sendall(os.urandom(3000))
ends(s, "garbage")
ctx = ssl.create_default_context(cafile=ca)
for what in ("bad MAC", "truncated"):
    raw = socket.create_connection((host, 443))
    t = ctx.wrap_socket(raw, server_hostname=host)
    if what == "bad MAC":
        os.write(t.fileno(), b"\x17\x03\x03\x00\x40" + os.urandom(0x40))
    else:
        os.write(t.fileno(), b"\x17\x03\x03\x10\x00" + os.urandom(100))
        time.sleep(0.3)
        t.close()
        continue
    ends(t, what)
print("abuse done")
PY
sl_ok "garbage and a forged record: alert and close"
sleep 1
e1=$(sl_ctl_json show apps | jq -r '.apps[0].errors + .apps[0].handshake_errors')
((e1 > e0)) || sl_fail "errors did not move ($e0 -> $e1)"
sl_ctl show errors | grep -q tls_record || sl_fail "no tls_record drop counted"
wait "$by" || true
[[ $(cat "$SL_WORK/bystander") == "$want50" ]] || sl_fail "the bystander's 50 MB differ"
sl_ok "the other connection's 50 MB arrived intact meanwhile"
sl_assert_alive
sl_log "tls robustness test passed"
