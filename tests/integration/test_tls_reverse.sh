#!/usr/bin/env bash
# S1 reverse mode: application "origin" (198.19.0.12, mode originate): a
# client's plaintext HTTP to 198.19.0.12:8080 is carried over TLS that the
# appliance originates to 198.19.0.12:443, verifying the backend's
# certificate (test CA, its IP in subjectAltName).  The answer equals the
# file the TLS backend serves.  A second application whose backend presents
# a self-signed certificate is refused: the client's connection ends, no
# byte of plaintext reaches it, and `verify_failures` moves.  ~10 s.
# timeout: 90
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tls_reverse
sl_certs
O=$SL_S3_ADDR
SL_CONF_EXTRA="apps = (
  { name = \"origin\"; server = \"$O\"; secure_port = 443; plain_port = 8080; mode = \"originate\"; ca = \"$SL_CERTS/ca.pem\"; },
  { name = \"shady\"; server = \"$O\"; secure_port = 8443; plain_port = 8081; mode = \"originate\"; ca = \"$SL_CERTS/ca.pem\"; }
);"
sl_appliance_start
sl_server_addrs
www=$SL_WORK/www
mkdir -p "$www"
head -c $((3 * 1024 * 1024 + 11)) /dev/urandom >"$www/file.bin"
want=$(sha256sum <"$www/file.bin" | cut -d' ' -f1)
head -c $((64 * 1024 + 7)) /dev/urandom >"$www/small.bin"
want_small=$(sha256sum <"$www/small.bin" | cut -d' ' -f1)
sl_web_start origin-tls "$O" 443 "$www" --tls-cert "$SL_CERTS/origin.pem" --tls-key "$SL_CERTS/origin.key"
sl_web_start shady-tls "$O" 8443 "$www" --tls-cert "$SL_CERTS/untrusted.pem" --tls-key "$SL_CERTS/untrusted.key"
app() { sl_ctl_json show apps | jq -r --arg n "$1" --arg f "$2" '.apps[] | select(.name == $n) | .[$f]'; }

got=$(ip netns exec "$SL_NS_C" curl -sf -m 20 "http://$O:8080/file.bin" | sha256sum | cut -d' ' -f1)
[[ $got == "$want" ]] || sl_fail "plaintext through the originated TLS: sha256 $got != $want"
grep -q 'GET /file.bin' "$SL_WORK/origin-tls.log" || sl_fail "the TLS backend saw no request"
sl_ok "http://$O:8080/ -> TLS to $O:443 (verified): 3 MB intact"
(($(app origin handshakes) >= 1)) || sl_fail "origin: no handshake counted"
# 30 at once: with several workers each originates some (both legs, the
# client's and the TLS one it opens, on the worker that owns the client's)
sl_spread_begin
sl_curl_many 30 "http://$O:8080/small.bin" "$want_small"
sl_spread_check "30 originated TLS connections"

v0=$(app shady verify_failures)
if out=$(ip netns exec "$SL_NS_C" curl -sf -m 10 "http://$O:8081/file.bin" 2>&1); then
	sl_fail "a backend with an untrusted certificate was used: $out"
fi
v1=$(app shady verify_failures)
((v1 > v0)) || sl_fail "verify_failures did not move ($v0 -> $v1)"
! grep -q 'GET /file.bin' "$SL_WORK/shady-tls.log" || sl_fail "the untrusted backend got the request"
sl_ok "untrusted backend refused (verify_failures $v0 -> $v1), no request reached it"
sl_assert_alive
sl_log "tls reverse mode test passed"
