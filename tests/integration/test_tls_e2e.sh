#!/usr/bin/env bash
# S5 end-to-end passthrough for application "bank" (198.19.0.11: 443 ->
# 8080, e2e_hosts = bank.sluice.test, e2e_ttl = 3 s):
#  1. a ClientHello naming bank.sluice.test is not terminated: the client
#     verifies the real server's certificate, issued by a CA the appliance
#     has no key for (e2e-ca); show tunnels lists the pair, and after the
#     TTL it is gone.
#  2. learned: the backend answers /needs-e2e with `Sluice-E2E: required`;
#     the client gets 503 + Connection: close + Retry-After: 0 from the
#     relay, the pair is recorded, and the retry sees the backend's own
#     certificate (e2e-ca).
#  3. the client's next connection with another server name ends the
#     tunnel and is terminated by the appliance again.
# ~15 s (the TTL is the smallest the config allows that leaves room).
# timeout: 120
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tls_e2e
sl_certs
B=$SL_S2_ADDR
TTL=3
SL_CONF_EXTRA="apps = ( $(sl_app_conf bank "$B" 443 8080 "e2e_hosts = [\"bank.sluice.test\"]; e2e_ttl = $TTL;") );"
sl_appliance_start
sl_server_addrs
www=$SL_WORK/www
mkdir -p "$www"
echo "the real bank server" >"$www/index.html"
echo "the real bank server" >"$www/needs-e2e"
plain=$SL_WORK/plain
mkdir -p "$plain"
echo "the plain backend" >"$plain/index.html"
echo "should not be seen" >"$plain/needs-e2e"
sl_web_start bank-tls "$B" 443 "$www" --tls-cert "$SL_CERTS/bank.pem" --tls-key "$SL_CERTS/bank.key"
sl_web_start bank-plain "$B" 8080 "$plain" --marker-path /needs-e2e
tunnels() { sl_ctl_json show tunnels | jq -r '.tunnels | length'; }
C="ip netns exec $SL_NS_C curl -s -m 10"

# --- 1. e2e_hosts -------------------------------------------------------------------
out=$($C --resolve "bank.sluice.test:443:$B" --cacert "$SL_CERTS/e2e-ca.pem" https://bank.sluice.test/) ||
	sl_fail "bank.sluice.test was not passed through (e2e-ca verification failed?)"
[[ $out == "the real bank server" ]] || sl_fail "unexpected answer: $out"
sl_ok "bank.sluice.test: the client verified the real server (e2e-ca) and got its page"
sl_run "show tunnels" sl_ctl show tunnels
[[ $(sl_ctl_json show tunnels | jq -r '.tunnels[0].sni') == bank.sluice.test ]] || sl_fail "no tunnel listed"
sleep $((TTL + 2))
(($(tunnels) == 0)) || sl_fail "the tunnel outlived its TTL: $(sl_ctl show tunnels)"
sl_ok "after $TTL s the pair is gone from show tunnels"
# 30 at once, passed through: with several workers each carries some, and
# records the pair in its own table; one pair is listed, and it expires
sl_spread_begin
sl_curl_many 30 https://bank.sluice.test/ "$(sha256sum <"$www/index.html" | cut -d' ' -f1)" \
	--resolve "bank.sluice.test:443:$B" --cacert "$SL_CERTS/e2e-ca.pem"
sl_spread_check "30 passed-through TLS connections"
n=$(tunnels)
((n <= 1)) || sl_fail "one pair, listed once, expected: $(sl_ctl show tunnels)"
sleep $((TTL + 2))
(($(tunnels) == 0)) || sl_fail "the pair outlived its TTL: $(sl_ctl show tunnels)"
sl_ok "after $TTL s the pair is gone from every worker's table"

# --- 2. learned -------------------------------------------------------------------------
hdr=$($C -D - -o /dev/null --cacert "$SL_CERTS/ca.pem" "https://$B/needs-e2e") || true
grep -q "^HTTP/1.1 503" <<<"$hdr" || sl_fail "first request: no 503: $hdr"
grep -qi "^Retry-After: 0" <<<"$hdr" || sl_fail "503 without Retry-After: 0: $hdr"
grep -qi "^Connection: close" <<<"$hdr" || sl_fail "503 without Connection: close: $hdr"
sl_ok "marked response: the client got 503, Retry-After: 0, Connection: close"
[[ $(sl_ctl_json show tunnels | jq -r '.tunnels[0].how') == learned ]] || sl_fail "no learned tunnel"
out=$($C --cacert "$SL_CERTS/e2e-ca.pem" "https://$B/needs-e2e") ||
	sl_fail "the retry did not reach the real server (e2e-ca verification failed)"
[[ $out == "the real bank server" ]] || sl_fail "retry: unexpected answer: $out"
sl_ok "the retry went through end to end (the backend's own certificate)"
# each retry comes from a new port, so with several workers most reach
# another worker than the one that learned the pair: every one of them
# must still go through (the workers read each other's tunnel tables)
for i in 1 2 3 4 5 6; do
	out=$($C --cacert "$SL_CERTS/e2e-ca.pem" "https://$B/needs-e2e") ||
		sl_fail "retry $i did not reach the real server (workers: $(sl_ctl_json show workers | jq -c '[.workers[].flows]'))"
	[[ $out == "the real bank server" ]] || sl_fail "retry $i: unexpected answer: $out"
done
n=$(tunnels)
((n == 1)) || sl_fail "one pair expected in show tunnels, got $n: $(sl_ctl show tunnels)"
c=$(sl_ctl_json show tunnels | jq -r '.tunnels[0].conns')
((c >= 7)) || sl_fail "the pair counts $c connections, expected 7"
sl_ok "7 connections from new ports went through the learned pair, one pair listed with $c connections"

# --- 3. another server name ends it --------------------------------------------------------
out=$($C --resolve "demo.sluice.test:443:$B" --cacert "$SL_CERTS/ca.pem" https://demo.sluice.test/) ||
	sl_fail "demo.sluice.test was not terminated by the appliance"
[[ $out == "the plain backend" ]] || sl_fail "unexpected answer: $out"
(($(tunnels) == 0)) || sl_fail "another SNI did not end the tunnel: $(sl_ctl show tunnels)"
sl_ok "a connection naming demo.sluice.test was terminated and ended the tunnel"
(($(sl_ctl_json show apps | jq -r '.apps[0].passthrough') >= 2)) || sl_fail "passthrough not counted"
sl_assert_alive
sl_log "tls e2e passthrough test passed"
