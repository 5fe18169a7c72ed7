#!/usr/bin/env bash
# TCP through the gateway with Linux peers: curl a known file from an HTTP
# server in the server namespace (sha256 must match), then iperf3 for 5 s in
# each direction with non-zero throughput.
# timeout: 150
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init curl_iperf
sl_appliance_start

www=$SL_WORK/www
mkdir -p "$www"
echo "hello from $SL_NS_S" >"$www/index.html"
head -c $((4 * 1024 * 1024 + 123)) /dev/urandom >"$www/blob.bin"
want=$(sha256sum <"$www/blob.bin" | cut -d' ' -f1)
sl_http_start "$www" 8080

sl_expect_rc 0 "curl index.html" ip netns exec "$SL_NS_C" curl -sSf --max-time 20 "http://$SL_S_ADDR:8080/"
[[ $SL_OUT == "hello from $SL_NS_S" ]] || sl_fail "index.html content differs: $SL_OUT"

for i in 1 2; do
	rm -f "$SL_WORK/blob.out"
	sl_run "curl a 4 MB file (#$i)" ip netns exec "$SL_NS_C" \
		curl -sSf --max-time 60 -o "$SL_WORK/blob.out" "http://$SL_S_ADDR:8080/blob.bin"
	got=$(sha256sum <"$SL_WORK/blob.out" | cut -d' ' -f1)
	[[ $got == "$want" ]] || sl_fail "sha256 of the downloaded file $got != $want"
	sl_ok "sha256 matches ($want)"
done

sl_iperf_server_start 5201
for dir in "" -R; do
	out=$SL_WORK/iperf3${dir}.json
	sl_log "+ iperf3 -c $SL_S_ADDR -t 5 -J $dir"
	rc=0
	ip netns exec "$SL_NS_C" timeout 40 iperf3 -c "$SL_S_ADDR" -p 5201 -t 5 -J $dir >"$out" 2>&1 || rc=$?
	if ((rc != 0)); then
		jq -r '.error // empty' "$out" >&2 2>/dev/null || tail -n 20 "$out" >&2
		sl_fail "iperf3 $dir exited $rc"
	fi
	bps=$(sl_iperf_bps "$out")
	((bps > 0)) || sl_fail "iperf3 $dir: zero throughput"
	retr=$(jq -r '.end.sum_sent.retransmits // "n/a"' "$out")
	sl_ok "iperf3 ${dir:-(client->server)}: $((bps / 1000000)) Mbit/s received, $retr retransmits"
done

sl_log "drop counters after the transfers (for the record):"
sl_ctl show errors | sed 's/^/    | /' >&2 || true
sl_ctl show ports | sed 's/^/    | /' >&2 || true
sl_assert_alive
sl_log "curl/iperf3 test passed"
