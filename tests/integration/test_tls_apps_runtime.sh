#!/usr/bin/env bash
# Applications are independent and change at runtime: while the demo
# application carries a 100 MB download, a second application (198.19.0.10:
# 8443 -> 9000) is added with `sluicectl app add`, serves a request, and is
# deleted with `app del`; the download completes intact, the deleted
# application's port relays nothing any more, and bad `app add` requests
# (unreadable key, wrong key, duplicate name, missing port) are refused with
# a message and change nothing.  ~20 s.
# timeout: 150
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tls_apps_runtime
SL_ON_FAIL=sl_tcp_diag
sl_certs
S=$SL_S_ADDR
SL_CONF_EXTRA="apps = ( $(sl_app_conf demo "$S" 443 8080) );"
sl_appliance_start
sl_bulk_server_start 8080
www=$SL_WORK/www
mkdir -p "$www"
echo "second app" >"$www/index.html"
sl_http_start "$www" 9000
CA=$SL_CERTS/ca.pem
C="ip netns exec $SL_NS_C curl -sf --cacert $CA"

want=$($C -m 20 "https://$S/sha256/100M")
( $C -m 120 --limit-rate 10M "https://$S/bytes/100M" | sha256sum | cut -d' ' -f1 >"$SL_WORK/long" ) &
long=$!
sleep 1
n0=$(sl_ctl_json show rules | jq '.rules | length')
sl_expect_rc 1 "app add with an unreadable key" sl_ctl app add bad server "$S" secure 8444 plain 9001 \
	cert "$SL_CERTS/demo.pem" key /nonexistent.key
sl_expect_rc 1 "app add with another certificate's key" sl_ctl app add bad server "$S" secure 8444 \
	plain 9001 cert "$SL_CERTS/demo.pem" key "$SL_CERTS/origin.key"
sl_expect_rc 1 "app add with the demo's name" sl_ctl app add demo server "$S" secure 8444 plain 9001 \
	cert "$SL_CERTS/demo.pem" key "$SL_CERTS/demo.key"
sl_expect_rc 1 "app add without a plain port" sl_ctl app add bad server "$S" secure 8444 \
	cert "$SL_CERTS/demo.pem" key "$SL_CERTS/demo.key"
(($(sl_ctl_json show rules | jq '.rules | length') == n0)) || sl_fail "a refused app add left rules behind"
(($(sl_ctl_json show apps | jq '.apps | length') == 1)) || sl_fail "a refused app add left an entry"
sl_ok "bad app add requests refused, nothing changed"

sl_run "app add second" sl_ctl app add second server "$S" secure 8443 plain 9000 \
	cert "$SL_CERTS/demo.pem" key "$SL_CERTS/demo.key"
out=$($C -m 10 "https://$S:8443/") || sl_fail "the new application does not answer"
[[ $out == "second app" ]] || sl_fail "unexpected answer: $out"
hs=$(sl_ctl_json show apps | jq -r '.apps[] | select(.name == "second") | .handshakes')
((hs >= 1)) || sl_fail "show apps: the new application counts $hs handshakes"
sl_ok "the application added at runtime relays ($hs handshake)"
sl_run "app del second" sl_ctl app del second
(($(sl_ctl_json show apps | jq '[.apps[] | select(.name == "second")] | length') == 0)) ||
	sl_fail "show apps still lists the deleted application"
if $C -m 3 "https://$S:8443/" >/dev/null 2>&1; then
	sl_fail "the deleted application still relays"
fi
sl_ok "after app del its port relays nothing"
kill -0 "$long" 2>/dev/null || sl_fail "the demo's download ended before the changes were done: they no longer overlap"
wait "$long" || true
[[ $(cat "$SL_WORK/long") == "$want" ]] || sl_fail "the demo's 100 MB differ after the changes"
sl_ok "the demo application's 100 MB download completed intact meanwhile"
sl_assert_alive
sl_log "tls apps runtime test passed"
