#!/usr/bin/env bash
# The worker's record layer against awkward clients, while a 50 MB download
# runs on another connection (it must finish intact):
#  1. KeyUpdate: openssl s_client fetches 1 MB, sends a KeyUpdate requesting
#     one back ("K"), then fetches 150 MB on the same session; it arrives
#     intact.
#  2. close_notify: s_client's "Q" ends the session cleanly (the relay
#     answers with its own close_notify, s_client reports no error).
#  3. a TLS 1.2 renegotiation attempt: the worker hands the record to
#     sluice-cp (logged, `escalated` moves) and ends the connection.
#  4. garbage, a bogus or truncated ClientHello, and after real TLS 1.3 and
#     1.2 handshakes records that do not authenticate, are too long, have
#     an unknown type or are cut short: an alert where one is due, always a
#     close, never a crash (a new connection is served afterwards).
# The OpenSSL engine is pinned here (the other TLS tests take the start-up
# choice, mostly intel-ipsec-mb): its contexts come from the worker's
# reserve and go back to it, across KeyUpdates and many short connections.
# ~30 s (the bystander sets it: 50 MB at 2 MiB/s).
# timeout: 150
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tls_robust
SL_ON_FAIL=sl_tcp_diag
sl_certs
S=$SL_S_ADDR
SL_CONF_EXTRA="apps = ( $(sl_app_conf demo "$S" 443 8080) ); crypto = { engine = \"openssl\"; };"
sl_appliance_start
sl_ctl_json show crypto | jq -e '.forced and all(.choices[]; .engine == "openssl")' >/dev/null ||
	sl_fail "crypto.engine = openssl did not pin OpenSSL: $(sl_ctl_json show crypto)"
sl_bulk_server_start 8080
CA=$SL_CERTS/ca.pem

# the bystander: 50 MB through the relay in the background, at 2 MiB/s so
# that it still runs when the abuse below starts (~16 s in; checked)
want50=$(ip netns exec "$SL_NS_C" curl -sf -m 30 --cacert "$CA" "https://$S/sha256/50M")
( ip netns exec "$SL_NS_C" curl -sf -m 120 --limit-rate 2M --cacert "$CA" "https://$S/bytes/50M" |
	sha256sum | cut -d' ' -f1 >"$SL_WORK/bystander" ) &
by=$!

# --- 1. KeyUpdate mid-transfer ---------------------------------------------------------
want=$(ip netns exec "$SL_NS_C" curl -sf -m 30 --cacert "$CA" "https://$S/sha256/150M")
# OpenSSL 3.0.22's s_client reads its terminal only while no record is
# waiting, so a "K" typed while a body streams in is taken after the body:
# the KeyUpdate goes out between two responses of one keep-alive session
# instead, with data already relayed both ways under the first keys and
# 150 MB to come under the new ones.
{
	printf 'GET /bytes/1M HTTP/1.1\r\nHost: demo\r\n\r\n'
	sleep 1.5
	printf 'K\n'
	sleep 1
	printf 'GET /bytes/150M HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n'
	sleep 8 # s_client takes commands only without -ign_eof: stdin must stay open
} | ip netns exec "$SL_NS_C" timeout 30 openssl s_client -CAfile "$CA" -tls1_3 \
	-connect "$S:443" >"$SL_WORK/ku.out" 2>"$SL_WORK/ku.err" || true
got=$("$SL_PY" - "$SL_WORK/ku.out" <<'PY'
import hashlib, sys
# s_client's own chatter comes first (no -quiet: it would disable commands);
# then the 1 MB response, then the 150 MB one, whose body is hashed
d = open(sys.argv[1], 'rb').read()
pos, bodies = 0, []
while True:
    h = d.find(b'HTTP/1.1 200', pos)
    i = d.find(b'\r\n\r\n', h) if h >= 0 else -1
    if h < 0 or i < 0:
        break
    n = 0
    for line in d[h:i].split(b'\r\n'):
        if line.lower().startswith(b'content-length:'):
            n = int(line.split(b':')[1])
    bodies.append(d[i + 4:i + 4 + n])
    pos = i + 4 + n
print(hashlib.sha256(bodies[1]).hexdigest() if len(bodies) == 2 and len(bodies[0]) == 1 << 20 else
      'responses: %s' % [len(b) for b in bodies])
PY
)
grep -q "KEYUPDATE" "$SL_WORK/ku.err" "$SL_WORK/ku.out" || sl_fail "s_client sent no KeyUpdate: $(tail -5 "$SL_WORK/ku.err"; grep -a -m5 -v "^[A-Za-z0-9+/=]*$" "$SL_WORK/ku.out" | tail -5)"
[[ $got == "$want" ]] || sl_fail "150 MB across a KeyUpdate: sha256 $got != $want ($(tail -2 "$SL_WORK/ku.err"))"
sl_ok "KeyUpdate (update_requested) between responses of one session: 150 MB intact after it"

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

# --- 3. garbage, forged and truncated records ----------------------------------------------
# Before a handshake: random bytes (closed; OpenSSL itself sends no alert for
# those), a handshake record of random bytes (an alert), a truncated
# ClientHello and a FIN (closed).  After a real handshake, TLS 1.3 and 1.2:
# a record that does not authenticate (bad_record_mac), one longer than
# 2^14 + 256 (record_overflow), an unknown content type (a fatal alert;
# RFC 8446 5 asks for unexpected_message), a truncated record and a FIN
# (closed).  The alerts are read through the client's own TLS state, so an
# encrypted TLS 1.3 alert counts.
kill -0 "$by" 2>/dev/null || sl_fail "the bystander ended before the abuse: the test no longer overlaps them"
e0=$(sl_ctl_json show apps | jq -r '.apps[0].errors + .apps[0].handshake_errors')
r0=$(sl_ctl_json show errors | jq '[.drops[] | select(.reason == "tls_record") | .count] | add // 0')
ip netns exec "$SL_NS_C" "$SL_PY" - "$S" "$CA" <<'PY' || sl_fail "the abuse script failed"
import os, socket, ssl, sys
host, ca = sys.argv[1], sys.argv[2]
bad = []

def plain(what, data, fin=False, alert=False):
    """raw bytes before any handshake: the relay must close (with an alert)"""
    s = socket.create_connection((host, 443), timeout=5)
    s.sendall(data)
    if fin:
        s.shutdown(socket.SHUT_WR)
    got = b''
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            got += d
    except ConnectionResetError:
        pass
    except socket.timeout:
        bad.append('%s: not closed within 5 s' % what)
        return
    if alert and not got.startswith(b'\x15\x03'):
        bad.append('%s: closed without an alert (got %s)' % (what, got[:8].hex()))
    print('%s: closed%s' % (what, ', alert %s' % got[5:7].hex() if got.startswith(b'\x15') else ''))

def after(ver, what, record, fin=False, want=None):
    """a record written under an established session: an alert, then the end"""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    ctx.minimum_version = ctx.maximum_version = ver
    t = ctx.wrap_socket(socket.create_connection((host, 443), timeout=5), server_hostname=host)
    os.write(t.fileno(), record)
    if fin:
        socket.socket(fileno=os.dup(t.fileno())).shutdown(socket.SHUT_WR)
    name = '%s %s' % (ver.name, what)
    try:
        while t.recv(4096):
            pass
        r = 'closed'
    except ssl.SSLError as e:
        r = e.reason or str(e)
    except (ConnectionResetError, BrokenPipeError):
        r = 'closed'
    except socket.timeout:
        r = 'not closed within 5 s'
    print('%s: %s' % (name, r))
    if r.startswith('not closed') or (want == 'ALERT' and 'ALERT' not in r) or \
            (want not in (None, 'ALERT') and r != want):
        bad.append('%s: %s (want %s)' % (name, r, want or 'a close'))

plain('random bytes', os.urandom(3000))
plain('a handshake record of random bytes', b'\x16\x03\x01\x00\x40' + os.urandom(64), alert=True)
plain('a truncated ClientHello and a FIN', b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc' + os.urandom(56), fin=True)
for v in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
    after(v, 'bad MAC', b'\x17\x03\x03\x00\x40' + os.urandom(0x40), want='SSLV3_ALERT_BAD_RECORD_MAC')
    after(v, 'oversized record', b'\x17\x03\x03\x7f\xff' + os.urandom(1000), want='TLSV1_ALERT_RECORD_OVERFLOW')
    after(v, 'unknown content type', b'\x63\x03\x03\x00\x40' + os.urandom(0x40), want='ALERT')
    after(v, 'truncated record and a FIN', b'\x17\x03\x03\x10\x00' + os.urandom(100), fin=True)
if bad:
    sys.exit('; '.join(bad))
PY
sl_ok "garbage, forged, oversized, unknown and truncated records: alerts where due, always a close"
sleep 1
e1=$(sl_ctl_json show apps | jq -r '.apps[0].errors + .apps[0].handshake_errors')
r1=$(sl_ctl_json show errors | jq '[.drops[] | select(.reason == "tls_record") | .count] | add // 0')
((e1 > e0)) || sl_fail "errors did not move ($e0 -> $e1)"
((r1 - r0 >= 6)) || sl_fail "tls_record drops moved by $((r1 - r0)), want at least 6 (3 bad records x 2 versions)"
sl_ok "errors $e0 -> $e1, tls_record drops $r0 -> $r1"
ip netns exec "$SL_NS_C" curl -sf -m 10 --cacert "$CA" "https://$S/sha256/1K" >/dev/null ||
	sl_fail "a new connection after the abuse failed"
sl_ok "a new connection after the abuse is served"
wait "$by" || true
[[ $(cat "$SL_WORK/bystander") == "$want50" ]] || sl_fail "the bystander's 50 MB differ"
sl_ok "the other connection's 50 MB arrived intact meanwhile"
# a handshake that never completes ends after 10 s (no slowloris)
secs=$(ip netns exec "$SL_NS_C" "$SL_PY" - "$S" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 443))
s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello that never ends
t = time.time()
s.settimeout(30)
try:
    s.recv(100)
except OSError:
    pass
print(round(time.time() - t))
PY
)
((secs >= 9 && secs <= 13)) || sl_fail "an unfinished handshake lasted $secs s (the deadline is 10 s)"
sl_ok "an unfinished handshake ended after $secs s"
sl_assert_alive
sl_log "tls robustness test passed"
