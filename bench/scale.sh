#!/usr/bin/env bash
# Worker scaling (bench/results/scale.json; method in bench/README.md,
# "Scaling").  `bench/scale.sh --help` says what it does.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: bench/scale.sh [--help]
       bench/scale.sh --one forward|tcp|tls N
           one entry alone: bench/work/scale-TEST-N.json (it runs even where
           the core rule would skip it, oversubscribed)

Measures how Sluice scales with the number of workers: forwarding, proxied
TCP and the TLS relay with 1, 2, 4 and 8 workers, each count in its own
sluice-dp, and writes bench/results/scale.json (validated with jq).  Run as
root after scripts/setup.sh and the build (SLUICE_BUILD, default build/).

  forward  bench/gen_pcap.py's 64-byte IPv4/UDP frames replayed by net_pcap
           (infinite_rx=1) on N RX queues, one per worker, routed to net_null
           (bench/forward.conf.in).  Every queue replays every flow, so a
           worker hands the packets of flows it does not own to their owner
           (software dispatch).  Rate: Mpps out, best window.
  tcp      N bulkserver.py processes behind a proxy rule, N curl processes
           in the client namespace with BENCH_SCALE_CONNS downloads each, over
           the usual net_tap namespaces.  Rate: Gbit/s the appliance sends to
           the clients, best window; and workers' work cycles per GB.
  tls      the same through N TLS terminate apps (the demo certificate, TLS
           1.3 AES-128-GCM), curl over HTTPS.

Core rule: a count N runs only where the CPUs this script may use number at
least N + 1 (forward: N workers and the main lcore; the replay runs inside
the workers' RX calls) or N + 1 + ceil(N/2) (tcp, tls: ceil(N/2) CPUs for
the client and server processes, sluice-cp and this script, which are
pinned there).  Otherwise the entry is {"workers": N, "skipped": "needs K
cores, machine has C"}; an entry also skips when the free hugepages are
short.  scaling_efficiency = rate(N) / (N x rate(1)), null with a reason
unless both N and 1 ran.  An entry that ran and failed has "error" and the
others still run.

Environment:
  BENCH_SCALE_TESTS          tests to run (default "forward tcp tls")
  BENCH_SCALE_WORKERS        worker counts (default "1 2 4 8"; 1..16)
  BENCH_SCALE_SECONDS        window (default 5)
  BENCH_SCALE_WINDOWS        windows per entry (default 3)
  BENCH_SCALE_WARMUP         seconds before the first window (default 3)
  BENCH_SCALE_CONNS          tcp/tls downloads per worker (default 8)
  BENCH_SCALE_PACKETS        forward pcap frames (default 2048)
  BENCH_SCALE_MBUFS          dataplane.mbufs_per_worker (default 16383)
  BENCH_SCALE_OVERSUBSCRIBE  1: also run the counts the core rule skips, the
                             workers as threads sharing the CPUs (an EAL
                             --lcores map); marks them "oversubscribed": for
                             testing this script, the numbers mean nothing
Logs: bench/work/scale-TEST-N.log.  Exit status: 0 when the JSON was written
and no entry that ran failed (skipped entries are not failures), 1 otherwise.
EOF
}

case ${1:-} in
-h | --help)
	usage
	exit 0
	;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# the PKI lives with the build being measured (scripts/certs.sh makes it), as in bench/agent.sh
export SL_CERTS=${SL_CERTS:-${SLUICE_BUILD:-$root/build}/certs}
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

tests=${BENCH_SCALE_TESTS:-forward tcp tls}
counts=${BENCH_SCALE_WORKERS:-1 2 4 8}
seconds=${BENCH_SCALE_SECONDS:-5}
windows=${BENCH_SCALE_WINDOWS:-3}
warmup=${BENCH_SCALE_WARMUP:-3}
conns=${BENCH_SCALE_CONNS:-8}
npkts=${BENCH_SCALE_PACKETS:-2048}
mbufs=${BENCH_SCALE_MBUFS:-16383}
oversub=${BENCH_SCALE_OVERSUBSCRIBE:-0}
benchdir=$SL_ROOT/bench
work=$benchdir/work
results=$benchdir/results
SUITE=TLS_AES_128_GCM_SHA256
BIG=1024G # a download that outlasts the measurement (bulkserver.py's largest)
say() { printf 'bench scale: %s\n' "$*" >&2; }

for v in seconds windows warmup conns npkts mbufs; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || sl_die "bench scale: ${v} must be a positive integer, not '${!v}'"
done
for n in $counts; do
	if ! [[ $n =~ ^[1-9][0-9]*$ ]] || ((n > 16)); then sl_die "bench scale: worker count '$n' is not 1..16"; fi
done
for t in $tests; do
	case $t in forward | tcp | tls) ;; *) sl_die "bench scale: unknown test '$t' (forward, tcp, tls)" ;; esac
done

# ------------------------------------------------------------ the core rule ----
cores_needed() { # cores_needed TEST N
	case $1 in
	forward) echo $(($2 + 1)) ;;
	*) echo $(($2 + 1 + ($2 + 1) / 2)) ;;
	esac
}
peer_cores() { # peer_cores TEST N: CPUs for peers, sluice-cp and this script
	case $1 in
	forward) echo 0 ;;
	*) echo $((($2 + 1) / 2)) ;;
	esac
}
mem_mb() { # mem_mb TEST N: hugepage memory for sluice-dp (mbufs_per_worker x ~2.4 KB per worker, and the rest)
	echo $((256 + (mbufs * 2432 / 1048576 + 24) * $2))
}
hugepages_free_mb() {
	awk '/^HugePages_Free:/ { f = $2 } /^Hugepagesize:/ { s = $2 } END { printf "%d", f * s / 1024 }' /proc/meminfo
}

# plan LCORES PEERS OVERSUB: which CPUs the lcores and the peers get,
# as JSON {lcores, lcore_cpus, peer_cpus, smt_shared, oversubscribed}.
# CPUs are the ones this process may run on, one thread of each physical core
# first (thread_siblings_list), so workers share a core only when they must.
plan() {
	"$SL_PY" - "$@" <<'EOF'
import json, os, sys
need, peers, oversub = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"  # lcores, peer CPUs
def first_sibling(c):
    try:
        s = open("/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list" % c).read().strip()
        return min(int(x) for x in s.replace("-", ",").split(","))
    except (OSError, ValueError):
        return c
cpus = sorted(os.sched_getaffinity(0))
order = [c for c in cpus if first_sibling(c) == c] + [c for c in cpus if first_sibling(c) != c]
out = {"oversubscribed": False}
if len(order) >= need + peers:
    lc = sorted(order[:need])
    rest = order[need:need + peers]
    if max(lc) <= 127:
        out["lcores"] = ",".join(map(str, lc))
    else:  # lcore ids are 0..127: map them onto the CPUs
        out["lcores"] = ",".join("%d@%d" % (i, c) for i, c in enumerate(lc))
    out["lcore_cpus"] = lc
    out["peer_cpus"] = sorted(rest)
    sib = [first_sibling(c) for c in lc[1:]]
    out["smt_shared"] = len(set(sib)) != len(sib)
elif oversub:
    # main lcore on the first CPU, every worker a thread on the second
    a = order[0]
    b = order[1] if len(order) > 1 else order[0]
    out["lcores"] = "0@%d,(1-%d)@%d" % (a, need - 1, b) if need > 2 else "0@%d,1@%d" % (a, b)
    out["lcore_cpus"] = sorted({a, b})
    out["peer_cpus"] = []
    out["smt_shared"] = True
    out["oversubscribed"] = True
print(json.dumps(out))
EOF
}

# ------------------------------------------------------------ one entry ----
entry_init() { # entry_init NAME: private run dir, state file, cleanup on exit
	run=$(mktemp -d "/run/sluice-bench-scale-$1.XXXXXX")
	SL_WORK=$run
	SL_NS_SWEEP=1 # everything inside the namespaces we create was started by us
	sl_state_init "$run/state"
	sl_track path "$run"
	trap 'rc=$?; set +e; trap - EXIT INT TERM; cd /; sl_cleanup_state "$run/state"; exit $rc' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# Pin this shell (and so what it starts from now on) and PIDs to the peer CPUs.
pin_peers() { # pin_peers PID...
	local p
	[[ -n $peer_list ]] || return 0
	taskset -p -c "$peer_list" "$BASHPID" >/dev/null || sl_fail "taskset -c $peer_list on this script"
	for p in "$@"; do
		taskset -a -p -c "$peer_list" "$p" >/dev/null || sl_fail "taskset -c $peer_list on pid $p"
	done
}

peer_pids=()
peer_ticks() {
	local p t=0 c
	for p in "${peer_pids[@]}"; do
		c=$(sl_proc_cpu_ticks "$p" 2>/dev/null) || c=0
		t=$((t + c))
	done
	echo "$t"
}

# snap: one JSON line with the time, the ports' counters, the workers'
# counters (show workers + show stats' lcores) and the peers' CPU ticks
snap() {
	local t1 t2 p w s
	t1=$(date +%s%N)
	p=$(sl_ctl_json show ports) || sl_fail "sluicectl show ports: $p"
	t2=$(date +%s%N)
	w=$(sl_ctl_json show workers) || sl_fail "sluicectl show workers: $w"
	s=$(sl_ctl_json show stats) || sl_fail "sluicectl show stats: $s"
	jq -c -n --argjson t $(((t1 + t2) / 2)) --argjson p "$p" --argjson w "$w" --argjson s "$s" \
		--argjson pt "$(peer_ticks)" "$SL_JQ_PORTSTAT"'
		{t: $t, tsc_hz: $s.tsc_hz, peer_ticks: $pt,
		 ports: [$p.ports[] | {name, ipackets: pstat("ipackets"), opackets: pstat("opackets"),
		                       ibytes: pstat("ibytes"), obytes: pstat("obytes")}],
		 workers: [$w.workers[] | {worker, lcore_id, flows, rx_packets, handoff_out, handoff_in, cycles_work, packets}],
		 lcores: [$s.lcores[] | select(.name != "main") | {cycles_work, cycles_io}]}'
}

measure() { # measure: warm-up, then WINDOWS+1 snapshots into $run/snaps.jsonl
	local w
	sleep "$warmup"
	sl_ctl_json show errors >"$run/errors0.json" || sl_fail "sluicectl show errors"
	snap >"$run/snaps.jsonl"
	for ((w = 1; w <= windows; w++)); do
		sleep "$seconds"
		sl_pid_alive "$SL_DP_PID" || sl_fail "sluice-dp died (log: $(tail -n 3 "$run/dp.log"))"
		snap >>"$run/snaps.jsonl"
	done
	sl_ctl_json show errors >"$run/errors1.json" || sl_fail "sluicectl show errors"
}

# drops_json: the drop counters (show errors) that grew during the windows, per second
drops_json() {
	jq -n --slurpfile a "$run/errors0.json" --slurpfile b "$run/errors1.json" \
		--argjson dt "$(jq -s '(.[-1].t - .[0].t) / 1e9' "$run/snaps.jsonl")" '
		[$b[0].drops[] | .reason as $r | (.count - ([$a[0].drops[] | select(.reason == $r) | .count][0] // 0)) as $d
		 | select($d > 0) | {($r): ($d / $dt | round)}] | add // {}'
}

# The per-entry numbers from the snapshots (jq program; $port: the port whose
# transmissions are the rate, $unit: "mpps" or "gbit_s").
# shellcheck disable=SC2016 # jq, not shell
JQ_RATES='
def port($s; $n): $s.ports[] | select(.name == $n);
def r3: (. * 1000 | round) / 1000;
def r1: (. * 10 | round) / 10;
def wsum($s; $f): [$s.lcores[][$f]] | add;
. as $S | ($S | length) as $k | ($S[0].tsc_hz) as $hz
| [range(1; $k) as $i | $S[$i - 1] as $a | $S[$i] as $b | (($b.t - $a.t) / 1e9) as $dt
   | (port($b; $port).opackets - port($a; $port).opackets) as $pk
   | (port($b; $port).obytes - port($a; $port).obytes) as $by
   | {dt: $dt, mpps: ($pk / $dt / 1e6), gbit_s: ($by * 8 / $dt / 1e9)}] as $win
| ($S[0]) as $a | ($S[$k - 1]) as $b | (($b.t - $a.t) / 1e9) as $dt
| (port($b; $port).opackets - port($a; $port).opackets) as $pk
| (port($b; $port).obytes - port($a; $port).obytes) as $by
| (wsum($b; "cycles_work") - wsum($a; "cycles_work")) as $cw
| (wsum($b; "cycles_io") - wsum($a; "cycles_io")) as $ci
| (([$b.workers[].rx_packets] | add) - ([$a.workers[].rx_packets] | add)) as $rx
| (([$b.workers[].handoff_out] | add) - ([$a.workers[].handoff_out] | add)) as $ho
| ([$win[][$unit]] | max) as $best
| {
    ($unit): ($best | r3),
    ("\($unit)_per_worker"): ($best / $n | r3),
    windows: [$win[][$unit] | r3],
    seconds_measured: ($dt | r3),
    handoff_share: (if $rx > 0 then ($ho / $rx | r3) else null end),
    per_worker: [range(0; $b.workers | length) as $j | $b.workers[$j] as $wb | $a.workers[$j] as $wa
      | ($wb.packets - $wa.packets) as $p
      | {worker: $wb.worker, lcore: $wb.lcore_id, mpps: ($p / $dt / 1e6 | r3),
         work_cycles_per_packet: (if $p > 0 then (($wb.cycles_work - $wa.cycles_work) / $p | r1) else null end),
         handoff_out_per_s: (($wb.handoff_out - $wa.handoff_out) / $dt | round),
         flows_at_end: $wb.flows}]
  }
  + (if $unit == "mpps" then
      {cycles_per_packet: (if $pk > 0 then {work: ($cw / $pk | r1), io: ($ci / $pk | r1)} else null end)}
    else
      {cycles_per_gb: (if $by > 0 then ($cw / ($by / 1e9) | round) else null end),
       cycles_per_gb_with_io: (if $by > 0 then (($cw + $ci) / ($by / 1e9) | round) else null end),
       cpu_s_per_gb: (if $by > 0 then ($cw / $hz / ($by / 1e9) | r3) else null end),
       peer_cpu_busy: (if $ncpu > 0 then (($b.peer_ticks - $a.peer_ticks) / $clk / $dt / $ncpu | r3) else null end)}
    end)'

one_forward() {
	local n=$1 conf devq i
	entry_init "forward-$n"
	sl_need_binaries
	[[ -s ${SCALE_PCAP:-} ]] || sl_fail "no pcap (SCALE_PCAP)"
	SL_PREFIX=slsc$$
	SL_SOCK=$run/ctl.sock
	conf=$run/forward.conf
	# one rx_pcap per worker: N RX queues (and, with no tx_pcap, N counting
	# TX queues); relative names keep the device string under 128 characters
	ln -s "$SCALE_PCAP" "$run/p"
	devq=p
	for ((i = 1; i < n; i++)); do devq+=",rx_pcap=p"; done
	sed -e "s|@LCORES@|$lcores|" -e "s|@PREFIX@|$SL_PREFIX|" -e "s|@SOCK@|$SL_SOCK|" \
		-e "s|@PCAP@|$devq|" -e "s|@MEM_MB@|$mem|" \
		-e "s|stats_period_ms = 10;|stats_period_ms = 10; mbufs_per_worker = $mbufs;|" \
		"$benchdir/forward.conf.in" >"$conf"
	grep -q "mbufs_per_worker = $mbufs;" "$conf" || sl_fail "bench/forward.conf.in changed: no stats_period_ms line to extend"
	local chk
	chk=$("$SL_DP" --check "$conf" 2>&1) || sl_fail "sluice-dp refuses $conf: ${chk//$'\n'/ }"
	cp "$conf" "$work/scale-forward-$n.conf"
	cd "$run" # the relative pcap names
	sl_dp_start "$run/dp.log" -c "$conf"
	sl_dp_wait_ready "$run/dp.log" 60 || sl_fail "sluice-dp did not start: $(grep -iE 'error|fail' "$run/dp.log" | tail -n 2)"
	pin_peers
	sl_cp_start "$run/cp.log" -c "$conf"
	sl_cp_wait "$run/cp.log" 40 || sl_fail "sluice-cp did not start"
	local nw
	nw=$(sl_ctl_json show workers | jq .n_workers)
	((nw == n)) || sl_fail "show workers lists $nw workers, want $n"
	measure
	jq -s --argjson n "$n" --arg port out --arg unit mpps --argjson ncpu 0 --argjson clk 1 "$JQ_RATES" \
		"$run/snaps.jsonl" >"$run/rates.json"
	cp "$run/snaps.jsonl" "$work/scale-forward-$n.snaps.jsonl"
	jq -n --slurpfile r "$run/rates.json" --argjson plan "$SCALE_PLAN_JSON" --argjson mem "$mem" \
		--argjson drops "$(drops_json)" --arg dev "$(grep -o 'net_pcap0[^"]*' "$conf")" '
		$r[0] + {drops_per_s: $drops, lcores: $plan.lcores, lcore_cpus: $plan.lcore_cpus, smt_shared: $plan.smt_shared,
		         oversubscribed: $plan.oversubscribed, mem_mb: $mem, dev: $dev}' >"$SCALE_OUT"
	say "forward $n: $(jq -c '{mpps, mpps_per_worker, windows, cycles_per_packet, handoff_share}' "$SCALE_OUT")"
}

one_relay() { # one_relay tcp|tls N
	local t=$1 n=$2 id=$$ i port sp url
	local -a ports=() apps=()
	entry_init "$t-$n"
	sl_need_binaries
	SL_PREFIX=slsc$id SL_NS_C=slsc${id}c SL_NS_S=slsc${id}s SL_TAP_C=slsc${id}tc SL_TAP_S=slsc${id}ts
	SL_SOCK=$run/ctl.sock
	SL_CONF=$run/sluice.conf
	SL_MEM_MB=$mem
	SL_LCORES=$lcores
	SL_CONF_DATAPLANE="  stats_period_ms = 10;
  mbufs_per_worker = $mbufs;"
	# one server (and one client process) per worker
	for ((i = 0; i < n; i++)); do ports+=($((9000 + i))); done
	if [[ $t == tcp ]]; then
		SL_CONF_RULES="{ dst = \"$SL_S_ADDR/32\"; proto = \"tcp\"; dport = \"9000-$((9000 + n - 1))\"; action = \"proxy\"; }"
	else
		sl_certs >/dev/null
		for ((i = 0; i < n; i++)); do apps+=("$(sl_app_conf "scale$i" "$SL_S_ADDR" $((443 + i)) $((9000 + i)))"); done
		SL_CONF_EXTRA="apps = ( $(
			IFS=,
			echo "${apps[*]}"
		) );"
	fi
	sl_conf_write "$SL_CONF"
	local chk
	chk=$("$SL_DP" --check "$SL_CONF" 2>&1) || sl_fail "sluice-dp refuses the config: ${chk//$'\n'/ }"
	cp "$SL_CONF" "$work/scale-$t-$n.conf"
	sl_appliance_start
	pin_peers "$SL_CP_PID"
	peer_pids=("$SL_CP_PID")
	local nw
	nw=$(sl_ctl_json show workers | jq .n_workers)
	((nw == n)) || sl_fail "show workers lists $nw workers, want $n"
	for port in "${ports[@]}"; do
		sl_bulk_server_start "$port"
		peer_pids+=("$SL_BULK_SERVER_PID")
	done
	local tcp0
	tcp0=$(sl_tcp_json) || sl_fail "sluicectl show tcp: $tcp0"
	# the clients: per worker one curl with $conns parallel downloads that
	# outlast the measurement (stopped by the cleanup)
	local maxt=$((warmup + windows * seconds + 120))
	for ((i = 0; i < n; i++)); do
		local -a args=(curl -s --http1.1 -Z --parallel-max "$conns" --parallel-immediate -m "$maxt")
		if [[ $t == tcp ]]; then
			url=http://$SL_S_ADDR:${ports[i]}/bytes/$BIG
		else
			sp=$((443 + i))
			args+=(--tlsv1.3 --tls13-ciphers "$SUITE" --cacert "$SL_CERTS/ca.pem"
				--connect-to "demo.sluice.test:$sp:$SL_S_ADDR:$sp")
			url=https://demo.sluice.test:$sp/bytes/$BIG
		fi
		local k
		for ((k = 0; k < conns; k++)); do args+=(-o /dev/null "$url"); done
		sl_spawn "$run/curl$i.log" "curl$i" --ns "$SL_NS_C" -- "${args[@]}"
		peer_pids+=("$SL_LAST_PID")
	done
	# every download under way: 2 legs per connection on the workers
	local want=$((2 * n * conns)) flows
	# shellcheck disable=SC2317 # called through sl_wait_for
	flows_now() { sl_ctl_json show workers | jq '[.workers[].flows] | add'; }
	# shellcheck disable=SC2317
	enough_flows() { (($(flows_now) >= want)); }
	sl_wait_for 60 "$want connection legs" enough_flows || sl_fail "only $(flows_now) of $want connection legs open after 60 s"
	measure
	flows=$(flows_now)
	for ((i = 0; i < n; i++)); do
		sl_pid_alive "${peer_pids[$((1 + n + i))]}" || sl_fail "curl $i ended early: $(tail -n 3 "$run/curl$i.log")"
	done
	local tcp1 proxied
	tcp1=$(sl_tcp_json)
	proxied=$(($(sl_tcp_field proxied "$tcp1") - $(sl_tcp_field proxied "$tcp0")))
	[[ $t == tls ]] || ((proxied >= n * conns)) || sl_fail "show tcp proxied grew by $proxied, want $((n * conns))"
	jq -s --argjson n "$n" --arg port "$SL_PORT_C" --arg unit gbit_s --argjson ncpu "$npeer" \
		--argjson clk "$(getconf CLK_TCK)" "$JQ_RATES" "$run/snaps.jsonl" >"$run/rates.json"
	cp "$run/snaps.jsonl" "$work/scale-$t-$n.snaps.jsonl"
	jq -n --slurpfile r "$run/rates.json" --argjson plan "$SCALE_PLAN_JSON" --argjson mem "$mem" \
		--argjson conns $((n * conns)) --argjson flows "$flows" --argjson proxied "$proxied" \
		--argjson drops "$(drops_json)" '
		$r[0] + {peer_bound: (($r[0].peer_cpu_busy // 0) > 0.9), drops_per_s: $drops,
		         connections: $conns, connection_legs_at_end: $flows,
		         proxied: (if $proxied > 0 then $proxied else null end),
		         lcores: $plan.lcores, lcore_cpus: $plan.lcore_cpus, peer_cpus: $plan.peer_cpus,
		         smt_shared: $plan.smt_shared, oversubscribed: $plan.oversubscribed, mem_mb: $mem}' >"$SCALE_OUT"
	say "$t $n: $(jq -c '{gbit_s, gbit_s_per_worker, windows, cycles_per_gb, peer_cpu_busy, handoff_share}' "$SCALE_OUT")"
}

if [[ ${1:-} == --one ]]; then
	t=${2:-} n=${3:-}
	[[ $t =~ ^(forward|tcp|tls)$ && $n =~ ^[1-9][0-9]*$ ]] || sl_die "usage: bench/scale.sh --one forward|tcp|tls N"
	[[ $(id -u) -eq 0 ]] || sl_die "bench scale: must run as root"
	mkdir -p "$work"
	# alone (not from the main run): plan here, and make the pcap
	if [[ -z ${SCALE_PLAN_JSON:-} ]]; then
		SCALE_PLAN_JSON=$(plan $((n + 1)) "$(peer_cores "$t" "$n")" 1)
		SCALE_OUT=$work/scale-$t-$n.json
		if [[ $t == forward && -z ${SCALE_PCAP:-} ]]; then
			SCALE_PCAP=$work/scale-fwd64.pcap
			"$SL_PY" "$benchdir/gen_pcap.py" "$SCALE_PCAP" --count "$npkts" --dst-mac 02:53:4c:00:00:01 \
				--dst-net 48.0.0.0/8 >&2
		fi
	fi
	lcores=$(jq -r .lcores <<<"$SCALE_PLAN_JSON")
	peer_list=$(jq -r '.peer_cpus | map(tostring) | join(",")' <<<"$SCALE_PLAN_JSON")
	npeer=$(jq '.peer_cpus | length' <<<"$SCALE_PLAN_JSON")
	mem=$(mem_mb "$t" "$n")
	say "$t with $n workers: lcores $lcores, peers on CPUs ${peer_list:-(not pinned)}, $mem MB"
	case $t in
	forward) one_forward "$n" ;;
	*) one_relay "$t" "$n" ;;
	esac
	exit 0
fi

# ------------------------------------------------------------ the whole run ----
ncpu=$("$SL_PY" -c 'import os; print(len(os.sched_getaffinity(0)))')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-scale.XXXXXX")
trap 'rc=$?; set +e; trap - EXIT INT TERM; rm -rf "$tmp"; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
: >"$tmp/entries.jsonl"

# decide every entry first: which run, which skip and why
declare -A plan_of=()
runs=0
for t in $tests; do
	for n in $counts; do
		k=$(cores_needed "$t" "$n")
		p=$(plan $((n + 1)) "$(peer_cores "$t" "$n")" "$oversub")
		if [[ $(jq 'has("lcores")' <<<"$p") != true ]]; then
			plan_of[$t.$n]="skip:needs $k cores, machine has $ncpu"
		elif (($(hugepages_free_mb) < $(mem_mb "$t" "$n"))); then
			plan_of[$t.$n]="skip:needs $(mem_mb "$t" "$n") MB of free hugepages, machine has $(hugepages_free_mb) MB (scripts/setup.sh, SLUICE_HUGEPAGES)"
		else
			plan_of[$t.$n]=$p
			runs=$((runs + 1))
		fi
	done
done

mkdir -p "$work" "$results"
if ((runs > 0)); then
	[[ $(id -u) -eq 0 ]] || sl_die "bench scale: must run as root"
	sl_need_binaries
	command -v taskset >/dev/null || sl_die "bench scale: taskset not found (util-linux)"
fi
if ((runs > 0)) && [[ " $tests " == *" forward "* ]]; then
	"$SL_PY" "$benchdir/gen_pcap.py" "$tmp/fwd64.pcap" --count "$npkts" --dst-mac 02:53:4c:00:00:01 \
		--dst-net 48.0.0.0/8 | sed 's/^/bench scale: /' >&2
fi

failed=0
for t in $tests; do
	for n in $counts; do
		p=${plan_of[$t.$n]}
		if [[ $p == skip:* ]]; then
			say "$t with $n workers: skipped (${p#skip:})"
			jq -c -n --arg t "$t" --argjson n "$n" --arg why "${p#skip:}" '{test: $t, workers: $n, skipped: $why}' \
				>>"$tmp/entries.jsonl"
			continue
		fi
		log=$work/scale-$t-$n.log
		out=$tmp/$t-$n.json
		say "$t with $n workers: $(jq -r .lcores <<<"$p") (log bench/work/scale-$t-$n.log)"
		rc=0
		SCALE_PLAN_JSON=$p SCALE_OUT=$out SCALE_PCAP=$tmp/fwd64.pcap \
			"${BASH_SOURCE[0]}" --one "$t" "$n" >"$log" 2>&1 || rc=$?
		if ((rc == 0)) && [[ -s $out ]]; then
			jq -c --arg t "$t" --argjson n "$n" '{test: $t, workers: $n} + .' "$out" >>"$tmp/entries.jsonl"
		else
			failed=1
			why=$(grep -E 'FAIL:|ERROR:' "$log" 2>/dev/null | tail -n 1 | sed -E 's/^[0-9:.]+ (FAIL|ERROR): //')
			why=${why:-exit status $rc (see bench/work/scale-$t-$n.log)}
			say "$t with $n workers: FAILED: $why"
			jq -c -n --arg t "$t" --argjson n "$n" --arg why "$why" --argjson p "$p" \
				'{test: $t, workers: $n, error: $why, lcores: $p.lcores, oversubscribed: $p.oversubscribed}' \
				>>"$tmp/entries.jsonl"
		fi
	done
done

cpu_model=$(awk -F: '/^model name/ { sub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo)
tpc=$(lscpu 2>/dev/null | awk -F: '/^Thread\(s\) per core/ { gsub(/ /, "", $2); print $2 }')
jq -s --argjson ncpu "$ncpu" --arg model "$cpu_model" --arg tpc "${tpc:-unknown}" \
	--argjson hp "$(hugepages_free_mb)" --argjson seconds "$seconds" --argjson windows "$windows" \
	--argjson warmup "$warmup" --argjson conns "$conns" --argjson npkts "$npkts" --argjson mbufs "$mbufs" \
	--argjson oversub "$([[ $oversub == 1 ]] && echo true || echo false)" \
	--arg tests "$tests" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$(hostname)" \
	--arg kernel "$(uname -r)" --arg dpdk "$(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo unknown)" \
	--arg commit "$(git -C "$SL_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" '
	def unit($t): if $t == "forward" then "mpps" else "gbit_s" end;
	def rate($e; $t): $e[unit($t)] // null;
	. as $E
	| ($tests | split(" ") | map(select(. != ""))) as $T
	| reduce $T[] as $t ({}; . + {($t): (
	    [$E[] | select(.test == $t)] as $es
	    | ([$es[] | select(.workers == 1)][0] // null) as $one
	    | {unit: (if $t == "forward" then "Mpps" else "Gbit/s" end),
	       entries: [$es[] | del(.test) | . as $e
	         | if rate($e; $t) != null and $one != null and rate($one; $t) != null and rate($one; $t) > 0 then
	             . + {scaling_efficiency: ((rate($e; $t) / ($e.workers * rate($one; $t))) * 1000 | round / 1000)}
	           else
	             . + {scaling_efficiency: null,
	                  scaling_efficiency_reason: (
	                    if $e.skipped then "not run: \($e.skipped)"
	                    elif $e.error then "failed: \($e.error)"
	                    elif $one == null then "1 worker is not in BENCH_SCALE_WORKERS"
	                    elif $one.skipped then "1 worker not run: \($one.skipped)"
	                    elif $one.error then "1 worker failed: \($one.error)"
	                    else "no rate" end)}
	           end]}
	  )})
	| . as $tests_out
	| {
	    date: $date,
	    target: {scaling_efficiency_at_8_workers: 0.9},
	    scaling_efficiency_at_8: (reduce $T[] as $t ({}; . + {($t): ([$tests_out[$t].entries[] | select(.workers == 8) | .scaling_efficiency][0] // null)})),
	    oversubscribed: $oversub,
	    core_rule: "a worker count N runs only where the CPUs this script may use number at least K: forward K = N + 1 (N workers + the main lcore; the net_pcap replay runs inside the workers own RX calls, net_null discards in their TX calls); tcp and tls K = N + 1 + ceil(N/2) (ceil(N/2) CPUs for the curl clients, the bulkserver.py servers, sluice-cp and the script, pinned there with taskset; their busy share over the windows is peer_cpu_busy, and peer_bound is set above 0.9: the rate is then a lower bound). Lcores get one hardware thread per physical core first. An entry also skips when the free hugepages are fewer than its mem_mb.",
	    machine: {cpus: $ncpu, threads_per_core: $tpc, cpu: $model, hugepages_free_mb_at_end: $hp},
	    tests: $tests_out,
	    method: {
	      forward: "bench/forward.conf.in with N workers: net_pcap0 with one rx_pcap per worker (each queue replays all \($npkts) distinct 64-byte IPv4/UDP frames of bench/gen_pcap.py to 48.0.0.0/8, infinite_rx=1), net_null0 out; each worker polls its own queue and hands the frames whose flow another worker owns to that worker over a ring (software dispatch: (N-1)/N of them, handoff_share). Rate: growth of port out opackets per second (sluicectl show ports, stats_period_ms=10), best of the windows; per_worker from show workers (packets = kept + handed in).",
	      tcp: "proxy rule for 198.19.0.10:9000-(9000+N-1) between the usual net_tap namespaces; N scripts/bulkserver.py servers, N curl processes each with \($conns) parallel HTTP/1.1 downloads of /bytes/1024G (never finishing within the measurement; stopped afterwards). Rate: growth of port client obytes (frames sent to the clients: payload plus Ethernet/IP/TCP headers) x 8 per second, best window. cycles_per_gb: growth of the workers cycles_work (TSC cycles outside the port bursts) per 1e9 of those bytes over all windows; with_io adds cycles_io.",
	      tls: "as tcp through N TLS terminate apps (198.19.0.10:443+i -> :9000+i, the demo ECDSA P-256 certificate), curl --tlsv1.3 \($conns) parallel downloads per app; bytes are TLS records on the wire.",
	      scaling_efficiency: "rate(N) / (N x rate(1)) of the same test in the same run; null with a reason unless both ran",
	      windows: "\($warmup) s warm-up, then \($windows) windows of \($seconds) s; each count is its own sluice-dp with dataplane.mbufs_per_worker = \($mbufs)"
	    },
	    env: {host: $host, kernel: $kernel, dpdk: $dpdk, commit: $commit}
	  }' "$tmp/entries.jsonl" >"$tmp/scale.json"
jq -e '.tests | type == "object"' "$tmp/scale.json" >/dev/null || sl_die "bench scale: the JSON does not validate"
mv "$tmp/scale.json" "$results/scale.json"
say "wrote $results/scale.json"
jq -r '.tests | to_entries[] | .key as $t | .value.unit as $u | .value.entries[]
	| "scale: \($t) \(.workers) workers: " + (if .skipped then "skipped (\(.skipped))" elif .error then "FAILED (\(.error))"
	  else "\(.mpps // .gbit_s) \($u), efficiency \(.scaling_efficiency)" end)' "$results/scale.json"
exit "$failed"
