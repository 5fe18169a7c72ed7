#!/usr/bin/env bash
# The TCP relay benchmark (bench/results/tcp.json; method in bench/README.md).
#
#   bench/tcp.sh            both halves, then bench/results/tcp.json
#   bench/tcp.sh haproxy    HAProxy only  -> bench/work/tcp-haproxy.json
#   bench/tcp.sh sluice     Sluice only   -> bench/work/tcp-sluice.json
#
# HAProxy 2.6 (`mode tcp`, one thread) in a gateway namespace between a
# client and a server namespace (veths, GSO/GRO/TSO off), and Sluice's proxy
# rule between the usual tap namespaces, relay the same download from
# scripts/bulkserver.py.  CPU per relayed GB (1e9 bytes): HAProxy's process
# CPU (utime + stime); Sluice's workers' cycles outside the port bursts
# (cycles_work) plus sluice-cp's process CPU, and the same with the burst
# cycles (cycles_io) included.  Then 10,000 idle connections through the
# proxy: memory per connection = 2 x conn_bytes (both legs) + mbufs still
# held per connection.
#
# Each half runs in its own process with its own cleanup; a half that fails
# leaves null fields and its reason in "error", and the other still runs.
# Exit status 0 only when both halves produced numbers.
#
# Environment: BENCH_TCP_SIZE (download, default 2G), BENCH_TCP_IDLE (idle
# connections, 10000), BENCH_LCORES (Sluice, default 0-1: one worker),
# BENCH_TCP_MEM_MB (Sluice hugepage memory, 1024), BENCH_TCP_CONF (Sluice's
# tcp settings, default "max_conns = 32768;": both legs of 10,000 idle
# connections must fit).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

size=${BENCH_TCP_SIZE:-2G}
idle=${BENCH_TCP_IDLE:-10000}
benchdir=$SL_ROOT/bench
work=$benchdir/work
results=$benchdir/results
mkdir -p "$work" "$results"
say() { printf 'bench tcp: %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || sl_die "bench tcp: must run as root"
size_bytes=$("$SL_PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import bulkserver; print(bulkserver.parse_size(sys.argv[2]) or "")' \
	"$SL_ROOT/scripts" "$size")
[[ -n $size_bytes ]] || sl_die "bench tcp: bad BENCH_TCP_SIZE $size"
clk_tck=$(getconf CLK_TCK)

half_init() { # half_init NAME: private run dir, state file, cleanup on exit
	run=$(mktemp -d "/run/sluice-bench-$1.XXXXXX")
	SL_WORK=$run
	SL_NS_SWEEP=1 # everything inside the namespaces we create was started by us
	sl_state_init "$run/state"
	sl_track path "$run"
	half=$1
	# keep the daemons' logs next to the half's own log, then undo everything
	trap 'rc=$?; set +e; trap - EXIT INT TERM; sl_cleanup_state_keep_logs; exit $rc' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

sl_cleanup_state_keep_logs() {
	local f
	for f in "$run"/*.log; do
		[[ -e $f ]] && cp "$f" "$work/tcp-$half-$(basename "$f")"
	done
	sl_cleanup_state "$run/state"
}

# bulk NS HOST JSON_OUT ARGS...: bulkclient in NS against HOST:9000
bulk() {
	local ns=$1 host=$2 out=$3 rc=0
	shift 3
	ip netns exec "$ns" timeout -k 5 900 "$SL_PY" "$SL_ROOT/scripts/bulkclient.py" \
		--host "$host" --port 9000 --json-out "$out" "$@" >/dev/null 2>>"$SL_WORK/bulkclient.log" || rc=$?
	[[ -s $out ]] && say "bulkclient $*: $(jq -c '{ok, failed, bytes, seconds, mbit_s, errors}' "$out")"
	return "$rc"
}

# ---------------------------------------------------------------- HAProxy ----
run_haproxy() {
	half_init haproxy
	command -v haproxy >/dev/null || "$SL_ROOT/scripts/setup.sh" --bench >&2 ||
		sl_fail "haproxy is not installed and scripts/setup.sh --bench could not install it"
	sl_gateway_topology "slb$$" 100
	local nc=$GW_NC ng=$GW_NG ns=$GW_NS g_c=$GW_G_C s_addr=$GW_S_ADDR
	SL_NS_S=$ns SL_S_ADDR=$s_addr sl_bulk_server_start
	cat >"$run/haproxy.cfg" <<EOF
global
	nbthread 1
	maxconn 4096
defaults
	mode tcp
	timeout connect 5s
	timeout client 300s
	timeout server 300s
frontend relay
	bind $g_c:9000
	default_backend bulk
backend bulk
	server bulk $s_addr:9000
EOF
	haproxy -c -f "$run/haproxy.cfg" >&2 || sl_fail "haproxy rejects $run/haproxy.cfg"
	sl_spawn "$run/haproxy.log" haproxy --ns "$ng" -- haproxy -db -f "$run/haproxy.cfg"
	local hp=$SL_LAST_PID
	sl_wait_for 10 "haproxy on $g_c:9000" sl_listening "$ng" 9000 ||
		sl_fail "haproxy did not start: $(tail -n 5 "$run/haproxy.log")"
	[[ $(readlink "/proc/$hp/exe") == */haproxy ]] || sl_fail "pid $hp is not haproxy"
	ip netns exec "$ns" curl -sf -m 120 -o /dev/null "http://$s_addr:9000/sha256/$size" || sl_fail "prewarm /sha256"
	bulk "$nc" "$g_c" "$run/warm.json" download --size 64M || sl_fail "warm-up download through haproxy"

	local c0 c1 t0 t1
	c0=$(sl_proc_cpu_ticks "$hp")
	t0=$(date +%s%N)
	bulk "$nc" "$g_c" "$run/dl.json" download --size "$size" || sl_fail "download through haproxy"
	t1=$(date +%s%N)
	c1=$(sl_proc_cpu_ticks "$hp")
	jq -n --slurpfile r "$run/dl.json" --argjson ticks $((c1 - c0)) --argjson hz "$clk_tck" \
		--argjson wall $((t1 - t0)) --arg ver "$(haproxy -v | head -n1)" '
		$r[0] as $r | ($ticks / $hz) as $cpu | {
		  bytes: $r.bytes, seconds: $r.seconds, mbit_s: $r.mbit_s,
		  cpu_s: $cpu, cpu_s_per_gb: ($cpu / ($r.bytes / 1e9)),
		  wall_s: ($wall / 1e9), version: $ver,
		  setup: "haproxy -db, nbthread 1, mode tcp (no splice), client ns -veth- gateway ns -veth- server ns, tso/gso/gro off on every veth end"
		}' >"$work/tcp-haproxy.json"
	say "haproxy: $(jq -c . "$work/tcp-haproxy.json")"
}

# ---------------------------------------------------------------- Sluice ----
run_sluice() {
	half_init sluice
	sl_need_binaries
	local id=$$
	SL_PREFIX=slbt$id
	SL_NS_C=slbt${id}c
	SL_NS_S=slbt${id}s
	SL_TAP_C=slbt${id}tc
	SL_TAP_S=slbt${id}ts
	SL_SOCK=$run/ctl.sock
	SL_CONF=$run/sluice.conf
	SL_MEM_MB=${BENCH_TCP_MEM_MB:-1024}
	SL_LCORES=${BENCH_LCORES:-0-1}
	SL_CONF_RULES=$(sl_conf_proxy_rule 9000)
	sl_conf_tcp "${BENCH_TCP_CONF-max_conns = 32768;}"
	sl_conf_write "$SL_CONF"
	cp "$SL_CONF" "$work/tcp-sluice.conf"
	local chk
	chk=$("$SL_DP" --check "$SL_CONF" 2>&1) || sl_fail "sluice-dp refuses the config: ${chk//$'\n'/ }"
	sl_appliance_start
	sl_bulk_server_start
	ip netns exec "$SL_NS_S" curl -sf -m 120 -o /dev/null "http://$SL_S_ADDR:9000/sha256/$size" ||
		sl_fail "prewarm /sha256"

	local tcp0 tcp1
	tcp0=$(sl_tcp_json) || sl_fail "sluicectl show tcp failed: $tcp0"
	bulk "$SL_NS_C" "$SL_S_ADDR" "$run/warm.json" download --size 64M || sl_fail "warm-up download through the proxy"
	tcp1=$(sl_tcp_json)
	(($(sl_tcp_field proxied "$tcp1") > $(sl_tcp_field proxied "$tcp0"))) ||
		sl_fail "the warm-up download was not proxied (show tcp proxied did not move)"

	local s0 s1 c0 c1
	s0=$(sl_ctl_json show stats)
	c0=$(sl_proc_cpu_ticks "$SL_CP_PID")
	bulk "$SL_NS_C" "$SL_S_ADDR" "$run/dl.json" download --size "$size" || sl_fail "download through the proxy"
	s1=$(sl_ctl_json show stats)
	c1=$(sl_proc_cpu_ticks "$SL_CP_PID")
	local tcp2
	tcp2=$(sl_tcp_json)

	# --- idle connections ---
	local p0 p1 tcp3 hold_pid
	sleep 1
	p0=$(sl_pools_json)
	sl_bulk_spawn idle hold --conns "$idle" --parallel 128 --connect-timeout 60
	hold_pid=$SL_LAST_PID
	sl_bulk_wait_ready idle "$hold_pid" 600
	sleep 2
	p1=$(sl_pools_json)
	tcp3=$(sl_tcp_json)
	(($(sl_tcp_field active "$tcp3") >= idle)) ||
		sl_fail "with $idle idle connections held, show tcp active is $(sl_tcp_field active "$tcp3")"
	sl_bulk_finish idle "$hold_pid" 120 "$idle idle connections held" --term

	jq -n --slurpfile r "$run/dl.json" --argjson s0 "$s0" --argjson s1 "$s1" \
		--argjson cp $((c1 - c0)) --argjson hz "$clk_tck" --argjson t1 "$tcp1" --argjson t2 "$tcp2" \
		--argjson t3 "$tcp3" --argjson p0 "$p0" --argjson p1 "$p1" --argjson n "$idle" \
		--argjson stats_all "$s1" '
		$r[0] as $r
		| def wsum($s; $f): [$s.lcores[] | select(.name != "main") | .[$f]] | add;
		($s1.tsc_hz) as $tsc
		| ((wsum($s1; "cycles_work") - wsum($s0; "cycles_work")) / $tsc) as $work
		| ((wsum($s1; "cycles_io") - wsum($s0; "cycles_io")) / $tsc) as $io
		| ($cp / $hz) as $cps
		| ($r.bytes / 1e9) as $gb
		| (([$p1[].in_use] | add) - ([$p0[].in_use] | add)) as $dm
		| (($stats_all.pools // [])[0].elt_size // 2304) as $elt
		| {
		  bytes: $r.bytes, seconds: $r.seconds, mbit_s: $r.mbit_s,
		  worker_work_s: $work, worker_io_s: $io, cp_cpu_s: $cps,
		  cpu_s_per_gb: (($work + $cps) / $gb),
		  cpu_s_per_gb_with_io: (($work + $io + $cps) / $gb),
		  proxied: ($t2.proxied - $t1.proxied),
		  retransmits: ($t2.retransmits - $t1.retransmits),
		  idle: {
		    conns: $n, active: $t3.active, conn_bytes: $t3.conn_bytes,
		    mbufs_in_use_delta: $dm, mbuf_elt_size: $elt,
		    bytes_per_conn: (2 * $t3.conn_bytes + ([$dm, 0] | max) * $elt / $n)
		  }
		}' >"$work/tcp-sluice.json"
	say "sluice: $(jq -c . "$work/tcp-sluice.json")"
}

# ------------------------------------------------------------------ merge ----
half_error() { # the reason a half failed, from its log
	local log=$work/tcp-$1.log why
	why=$(grep -E 'FAIL:|ERROR:' "$log" 2>/dev/null | tail -n 1 | sed -E 's/^[0-9:.]+ (FAIL|ERROR): //')
	printf '%s: %s' "$1" "${why:-failed (see bench/work/tcp-$1.log)}"
}

run_all() {
	local errs=() h s
	rm -f "$work/tcp-haproxy.json" "$work/tcp-sluice.json"
	say "HAProxy: $size download relayed by haproxy mode tcp (log bench/work/tcp-haproxy.log)"
	"${BASH_SOURCE[0]}" haproxy >"$work/tcp-haproxy.log" 2>&1 || errs+=("$(half_error haproxy)")
	say "Sluice: $size download through the proxy rule, then $idle idle connections (log bench/work/tcp-sluice.log)"
	"${BASH_SOURCE[0]}" sluice >"$work/tcp-sluice.log" 2>&1 || errs+=("$(half_error sluice)")
	h=$(cat "$work/tcp-haproxy.json" 2>/dev/null || echo null)
	s=$(cat "$work/tcp-sluice.json" 2>/dev/null || echo null)
	local err=null
	((${#errs[@]} == 0)) || err=$(printf '%s\n' "${errs[@]}" | jq -R . | jq -s 'join("; ")')
	local cpu
	cpu=$(awk -F: '/^model name/ { sub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo)
	jq -n --argjson h "$h" --argjson s "$s" --argjson err "$err" --arg size "$size" --argjson n "$idle" \
		--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$(hostname)" --arg cpu "$cpu" \
		--arg kernel "$(uname -r)" \
		--arg commit "$(git -C "$SL_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" '
		def r3: if . == null then null else (. * 1000 | round) / 1000 end;
		{
		  sluice_cpu_s_per_gb: ($s.cpu_s_per_gb // null | r3),
		  sluice_cpu_s_per_gb_with_io: ($s.cpu_s_per_gb_with_io // null | r3),
		  haproxy_cpu_s_per_gb: ($h.cpu_s_per_gb // null | r3),
		  ratio: (if ($s.cpu_s_per_gb // null) != null and ($h.cpu_s_per_gb // 0) > 0
		          then ($s.cpu_s_per_gb / $h.cpu_s_per_gb | r3) else null end),
		  bytes_per_idle_conn: ($s.idle.bytes_per_conn // null | if . == null then null else round end),
		  error: $err,
		  date: $date,
		  method: ("One \($size) download (GB = 1e9 bytes) from scripts/bulkserver.py, sha256-checked by scripts/bulkclient.py, after a 64 MiB warm-up. HAProxy 2.6 mode tcp, nbthread 1, in a gateway netns joined by veths (tso/gso/gro off) to client and server netns: utime+stime of its process over the download. Sluice: proxy rule for 198.19.0.10:9000 between net_tap ports, one worker: sum of workers cycles_work (busy iterations outside rx/tx bursts) / tsc_hz plus sluice-cp utime+stime; with_io adds cycles_io (inside the bursts). ratio = sluice_cpu_s_per_gb / haproxy_cpu_s_per_gb. bytes_per_idle_conn: \($n) connections opened to GET /hold and left idle; 2 x conn_bytes from show tcp (client and server legs) + growth of mbuf pool in_use x mbuf element size (2304 = 2176 data room + 128 struct rte_mbuf, no private area) / \($n)."),
		  haproxy: $h,
		  sluice: $s,
		  env: {host: $host, cpu: $cpu, kernel: $kernel, commit: $commit}
		}' >"$results/tcp.json"
	say "wrote $results/tcp.json"
	jq -r '"tcp: sluice \(.sluice_cpu_s_per_gb) CPU s/GB (\(.sluice_cpu_s_per_gb_with_io) with I/O), haproxy \(.haproxy_cpu_s_per_gb), ratio \(.ratio); \(.bytes_per_idle_conn) bytes per idle connection" + (if .error then "\nINCOMPLETE: \(.error)" else "" end)' \
		"$results/tcp.json"
	((${#errs[@]} == 0))
}

case ${1:-all} in
haproxy) run_haproxy ;;
sluice) run_sluice ;;
all) run_all ;;
*) sl_die "usage: bench/tcp.sh [haproxy|sluice|all]" ;;
esac
