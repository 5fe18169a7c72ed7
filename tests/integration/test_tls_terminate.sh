#!/usr/bin/env bash
# S1 TLS offload relay, against real clients (curl, openssl s_client): the
# demo application (198.19.0.10: 443 -> 8080) terminates TLS 1.2 and 1.3
# with each AEAD (the handshake in sluice-cp, records on the worker); the
# client verifies the appliance's certificate against the test CA as the
# server's own, by address and by name (demo.sluice.test); curl and
# s_client each get 1 MiB intact over every version x AEAD, s_client also
# confirming what was negotiated; a 100 MB download hashes correctly, clean
# and with 1% drop + 1% reorder on the client port (the impairment must
# really drop); the plain port is denied from the client side (the
# connection fails, `denied` and the `app_deny` drops move); `show apps`
# counts the handshakes.  100 MB: many full 16 KB records and windows, ~2 s
# clean, ~3 s impaired.  ~10 s in all; the timeout leaves
# room for a loaded machine.
# timeout: 240
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tls_terminate
SL_ON_FAIL=sl_tcp_diag
sl_certs
S=$SL_S_ADDR
SL_CONF_EXTRA="apps = ( $(sl_app_conf demo "$S" 443 8080) );"
sl_appliance_start
sl_bulk_server_start 8080
CA=$SL_CERTS/ca.pem
appj() { sl_ctl_json show apps | jq -r --arg f "$1" '.apps[] | select(.name == "demo") | .[$f]'; }

# --- curl over TLS 1.3 and 1.2, every AEAD --------------------------------------
want=$(ip netns exec "$SL_NS_C" curl -sf -m 10 --cacert "$CA" "https://$S/sha256/1M") ||
	sl_fail "curl https://$S/ through the relay failed"
sl_ok "curl verified the relay as $S (test CA) and got an answer"
got=$(ip netns exec "$SL_NS_C" curl -sf -m 10 --cacert "$CA" --resolve "demo.sluice.test:443:$S" \
	"https://demo.sluice.test/sha256/1M") || sl_fail "curl https://demo.sluice.test/ (by name) failed"
[[ $got == "$want" ]] || sl_fail "by name: unexpected answer $got"
sl_ok "curl verified the relay as demo.sluice.test and got the same answer"
# 30 at once: with several workers each terminates some
sl_spread_begin
sl_curl_many 30 "https://$S/bytes/256K" "$(sl_bytes_sha256 262144)" --cacert "$CA"
sl_spread_check "30 TLS connections"
for o in "TLSv1.3 TLS_AES_128_GCM_SHA256 --tlsv1.3 --tls13-ciphers" \
	"TLSv1.3 TLS_AES_256_GCM_SHA384 --tlsv1.3 --tls13-ciphers" \
	"TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 --tlsv1.3 --tls13-ciphers" \
	"TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 --tlsv1.2 --tls-max 1.2 --ciphers" \
	"TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 --tlsv1.2 --tls-max 1.2 --ciphers" \
	"TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305 --tlsv1.2 --tls-max 1.2 --ciphers"; do
	read -r ver suite o <<<"$o"
	# -v: curl 7.88 has no %{ssl_version}; its "SSL connection using" line says
	# shellcheck disable=SC2086
	ip netns exec "$SL_NS_C" curl -sS -v -m 20 --cacert "$CA" $o "$suite" "https://$S/bytes/1M" \
		-o >(sha256sum | cut -d' ' -f1 >"$SL_WORK/h") 2>"$SL_WORK/curl.err" ||
		sl_fail "curl $o $suite failed: $(grep -v '^[<>{}]' "$SL_WORK/curl.err" | tail -n 5)"
	sleep 0.2
	grep -q "SSL connection using $ver / $suite\$" "$SL_WORK/curl.err" ||
		sl_fail "curl $o $suite: $(grep 'SSL connection using' "$SL_WORK/curl.err" || echo 'nothing negotiated?')"
	[[ $(cat "$SL_WORK/h") == "$want" ]] || sl_fail "curl $ver $suite: sha256 differs"
	sl_ok "curl $ver $suite: 1 MiB intact"
done
# openssl s_client, each version x AEAD: -brief reports (on stderr) what was
# negotiated and that the certificate verified; the body (stdout) must hash
bodysha() { # the sha256 of an HTTP response's body (after the head), on stdin
	"$SL_PY" -c 'import hashlib, sys; d = sys.stdin.buffer.read(); i = d.find(b"\r\n\r\n")
print(hashlib.sha256(d[i + 4:]).hexdigest() if i >= 0 else "no-head")'
}
for v in "TLSv1.3 TLS_AES_128_GCM_SHA256" "TLSv1.3 TLS_AES_256_GCM_SHA384" \
	"TLSv1.3 TLS_CHACHA20_POLY1305_SHA256" "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256" \
	"TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384" "TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305"; do
	read -r ver suite <<<"$v"
	if [[ $ver == TLSv1.3 ]]; then opt=(-tls1_3 -ciphersuites "$suite"); else opt=(-tls1_2 -cipher "$suite"); fi
	got=$(printf 'GET /bytes/1M HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n' |
		ip netns exec "$SL_NS_C" timeout 20 openssl s_client -brief -ign_eof -CAfile "$CA" \
			-verify_return_error -verify_ip "$S" -connect "$S:443" "${opt[@]}" 2>"$SL_WORK/sc.err" |
		bodysha) || true
	if ! grep -q "^Protocol version: $ver\$" "$SL_WORK/sc.err" || ! grep -q "^Ciphersuite: $suite\$" "$SL_WORK/sc.err" ||
		! grep -q "^Verification: OK" "$SL_WORK/sc.err"; then
		sl_fail "openssl s_client $ver $suite: not negotiated as asked: $(head -c 600 "$SL_WORK/sc.err")"
	fi
	[[ $got == "$want" ]] || sl_fail "openssl s_client $ver $suite: body sha256 $got != $want"
	sl_ok "openssl s_client $ver $suite: verified, 1 MiB intact"
done

# --- 100 MB, clean and impaired --------------------------------------------------
drops() { # drops REASON: that drop counter of show errors (0 when not listed)
	sl_ctl_json show errors | jq -e --arg r "$1" '[.drops[] | select(.reason == $r) | .count] | add // 0' ||
		sl_fail "cannot read show errors"
}
for imp in off on; do
	if [[ $imp == on ]]; then
		sl_run "impair the client port" sl_ctl port impair "$SL_PORT_C" drop 1% reorder 1%
	fi
	i0=$(drops impair)
	want=$(ip netns exec "$SL_NS_C" curl -sf -m 60 --cacert "$CA" "https://$S/sha256/100M")
	got=$(ip netns exec "$SL_NS_C" curl -sf -m 120 --cacert "$CA" "https://$S/bytes/100M" | sha256sum | cut -d' ' -f1)
	[[ $got == "$want" ]] || sl_fail "100 MB (impairment $imp): sha256 $got != $want"
	i1=$(drops impair)
	if [[ $imp == on ]]; then
		((i1 - i0 >= 100)) || sl_fail "the impairment dropped only $((i1 - i0)) packets over 100 MB"
	fi
	sl_ok "100 MB through the relay intact (impairment $imp, $((i1 - i0)) packets dropped by it)"
done
sl_run "impairment off" sl_ctl port impair "$SL_PORT_C" off

# --- the plain port is denied -----------------------------------------------------
d0=$(appj denied)
a0=$(drops app_deny)
if ip netns exec "$SL_NS_C" curl -sf -m 3 "http://$S:8080/sha256/1M" >/dev/null 2>&1; then
	sl_fail "the plain port answered the client directly"
fi
d1=$(appj denied)
a1=$(drops app_deny)
((d1 > d0)) || sl_fail "denied did not move ($d0 -> $d1)"
((a1 > a0)) || sl_fail "show errors app_deny did not move ($a0 -> $a1)"
sl_ok "direct http://$S:8080/ fails; denied $d0 -> $d1, app_deny $a0 -> $a1"

hs=$(appj handshakes)
((hs >= 18)) || sl_fail "show apps counts $hs handshakes, expected at least 18"
sl_ok "show apps: $hs handshakes, $(appj bytes_out) bytes out, $(appj errors) errors"
sl_assert_alive
sl_log "tls terminate test passed"
