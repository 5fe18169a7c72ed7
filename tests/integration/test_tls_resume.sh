#!/usr/bin/env bash
# S1 session resumption, with openssl s_client as the client: a session
# saved with -sess_out is offered with -sess_in and the second handshake
# reports "Reused" -- TLS 1.2 (session ticket, then session ID with
# -no_ticket) and TLS 1.3 (ticket / PSK); `resumptions` in show apps moves.
# The contexts live in sluice-cp, one per application, so every worker's
# clients share them.  ~10 s.
# timeout: 90
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tls_resume
sl_certs
S=$SL_S_ADDR
SL_CONF_EXTRA="apps = ( $(sl_app_conf demo "$S" 443 8080) );"
sl_appliance_start
sl_bulk_server_start 8080
resumptions() { sl_ctl_json show apps | jq -r '.apps[] | select(.name == "demo") | .resumptions'; }

sclient() { # sclient SESSION-OPTION FILE VERSION-OPTIONS...
	local so=$1 f=$2
	shift 2
	printf 'GET /sha256/1K HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n' |
		ip netns exec "$SL_NS_C" timeout 10 openssl s_client -ign_eof -CAfile "$SL_CERTS/ca.pem" \
			-connect "$S:443" "$so" "$f" "$@" 2>&1
}

for v in "-tls1_2" "-tls1_2 -no_ticket" "-tls1_3"; do
	r0=$(resumptions)
	f=$SL_WORK/sess.$RANDOM
	# shellcheck disable=SC2086
	out=$(sclient -sess_out "$f" $v)
	grep -q "^New, " <<<"$out" || sl_fail "$v: first handshake not new: $(grep -m1 -E '^(New|Reused)' <<<"$out")"
	[[ -s $f ]] || sl_fail "$v: no session saved"
	# shellcheck disable=SC2086
	out=$(sclient -sess_in "$f" $v)
	grep -q "^Reused, " <<<"$out" || sl_fail "$v: the second handshake was not resumed: $(grep -m1 -E '^(New|Reused)' <<<"$out")"
	r1=$(resumptions)
	((r1 > r0)) || sl_fail "$v: resumptions did not move ($r0 -> $r1)"
	sl_ok "$v: Reused (resumptions $r0 -> $r1)"
done
sl_assert_alive
sl_log "tls resumption test passed"
