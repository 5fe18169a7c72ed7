#!/usr/bin/env bash
# S1 TLS offload relay, against real clients (curl, openssl s_client): the
# demo application (198.19.0.10: 443 -> 8080) terminates TLS 1.2 and 1.3
# with each AEAD (the handshake in sluice-cp, records on the worker); the
# client verifies the appliance's certificate against the test CA as the
# server's own; a 100 MB download hashes correctly, clean and with 1% drop +
# 1% reorder on the client port; the plain port is denied from the client
# side (the connection fails, `denied` and `app_deny` move); `show apps`
# counts the handshakes.  100 MB: many full 16 KB records and windows, ~2 s
# clean, ~10 s impaired.  ~60 s in all.
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
for o in "--tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256" \
	"--tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384" \
	"--tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256" \
	"--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256" \
	"--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES256-GCM-SHA384" \
	"--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-CHACHA20-POLY1305"; do
	# shellcheck disable=SC2086
	got=$(ip netns exec "$SL_NS_C" curl -sf -m 20 --cacert "$CA" $o -w ' %{ssl_version}' \
		"https://$S/bytes/1M" -o >(sha256sum | cut -d' ' -f1 >"$SL_WORK/h")) ||
		sl_fail "curl $o failed"
	sleep 0.2
	[[ $(cat "$SL_WORK/h") == "$want" ]] || sl_fail "curl $o: sha256 differs"
	sl_ok "curl $o: 1 MiB intact"
done
# openssl s_client, whose negotiated suite is printed
for v in "-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256" "-tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384"; do
	# shellcheck disable=SC2086
	out=$(printf 'GET /sha256/1M HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n' |
		ip netns exec "$SL_NS_C" timeout 10 openssl s_client -quiet -ign_eof -CAfile "$CA" \
			-verify_return_error -connect "$S:443" $v 2>&1) || true
	grep -q "$want" <<<"$out" || sl_fail "openssl s_client $v: no answer: $out"
	sl_ok "openssl s_client $v: verified and answered"
done

# --- 100 MB, clean and impaired --------------------------------------------------
for imp in off on; do
	if [[ $imp == on ]]; then
		sl_run "impair the client port" sl_ctl port impair "$SL_PORT_C" drop 1% reorder 1%
	fi
	want=$(ip netns exec "$SL_NS_C" curl -sf -m 60 --cacert "$CA" "https://$S/sha256/100M")
	got=$(ip netns exec "$SL_NS_C" curl -sf -m 120 --cacert "$CA" "https://$S/bytes/100M" | sha256sum | cut -d' ' -f1)
	[[ $got == "$want" ]] || sl_fail "100 MB (impairment $imp): sha256 $got != $want"
	sl_ok "100 MB through the relay intact (impairment $imp)"
done
sl_run "impairment off" sl_ctl port impair "$SL_PORT_C" off

# --- the plain port is denied -----------------------------------------------------
d0=$(appj denied)
if ip netns exec "$SL_NS_C" curl -sf -m 3 "http://$S:8080/sha256/1M" >/dev/null 2>&1; then
	sl_fail "the plain port answered the client directly"
fi
d1=$(appj denied)
((d1 > d0)) || sl_fail "denied did not move ($d0 -> $d1)"
sl_ok "direct http://$S:8080/ fails; denied $d0 -> $d1"
sl_ctl show errors | grep -q app_deny || sl_fail "no app_deny drops in show errors"

hs=$(appj handshakes)
((hs >= 12)) || sl_fail "show apps counts $hs handshakes, expected at least 12"
sl_ok "show apps: $hs handshakes, $(appj bytes_out) bytes out, $(appj errors) errors"
sl_assert_alive
sl_log "tls terminate test passed"
