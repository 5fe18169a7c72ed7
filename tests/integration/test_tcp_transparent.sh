#!/usr/bin/env bash
# The transparent proxy: with `transparent = true` on a proxy rule the
# server leg uses the client's own address and port, so the HTTP server in
# the server namespace logs the client (198.18.0.2), not the appliance; the
# server's replies to the client's address come back to the appliance (the
# server's default route) and are found in the flow table although they look
# forwarded.  The body arrives intact (sha256) and both legs close.  ~10 s.
# timeout: 90
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tcp_transparent
SL_ON_FAIL=sl_tcp_diag
PORT=9000
sl_conf_tcp "time_wait_ms = 1000;"
SL_CONF_RULES="{ dst = \"$SL_S_ADDR/32\"; dport = $PORT; proto = \"tcp\"; action = \"proxy\"; transparent = true; }"
sl_appliance_start

www=$SL_WORK/www
mkdir -p "$www"
head -c $((20 * 1024 * 1024 + 7)) /dev/urandom >"$www/blob"
want=$(sha256sum <"$www/blob" | cut -d' ' -f1)
sl_http_start "$www" "$PORT"

sl_expect_rc 0 "show rules" sl_ctl_json show rules
[[ $(jq -r '.rules[0].transparent' <<<"$SL_OUT") == true ]] || sl_fail "rule not transparent: $SL_OUT"
t0=$(sl_tcp_json)
sl_run "curl 20 MB through the transparent proxy" ip netns exec "$SL_NS_C" \
	curl -sSf --max-time 60 -o "$SL_WORK/out" "http://$SL_S_ADDR:$PORT/blob"
got=$(sha256sum <"$SL_WORK/out" | cut -d' ' -f1)
[[ $got == "$want" ]] || sl_fail "sha256 $got != $want"
sl_ok "sha256 matches"
t1=$(sl_tcp_json)
sl_tcp_moved proxied "$t0" "$t1" 1
peer=$(grep -o '^[0-9.]* - - .*"GET /blob' "$SL_WORK/http.log" | awk '{print $1}' | tail -1)
[[ $peer == "$SL_C_ADDR" ]] || sl_fail "the server saw $peer, not the client $SL_C_ADDR"
sl_ok "the server saw the client's own address ($peer)"
active0() { (($(sl_tcp_field active) == 0)); }
sl_wait_for 10 "both legs to close" active0 || sl_fail "connections left: $(sl_tcp_json)"
sl_ok "both legs closed"
sl_assert_alive
sl_log "transparent proxy test passed"
