#!/usr/bin/env bash
# The TLS relay benchmark (bench/results/tls.json; method in bench/README.md).
#
#   bench/tls.sh                all halves, then bench/results/tls.json
#   bench/tls.sh haproxy|stunnel|sluice   one half -> bench/work/tls-NAME.json
#
# The same HTTPS download (TLS 1.3, AES-128-GCM, the demo certificate: ECDSA
# P-256) terminated three ways, the plaintext coming from scripts/bulkserver.py:
#  - HAProxy 2.6 (`mode tcp`, `ssl crt`, one thread) and stunnel 5 (one
#    process) in a gateway namespace joined by veths (GSO/GRO/TSO off) to a
#    client and a server namespace: their process CPU (utime + stime);
#  - Sluice's demo application between the usual tap namespaces: the
#    workers' cycles outside the port bursts (cycles_work) plus sluice-cp's
#    process CPU (it runs the handshake), and the same with cycles_io.
# Then full handshakes per second with `openssl s_time -new` (one client
# process, 5 s): through Sluice (one sluice-cp core does every handshake)
# and against `openssl s_server` with the same certificate on the server
# namespace, over the same taps.  handshake_ratio = sluice / s_server; and
# the CPU each spent per handshake (sluice-cp + worker cycles_work against
# s_server's process CPU): handshake_cpu_ratio = s_server / sluice.
#
# Environment: BENCH_TLS_SIZE (download, default 1G), BENCH_TLS_TIME (s_time
# seconds, 5).  A half that fails leaves null fields and its reason in
# "error"; exit status 0 only when every half produced numbers.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

size=${BENCH_TLS_SIZE:-1G}
stime=${BENCH_TLS_TIME:-5}
benchdir=$SL_ROOT/bench
work=$benchdir/work
results=$benchdir/results
mkdir -p "$work" "$results"
say() { printf 'bench tls: %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || sl_die "bench tls: must run as root"
clk_tck=$(getconf CLK_TCK)
SUITE=TLS_AES_128_GCM_SHA256

half_init() {
	run=$(mktemp -d "/run/sluice-bench-tls-$1.XXXXXX")
	SL_WORK=$run
	SL_NS_SWEEP=1
	sl_state_init "$run/state"
	sl_track path "$run"
	half=$1
	trap 'rc=$?; set +e; trap - EXIT INT TERM; keep_logs; exit $rc' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	sl_certs >/dev/null
}

keep_logs() {
	local f
	for f in "$run"/*.log; do
		[[ -e $f ]] && cp "$f" "$work/tls-$half-$(basename "$f")"
	done
	sl_cleanup_state "$run/state"
}

# download NS ADDR PATH: curl over TLS 1.3 AES-128-GCM to ADDR:443 as
# demo.sluice.test (the certificate's name); prints "bytes seconds"
download() {
	ip netns exec "$1" curl -sf -m 900 --tlsv1.3 --tls13-ciphers "$SUITE" --cacert "$SL_CERTS/ca.pem" \
		--connect-to "demo.sluice.test:443:$2:443" -o /dev/null -w '%{size_download} %{time_total}\n' \
		"https://demo.sluice.test$3"
}

# s_time NS HOST:PORT: full handshakes (no resumption) for $stime seconds;
# prints "CONNECTIONS SECONDS" (empty when s_time reported nothing)
s_time() {
	local out
	out=$(ip netns exec "$1" openssl s_time -new -connect "$2" -time "$stime" -ciphersuites "$SUITE" \
		-CAfile "$SL_CERTS/ca.pem" 2>&1) || true
	# "N connections in T real seconds, ..."
	awk '/connections in .* real seconds/ { for (i = 1; i <= NF; i++) if ($i == "in") { print $1, $(i + 1); exit } }' <<<"$out"
}

wsum() { # wsum FIELD: that counter of `show stats` summed over the workers
	sl_ctl_json show stats | jq --arg f "$1" '[.lcores[] | select(.name != "main") | .[$f]] | add'
}

# ------------------------------------------------------- HAProxy / stunnel ----
gateway_topology() { # three namespaces joined by veths, offloads off
	sl_gateway_topology "slt$$" 101
	nc=$GW_NC ng=$GW_NG ns=$GW_NS g_c=$GW_G_C s_addr=$GW_S_ADDR
	SL_NS_S=$ns SL_S_ADDR=$s_addr sl_bulk_server_start 9000
	ip netns exec "$ns" curl -sf -m 300 -o /dev/null "http://$s_addr:9000/sha256/$size" || sl_fail "prewarm"
	cat "$SL_CERTS/demo.pem" "$SL_CERTS/demo.key" >"$run/demo-full.pem"
	chmod 600 "$run/demo-full.pem"
}

# measure NAME PID: the download through $g_c:443 while PID's CPU is counted
measure_gateway() {
	local name=$1 pid=$2 c0 c1 r
	download "$nc" "$g_c" /bytes/64M >/dev/null || sl_fail "$name: warm-up download failed"
	c0=$(sl_proc_cpu_ticks "$pid")
	r=$(download "$nc" "$g_c" "/bytes/$size") || sl_fail "$name: download failed"
	c1=$(sl_proc_cpu_ticks "$pid")
	jq -n --arg r "$r" --argjson ticks $((c1 - c0)) --argjson hz "$clk_tck" --arg setup "$3" '
		($r | split(" ") | map(tonumber)) as [$b, $s] | ($ticks / $hz) as $cpu |
		{ bytes: $b, seconds: $s, cpu_s: $cpu, cpu_s_per_gb: ($cpu / ($b / 1e9)), setup: $setup }' \
		>"$work/tls-$name.json"
	say "$name: $(jq -c . "$work/tls-$name.json")"
}

run_haproxy() {
	half_init haproxy
	command -v haproxy >/dev/null || "$SL_ROOT/scripts/setup.sh" --bench >&2 || sl_fail "no haproxy"
	gateway_topology
	cat >"$run/haproxy.cfg" <<EOF
global
	nbthread 1
	maxconn 4096
	ssl-default-bind-options ssl-min-ver TLSv1.3
	ssl-default-bind-ciphersuites $SUITE
defaults
	mode tcp
	timeout connect 5s
	timeout client 300s
	timeout server 300s
frontend tls
	bind $g_c:443 ssl crt $run/demo-full.pem
	default_backend plain
backend plain
	server bulk $s_addr:9000
EOF
	haproxy -c -f "$run/haproxy.cfg" >&2 || sl_fail "haproxy rejects its config"
	sl_spawn "$run/haproxy.log" haproxy --ns "$ng" -- haproxy -db -f "$run/haproxy.cfg"
	local hp=$SL_LAST_PID
	sl_wait_for 10 "haproxy on $g_c:443" sl_listening "$ng" 443 || sl_fail "haproxy did not start"
	measure_gateway haproxy "$hp" "haproxy 2.6 -db, nbthread 1, mode tcp, ssl crt (TLS 1.3 $SUITE), veths with tso/gso/gro off"
}

run_stunnel() {
	half_init stunnel
	command -v stunnel4 >/dev/null || "$SL_ROOT/scripts/setup.sh" --bench >&2 || sl_fail "no stunnel4"
	gateway_topology
	cat >"$run/stunnel.conf" <<EOF
foreground = yes
pid =
[tls]
accept = $g_c:443
connect = $s_addr:9000
cert = $run/demo-full.pem
sslVersionMin = TLSv1.3
ciphersuites = $SUITE
EOF
	sl_spawn "$run/stunnel.log" stunnel --ns "$ng" -- stunnel4 "$run/stunnel.conf"
	local sp=$SL_LAST_PID
	sl_wait_for 10 "stunnel on $g_c:443" sl_listening "$ng" 443 || sl_fail "stunnel did not start"
	measure_gateway stunnel "$sp" "stunnel4 (one process), TLS 1.3 $SUITE, veths with tso/gso/gro off"
}

# ---------------------------------------------------------------- Sluice ----
run_sluice() {
	half_init sluice
	sl_need_binaries
	local id=$$
	SL_PREFIX=slbl$id SL_NS_C=slbl${id}c SL_NS_S=slbl${id}s SL_TAP_C=slbl${id}tc SL_TAP_S=slbl${id}ts
	SL_SOCK=$run/ctl.sock
	SL_CONF=$run/sluice.conf
	SL_MEM_MB=1024
	SL_LCORES=${BENCH_LCORES:-0-1}
	SL_CONF_EXTRA="apps = ( $(sl_app_conf demo "$SL_S_ADDR" 443 9000) );"
	sl_conf_write "$SL_CONF"
	sl_appliance_start
	sl_bulk_server_start 9000
	ip netns exec "$SL_NS_S" curl -sf -m 300 -o /dev/null "http://$SL_S_ADDR:9000/sha256/$size" || sl_fail "prewarm"
	download "$SL_NS_C" "$SL_S_ADDR" /bytes/64M >/dev/null || sl_fail "warm-up download through the relay"
	local s0 s1 c0 c1 r hs st w0 w1 h0 h1 p0 p1 sp
	s0=$(sl_ctl_json show stats)
	c0=$(sl_proc_cpu_ticks "$SL_CP_PID")
	r=$(download "$SL_NS_C" "$SL_S_ADDR" "/bytes/$size") || sl_fail "download through the relay"
	s1=$(sl_ctl_json show stats)
	c1=$(sl_proc_cpu_ticks "$SL_CP_PID")
	# handshakes: through the relay, then openssl s_server with the same
	# certificate in the server namespace (the relay's app is deleted first:
	# otherwise it would answer for :443).  One s_time client is bound by the
	# round trips as much as by the server, so the CPU each side spent per
	# handshake is measured too: sluice-cp's process CPU plus the worker's
	# cycles_work, against s_server's process CPU.
	w0=$(wsum cycles_work)
	h0=$(sl_proc_cpu_ticks "$SL_CP_PID")
	hs=$(s_time "$SL_NS_C" "$SL_S_ADDR:443")
	h1=$(sl_proc_cpu_ticks "$SL_CP_PID")
	w1=$(wsum cycles_work)
	sl_ctl app del demo >/dev/null
	sl_spawn "$run/s_server.log" s_server --ns "$SL_NS_S" -- openssl s_server -quiet -accept 443 \
		-cert "$SL_CERTS/demo.pem" -key "$SL_CERTS/demo.key" -ciphersuites "$SUITE" -naccept 1000000
	sp=$SL_LAST_PID
	sl_wait_for 10 "s_server" sl_listening "$SL_NS_S" 443 || sl_fail "openssl s_server did not start"
	p0=$(sl_proc_cpu_ticks "$sp")
	st=$(s_time "$SL_NS_C" "$SL_S_ADDR:443")
	p1=$(sl_proc_cpu_ticks "$sp")
	[[ -n $hs && -n $st ]] || sl_fail "s_time gave no rate (relay '$hs', s_server '$st')"
	jq -n --arg r "$r" --argjson s0 "$s0" --argjson s1 "$s1" --argjson cp $((c1 - c0)) \
		--argjson hz "$clk_tck" --arg hs "$hs" --arg st "$st" --argjson hcp $((h1 - h0)) \
		--argjson hw "$((w1 - w0))" --argjson scp $((p1 - p0)) '
		def wsum($s; $f): [$s.lcores[] | select(.name != "main") | .[$f]] | add;
		($r | split(" ") | map(tonumber)) as [$b, $sec] | ($s1.tsc_hz) as $tsc
		| ((wsum($s1; "cycles_work") - wsum($s0; "cycles_work")) / $tsc) as $work
		| ((wsum($s1; "cycles_io") - wsum($s0; "cycles_io")) / $tsc) as $io
		| ($cp / $hz) as $cps | ($b / 1e9) as $gb
		| ($hs | split(" ") | map(tonumber)) as [$hn, $ht]
		| ($st | split(" ") | map(tonumber)) as [$sn, $stt]
		| { bytes: $b, seconds: $sec, worker_work_s: $work, worker_io_s: $io, cp_cpu_s: $cps,
		    cpu_s_per_gb: (($work + $cps) / $gb), cpu_s_per_gb_with_io: (($work + $io + $cps) / $gb),
		    handshakes: $hn, handshakes_per_s: ($hn / $ht * 10 | round / 10),
		    handshake_cp_cpu_s: ($hcp / $hz), handshake_worker_work_s: ($hw / $tsc),
		    handshake_cpu_ms: (if $hn > 0 then (($hcp / $hz + $hw / $tsc) / $hn * 1000) else null end),
		    s_time_handshakes: $sn, s_time_per_s: ($sn / $stt * 10 | round / 10),
		    s_server_cpu_s: ($scp / $hz),
		    s_server_cpu_ms: (if $sn > 0 then ($scp / $hz / $sn * 1000) else null end) }' >"$work/tls-sluice.json"
	say "sluice: $(jq -c . "$work/tls-sluice.json")"
}

# ------------------------------------------------------------------ merge ----
half_error() {
	local why
	why=$(grep -E 'FAIL:|ERROR:' "$work/tls-$1.log" 2>/dev/null | tail -n 1 | sed -E 's/^[0-9:.]+ (FAIL|ERROR): //')
	printf '%s: %s' "$1" "${why:-failed (see bench/work/tls-$1.log)}"
}

run_all() {
	local errs=() h t s h_ err=null
	for h_ in haproxy stunnel sluice; do
		rm -f "$work/tls-$h_.json"
		say "$h_: $size HTTPS download (log bench/work/tls-$h_.log)"
		"${BASH_SOURCE[0]}" "$h_" >"$work/tls-$h_.log" 2>&1 || errs+=("$(half_error "$h_")")
	done
	h=$(cat "$work/tls-haproxy.json" 2>/dev/null || echo null)
	t=$(cat "$work/tls-stunnel.json" 2>/dev/null || echo null)
	s=$(cat "$work/tls-sluice.json" 2>/dev/null || echo null)
	((${#errs[@]} == 0)) || err=$(printf '%s\n' "${errs[@]}" | jq -R . | jq -s 'join("; ")')
	jq -n --argjson h "$h" --argjson t "$t" --argjson s "$s" --argjson err "$err" --arg size "$size" \
		--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg suite "$SUITE" \
		--arg commit "$(git -C "$SL_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" '
		def r3: if . == null then null else (. * 1000 | round) / 1000 end;
		([$h.cpu_s_per_gb, $t.cpu_s_per_gb] | map(select(. != null)) | min) as $best
		| {
		  sluice_cpu_s_per_gb: ($s.cpu_s_per_gb // null | r3),
		  sluice_cpu_s_per_gb_with_io: ($s.cpu_s_per_gb_with_io // null | r3),
		  haproxy_cpu_s_per_gb: ($h.cpu_s_per_gb // null | r3),
		  stunnel_cpu_s_per_gb: ($t.cpu_s_per_gb // null | r3),
		  ratio: (if ($s.cpu_s_per_gb // null) != null and ($best // 0) > 0
		          then ($s.cpu_s_per_gb / $best | r3) else null end),
		  handshakes_per_s: ($s.handshakes_per_s // null),
		  s_time_per_s: ($s.s_time_per_s // null),
		  handshake_ratio: (if ($s.s_time_per_s // 0) > 0 then ($s.handshakes_per_s / $s.s_time_per_s | r3) else null end),
		  handshake_cpu_ms: ($s.handshake_cpu_ms // null | r3),
		  s_server_handshake_cpu_ms: ($s.s_server_cpu_ms // null | r3),
		  handshake_cpu_ratio: (if ($s.handshake_cpu_ms // 0) > 0 and ($s.s_server_cpu_ms // null) != null
		                        then ($s.s_server_cpu_ms / $s.handshake_cpu_ms | r3) else null end),
		  error: $err, date: $date,
		  method: ("One \($size) HTTPS download (TLS 1.3 \($suite), ECDSA P-256 certificate; GB = 1e9 bytes) of scripts/bulkserver.py plaintext. HAProxy 2.6 (mode tcp + ssl crt, nbthread 1) and stunnel4 in a gateway netns joined by veths with tso/gso/gro off: utime+stime of their process. Sluice: the demo app between net_tap ports, one worker: workers cycles_work / tsc_hz plus sluice-cp utime+stime; with_io adds cycles_io. ratio = Sluice / the better of HAProxy and stunnel. Handshakes: openssl s_time -new for \(env.BENCH_TLS_TIME // "5") s through the relay (one sluice-cp thread does them all) and against openssl s_server with the same certificate over the same taps; handshake_ratio = relay / s_server rate. Both are one serial client, bound by round trips too, so the CPU per full handshake is also reported: sluice-cp process CPU + worker cycles_work over the relay run, s_server process CPU over its run; handshake_cpu_ratio = s_server / Sluice (above 1: Sluice spends less per handshake)."),
		  haproxy: $h, stunnel: $t, sluice: $s, env: {commit: $commit}
		}' >"$results/tls.json"
	say "wrote $results/tls.json"
	jq -r '"tls: sluice \(.sluice_cpu_s_per_gb) CPU s/GB (\(.sluice_cpu_s_per_gb_with_io) with I/O), haproxy \(.haproxy_cpu_s_per_gb), stunnel \(.stunnel_cpu_s_per_gb), ratio \(.ratio); handshakes \(.handshakes_per_s)/s vs s_server \(.s_time_per_s)/s (\(.handshake_ratio)), CPU per handshake \(.handshake_cpu_ms) ms vs \(.s_server_handshake_cpu_ms) ms (\(.handshake_cpu_ratio))" + (if .error then "\nINCOMPLETE: \(.error)" else "" end)' \
		"$results/tls.json"
	((${#errs[@]} == 0))
}

case ${1:-all} in
haproxy) run_haproxy ;;
stunnel) run_stunnel ;;
sluice) run_sluice ;;
all) run_all ;;
*) sl_die "usage: bench/tls.sh [haproxy|stunnel|sluice|all]" ;;
esac
