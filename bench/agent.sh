#!/usr/bin/env bash
# The S4 (agents) benchmark (bench/results/agent.json; method in bench/README.md).
#
#   bench/agent.sh          every part, then bench/results/agent.json
#   bench/agent.sh PART     one part -> bench/work/agent-PART.json, PART one of
#     testpmd  dpdk-testpmd --forward-mode=5tswap on the SYN pcap (the reference)
#     icmp     Sluice: the SYNs hit a vnet ACL `reject` -> ICMP 3/13 from the gateway
#     rst      Sluice: the SYNs hit a policy rule `reject` -> RST from the server
#     hold     Sluice: the SYNs go to an agent whose site black-holes them
#     relay    the S4 topology: a 1 GB download and short HTTP requests through
#              an agent, then the same through `ssh -L` over the same namespaces
#
# The synthetic parts replay bench/work/agent-syn64.pcap (bench/gen_pcap.py
# --syn: 64-byte TCP SYNs from BENCH_AGENT_SRCS sources of 198.18.64.0/18 to
# 198.19.203.0/24:80) with net_pcap infinite_rx=1 on port "in" (whose TX,
# with no tx_pcap given, counts and frees what it is given), a net_null
# port "out", one worker; the answers leave through port "in" to the
# clients' router 198.18.0.2 (one static neighbour; the client range is
# routed via it).  Mpps = growth of the ports' packet counters per second
# after a warm-up, best window, against testpmd's Tx-pps of port 0 (5tswap,
# --port-topology=loop: every SYN turned around in place on the same port).
#
# Each part runs in its own process with its own cleanup; a part that fails
# leaves null fields and its reason in "error" and the others still run.
# Exit status 0 only when every part produced numbers.
#
# Environment: BENCH_AGENT_SECONDS (window, 5), BENCH_AGENT_WINDOWS (3),
# BENCH_AGENT_WARMUP (2), BENCH_AGENT_PACKETS (pcap frames, 4096),
# BENCH_AGENT_SRCS (client sources, 1024), BENCH_AGENT_SIZE (download, 1G),
# BENCH_AGENT_CONN_SECONDS (connection-rate run, 10), BENCH_AGENT_CONC (32),
# BENCH_AGENT_MEM_MB (hugepage memory per DPDK process, 256), BENCH_LCORES
# (0-1: main lcore + one worker), TESTPMD (dpdk-testpmd), BENCH_AGENT_PERF
# (a directory: perf record -a -g of each connection-rate run into it as
# NAME.perf; for finding where a connection's CPU goes).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# the PKI lives with the build being measured (scripts/certs.sh makes it)
export SL_CERTS=${SL_CERTS:-${SLUICE_BUILD:-$root/build}/certs}
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

seconds=${BENCH_AGENT_SECONDS:-5}
windows=${BENCH_AGENT_WINDOWS:-3}
warmup=${BENCH_AGENT_WARMUP:-2}
npkts=${BENCH_AGENT_PACKETS:-4096}
nsrcs=${BENCH_AGENT_SRCS:-1024}
size=${BENCH_AGENT_SIZE:-1G}
conn_s=${BENCH_AGENT_CONN_SECONDS:-10}
conc=${BENCH_AGENT_CONC:-32}
mem=${BENCH_AGENT_MEM_MB:-256}
lcores=${BENCH_LCORES:-0-1}
testpmd=${TESTPMD:-dpdk-testpmd}
benchdir=$SL_ROOT/bench
work=$benchdir/work
results=$benchdir/results
pcap=$work/agent-syn64.pcap
mkdir -p "$work" "$results"
say() { printf 'bench agent: %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || sl_die "bench agent: must run as root"
clk_tck=$(getconf CLK_TCK)

# The synthetic traffic's addresses (README: "S4 agents").
CLIENT_NET=198.18.64.0/18 # the SYNs' sources, behind CLIENT_RTR
CLIENT_RTR=198.18.0.2     # the clients' router on port "in"
CLIENT_RTR_MAC=02:00:00:00:00:01
SERVER_NET=198.19.203.0/24 # the SYNs' destinations (site A black-holes them)
ICMP_RATE=100000000        # dataplane.icmp_rate: the largest the config allows (no limit in effect)
ICMP_BURST=1000000         # dataplane.icmp_burst: likewise

part_init() { # part_init NAME: private run dir, state file, cleanup on exit
	run=$(mktemp -d "/run/sluice-bench-agent-$1.XXXXXX")
	SL_WORK=$run
	SL_NS_SWEEP=1 # everything inside the namespaces we create was started by us
	sl_state_init "$run/state"
	sl_track path "$run"
	part=$1
	trap 'rc=$?; set +e; trap - EXIT INT TERM; keep_logs; exit $rc' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

keep_logs() {
	local f
	for f in "$run"/*.log; do
		[[ -e $f ]] && cp "$f" "$work/agent-$part-$(basename "$f")"
	done
	sl_cleanup_state "$run/state"
}

make_pcap() {
	"$SL_PY" "$benchdir/gen_pcap.py" "$pcap" --syn --count "$npkts" --src-net "$CLIENT_NET" \
		--srcs "$nsrcs" --dst-net "$SERVER_NET" --dport 80 --dst-mac 02:53:4c:00:00:01 \
		--src-mac "$CLIENT_RTR_MAC" >&2
}

now_ns() { date +%s%N; }

# ---------------------------------------------------------------- testpmd ----
run_testpmd() {
	part_init testpmd
	command -v "$testpmd" >/dev/null || sl_fail "$testpmd not found (Debian package dpdk-dev)"
	[[ -s $pcap ]] || make_pcap
	local prefix=slagtp$$ fifo=$run/testpmd.in tplog=$run/testpmd.log tp_pid tpin w
	sl_track prefix "$prefix"
	mkfifo "$fifo"
	say "dpdk-testpmd --forward-mode=5tswap --port-topology=loop: lcores $lcores, $pcap"
	# shellcheck disable=SC2016 # $0/$@ belong to the inner bash
	sl_spawn "$tplog" testpmd -- bash -c 'exec "$@" <"$0"' "$fifo" \
		"$testpmd" -l "$lcores" --no-pci --file-prefix "$prefix" -m "$mem" \
		--vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" --vdev "net_null0,no-rx=1" -- \
		-i --forward-mode=5tswap --port-topology=loop --nb-cores=1 --auto-start
	tp_pid=$SL_LAST_PID
	exec {tpin}>"$fifo"
	sl_wait_for 60 "testpmd to start forwarding" grep -q "testpmd> " "$tplog" ||
		sl_fail "testpmd did not start: $(tail -n 5 "$tplog")"
	sleep "$warmup"
	echo "show port stats 0" >&"$tpin"
	for ((w = 1; w <= windows; w++)); do
		sleep "$seconds"
		echo "show port stats 0" >&"$tpin"
	done
	sleep 0.5
	printf 'stop\nquit\n' >&"$tpin"
	exec {tpin}>&-
	for ((w = 0; w < 300; w++)); do sl_pid_alive "$tp_pid" || break; sleep 0.1; done
	# Rx-pps and Tx-pps of port 0 in each block; the first block is the baseline
	awk '/NIC statistics for port 0/ { p = 1 } p && /Rx-pps:/ { rx = $2 } p && /Tx-pps:/ { print rx, $2; p = 0 }' \
		"$tplog" | tail -n +2 >"$run/pps"
	(($(wc -l <"$run/pps") == windows)) || sl_fail "expected $windows stats blocks from testpmd (log: $tplog)"
	jq -R -s --arg v "$(dpkg-query -W -f='${Version}' dpdk-dev 2>/dev/null || echo unknown)" '
		[split("\n")[] | select(. != "") | split(" ") | map(tonumber / 1e6)] as $w
		| { tx_mpps: ([$w[][1]] | max), windows_tx_mpps: [$w[][1]], windows_rx_mpps: [$w[][0]],
		    version: $v,
		    setup: "dpdk-testpmd -i --forward-mode=5tswap --port-topology=loop --nb-cores=1: net_pcap0 (rx_pcap, infinite_rx=1) and net_null0 (no-rx=1), every packet sent back on the port it came from with MACs, IPs and ports swapped; Tx-pps of port 0 between consecutive show port stats" }' \
		"$run/pps" >"$work/agent-testpmd.json"
	say "testpmd: $(jq -c . "$work/agent-testpmd.json")"
}

# ----------------------------------------------------------- Sluice, pcap ----
# pcap_conf FILE MODE [WAN_TAP]: the appliance for icmp, rst or hold.
pcap_conf() {
	local file=$1 mode=$2 tap=${3:-} listen=198.19.0.1 acl='' wan=''
	if [[ $mode == hold ]]; then
		listen=$SL_WAN_ADDR
		wan=",
  { name = \"wan\"; dev = \"net_tap0,iface=$tap\"; addr = \"$SL_WAN_ADDR/24\"; mac = \"02:53:4c:00:00:03\"; }"
	fi
	[[ $mode == icmp ]] &&
		acl="acl = ( { dst = \"$SERVER_NET\"; proto = \"tcp\"; action = \"reject\"; } );"
	cat >"$file" <<EOF
# bench/agent.sh ($mode): SYNs replayed on port "in", answers back through it
eal = { lcores = "$lcores"; file_prefix = "$SL_PREFIX"; mem_mb = $mem; log_level = "notice"; };
dataplane = {
  stats_period_ms = 10;   # fine-grained port counters for the sampling
  icmp_rate = $ICMP_RATE; # ICMP errors per second per worker: the config's maximum
  icmp_burst = $ICMP_BURST;
};
control = { socket = "$SL_SOCK"; };
ports = (
  { name = "in"; dev = "net_pcap0,rx_pcap=$pcap,infinite_rx=1"; addr = "198.18.0.1/24"; mac = "02:53:4c:00:00:01"; },
  { name = "out"; dev = "net_null0,no-rx=1"; addr = "198.19.0.1/24"; mac = "02:53:4c:00:00:02"; }$wan
);
# the clients sit behind one router: one static neighbour covers them all
routes = (
  { prefix = "$CLIENT_NET"; via = "$CLIENT_RTR"; },
  { prefix = "$SERVER_NET"; via = "198.19.0.2"; }
);
neighbors = (
  { addr = "$CLIENT_RTR"; mac = "$CLIENT_RTR_MAC"; port = "in"; },
  { addr = "198.19.0.2"; mac = "02:00:00:00:00:02"; port = "out"; }
);
EOF
	if [[ $mode == rst ]]; then
		# forwarded traffic (no vnet here): the policy rule answers with RST
		printf 'rules = (\n  { dst = "%s"; proto = "tcp"; action = "reject"; }\n);\n' "$SERVER_NET" >>"$file"
		return 0
	fi
	cat >>"$file" <<EOF
agents = {
  listen = "$listen"; port = 443;
  cert = "$SL_CERTS/appliance.pem"; key = "$SL_CERTS/appliance.key"; ca = "$SL_CERTS/agent-ca.pem";
  hold_timeout_ms = 3000; connect_timeout_ms = 1500; keepalive_ms = 1000;
};
vnets = (
  { name = "a"; clients = [ "$CLIENT_NET" ]; gateway = "198.18.0.1"; agents = [ "site-a" ];
    routes = ( { dst = "198.19.200.0/22"; agent = "site-a"; } );
    $acl }
);
EOF
}

# wait_deadline SECONDS CMD...: CMD until it succeeds, by the clock (a slow
# sluicectl under load does not stretch the wait)
wait_deadline() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		(($(date +%s) < end)) || return 1
		sleep 0.2
	done
}
agent_streaming() {
	sl_agents_json | jq -e '.agents[] | select(.name == "site-a") | .connected and .streams_total > 0'
}

# snap -> one JSON object: port counters, worker cycles, drops, S4 counters,
# each with the time it was read (the midpoint of its sluicectl call: under
# load a call can take a while, and the rates compare counters read apart)
snap() {
	local t1 t2 t3 t4 t5 ports stats errs agents
	t1=$(now_ns)
	ports=$(sl_ctl_json show ports)
	t2=$(now_ns)
	stats=$(sl_ctl_json show stats)
	t3=$(now_ns)
	errs=$(sl_ctl_json show errors)
	t4=$(now_ns)
	agents=$(sl_ctl_json show agents 2>/dev/null || echo '{}')
	t5=$(now_ns)
	jq -n -c --argjson t $(((t1 + t2) / 2)) --argjson ts $(((t2 + t3) / 2)) --argjson te $(((t3 + t4) / 2)) \
		--argjson ta $(((t4 + t5) / 2)) --argjson p "$ports" --argjson s "$stats" \
		--argjson e "$errs" --argjson a "$agents" "$SL_JQ_PORTSTAT"'
		def port($n): [$p.ports[] | select(.name == $n)][0];
		def wsum($f): [$s.lcores[] | select(.name != "main") | .[$f]] | add;
		{ t: $t, t_stats: $ts, t_errors: $te, t_agents: $ta,
		  rx: (port("in") | pstat("ipackets")), tx: (port("in") | pstat("opackets")),
		  out_tx: (port("out") | pstat("opackets")),
		  work: wsum("cycles_work"), io: wsum("cycles_io"), tsc_hz: $s.tsc_hz,
		  drops: ([$e.drops[] | {(.reason): .count}] | add // {}),
		  agent: ($a.workers // {}) }'
}

run_pcap_part() { # run_pcap_part icmp|rst|hold
	local mode=$1 conf tap='' w chk
	part_init "$mode"
	sl_need_binaries
	[[ -s $pcap ]] || make_pcap
	SL_PREFIX=slag$$
	SL_SOCK=$run/ctl.sock
	conf=$run/sluice.conf
	if [[ $mode != rst ]]; then sl_certs >/dev/null; fi
	if [[ $mode == hold ]]; then
		sl_need_pkgs tinyproxy nft:nftables || sl_fail "hold needs tinyproxy and nftables (site topology)"
		tap=${SL_PREFIX}tw
	fi
	pcap_conf "$conf" "$mode" "$tap"
	cp "$conf" "$work/agent-$mode.conf"
	chk=$("$SL_DP" --check "$conf" 2>&1) || sl_fail "sluice-dp refuses the config: ${chk//$'\n'/ }"
	! sl_prefix_in_use "$SL_PREFIX" || sl_fail "a DPDK primary with prefix $SL_PREFIX already runs"
	sl_dp_start "$run/dp.log" -c "$conf"
	sl_dp_wait_ready "$run/dp.log" 60 || sl_fail "sluice-dp did not start"
	if [[ $mode == hold ]]; then
		# site A's agent is connected; its LAN router black-holes SERVER_NET
		sl_agent_sites "$SL_PREFIX" "$tap"
	fi
	sl_cp_start "$run/cp.log" -c "$conf"
	sl_cp_wait "$run/cp.log" 40 || sl_fail "sluice-cp did not start"
	if [[ $mode == hold ]]; then
		sl_agent_conf "$run/site-a.conf" site-a
		sl_agent_start a "$run/site-a.conf" "$run/agent-a.log"
		# under the flood its pool never shows idle sessions (waiting offers
		# take each one as it comes): connected with a STREAM session is up
		wait_deadline 60 agent_streaming ||
			sl_fail "site-a did not come up under the flood: $(sl_agents_json)"
		# one hold period first: the table fills and starts expiring
		sleep 3.5
	fi
	sleep "$warmup"
	: >"$run/snaps"
	snap >>"$run/snaps"
	for ((w = 1; w <= windows; w++)); do
		sleep "$seconds"
		snap >>"$run/snaps" || sl_fail "sluicectl failed"
		sl_pid_alive "$SL_DP_PID" || sl_fail "sluice-dp died (log: $run/dp.log)"
	done
	local agents_end=null
	[[ $mode == hold ]] && agents_end=$(sl_agents_json | jq -c '.agents[] | select(.name == "site-a")')
	jq -s --arg mode "$mode" --argjson ag "$agents_end" '
		def d($a; $b): $b - $a;
		def r3: (. * 1000 | round) / 1000;
		. as $s
		| [range(1; length) | . as $i | $s[$i - 1] as $a | $s[$i] as $b | (($b.t - $a.t) / 1e9) as $dt
		   | { seconds: ($dt | r3),
		       rx_mpps: (d($a.rx; $b.rx) / $dt / 1e6 | r3), tx_mpps: (d($a.tx; $b.tx) / $dt / 1e6 | r3),
		       work_cycles_per_syn: (if d($a.rx; $b.rx) > 0 then (d($a.work; $b.work) / d($a.rx; $b.rx) * 10 | round / 10) else null end),
		       io_cycles_per_syn: (if d($a.rx; $b.rx) > 0 then (d($a.io; $b.io) / d($a.rx; $b.rx) * 10 | round / 10) else null end) }] as $w
		| $s[0] as $a | $s[-1] as $b
		| ($b.drops | to_entries | map(select(.value - ($a.drops[.key] // 0) != 0) | {key, value: (.value - ($a.drops[.key] // 0))}) | from_entries) as $dd
		| ($b.agent | to_entries | map(select(.value - ($a.agent[.key] // 0) != 0) | {key, value: (.value - ($a.agent[.key] // 0))}) | from_entries) as $da
		| d($a.rx; $b.rx) as $rx | d($a.tx; $b.tx) as $tx
		| {
		    mode: $mode,
		    tx_mpps: ([$w[].tx_mpps] | max), rx_mpps: ([$w[].rx_mpps] | max),
		    windows: $w,
		    total: { seconds: (($b.t - $a.t) / 1e9 | r3), syns_received: $rx, answers_sent: $tx,
		             out_port_tx: d($a.out_tx; $b.out_tx),
		             answers_per_syn: (if $rx > 0 then ($tx / $rx * 10000 | round / 10000) else null end),
		             drops: $dd, agent_workers: $da,
		             work_cycles_per_syn: (if $rx > 0 then (d($a.work; $b.work) / $rx * 10 | round / 10) else null end),
		             seconds_errors: (($b.t_errors - $a.t_errors) / 1e9), seconds_agents: (($b.t_agents - $a.t_agents) / 1e9) },
		    agent_site_a: $ag
		  }' "$run/snaps" >"$run/raw.json"
	# The accounting: every SYN received must be answered or counted.  The
	# port, drop and S4 counters come from three sluicectl calls, read a
	# moment apart, so they are compared as rates, each over its own
	# interval (the counts are there too).
	jq --arg mode "$mode" '
		.total as $t | ($t.drops) as $d | ($t.agent_workers) as $a
		| ($t.syns_received / $t.seconds) as $in
		| def per_s($n; $s): if $s > 0 then $n / $s else 0 end;
		. + {accounting: (
		    if $mode == "icmp" then
		      { syns: $t.syns_received, acl_denied: ($a.acl_denied // 0),
		        answered: $t.answers_sent, icmp_ratelimit: ($d.icmp_ratelimit // 0),
		        counted_per_s: per_s($a.acl_denied // 0; $t.seconds_agents),
		        answered_or_ratelimited_per_s: (per_s($t.answers_sent; $t.seconds) + per_s($d.icmp_ratelimit // 0; $t.seconds_errors)) }
		    elif $mode == "rst" then
		      { syns: $t.syns_received, rule_reject: ($d.rule_reject // 0), answered: $t.answers_sent,
		        counted_per_s: per_s($d.rule_reject // 0; $t.seconds_errors) }
		    else
		      { syns: $t.syns_received, syn_held: ($a.syn_held // 0), syn_dup: ($a.syn_dup // 0),
		        held_refused: ($a.held_refused // 0),
		        held_or_refused: (($a.syn_held // 0) + ($a.syn_dup // 0) + ($a.held_refused // 0)),
		        counted_per_s: per_s(($a.syn_held // 0) + ($a.syn_dup // 0) + ($a.held_refused // 0); $t.seconds_agents),
		        timeouts: ($a.timeouts // 0), unreachable: ($a.unreachable // 0), no_agent: ($a.no_agent // 0),
		        late: ($a.late // 0), offer_failed: ($d.agent_offer // 0),
		        icmp_answers_sent: $t.answers_sent, icmp_ratelimit: ($d.icmp_ratelimit // 0) }
		    end
		    | . + { syns_per_s: $in,
		            unaccounted_share: (if $in > 0 then (($in - .counted_per_s) / $in * 1e4 | round / 1e4) else null end) }) }' \
		"$run/raw.json" >"$work/agent-$mode.json"
	say "$mode: $(jq -c '{tx_mpps, rx_mpps, accounting, windows}' "$work/agent-$mode.json")"
	# rates over intervals read a moment apart: allow 2%
	jq -e '(.accounting.unaccounted_share | fabs) <= 0.02' "$work/agent-$mode.json" >/dev/null ||
		sl_fail "$mode: $(jq -c .accounting "$work/agent-$mode.json"): SYNs neither answered nor counted"
}

# ------------------------------------------------------ relay: agent and ssh ----
# process-tree CPU: utime + stime + cutime + cstime of PID and its descendants
tree_ticks() {
	"$SL_PY" - "$1" <<'EOF'
import os, sys
root = int(sys.argv[1]); par = {}; ticks = {}
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        s = open("/proc/%s/stat" % d).read()
    except OSError:
        continue
    f = s[s.rindex(")") + 2:].split()
    par[int(d)] = int(f[1])
    ticks[int(d)] = sum(int(x) for x in f[11:15])
tot = 0
for p, t in ticks.items():
    q = p
    while q and q != root:
        q = par.get(q, 0)
    tot += t if q == root else 0
print(tot)
EOF
}

# bulk NS HOST PORT JSON_OUT ARGS...: bulkclient in NS
bulk() {
	local ns=$1 host=$2 port=$3 out=$4 rc=0
	shift 4
	ip netns exec "$ns" timeout -k 5 900 "$SL_PY" "$SL_ROOT/scripts/bulkclient.py" \
		--host "$host" --port "$port" --json-out "$out" "$@" >/dev/null 2>>"$run/bulkclient.log" || rc=$?
	[[ -s $out ]] && say "bulkclient $host:$port $*: $(jq -c '{ok, failed, bytes, seconds, mbit_s, errors}' "$out")"
	return "$rc"
}

# connload NS HOST PORT JSON_OUT [CONCURRENCY SECONDS]: short HTTP requests,
# $conc at a time for $conn_s seconds unless given
connload() {
	local rc=0
	ip netns exec "$1" timeout -k 5 $((conn_s + 60)) "$SL_PY" "$SL_ROOT/scripts/connload.py" \
		--host "$2" --port "$3" --concurrency "${5:-$conc}" --seconds "${6:-$conn_s}" --expect site-a \
		--json-out "$4" >/dev/null 2>>"$run/connload.log" || rc=$?
	[[ -s $4 ]] || return 1
	say "connload $2:$3: $(cat "$4")"
	# a few requests may fail: the site's server (Python, listen backlog 5)
	# drops SYNs when its accept queue overflows, on every path alike
	((rc == 0)) || jq -e '.ok > 0 and .failed <= 0.05 * (.ok + .failed)' "$4" >/dev/null
}

# The busiest thread of sluice-dp (the polling worker): "tid run_ns wait_ns"
# from its schedstat (time on a CPU, time runnable but waiting for one).
# cycles_work and cycles_io are TSC time: a worker preempted by the other
# processes of a loaded 2-core machine keeps counting; wait_ns says how much.
worker_sched() {
	local t best='' bt=-1 v
	for t in /proc/"$SL_DP_PID"/task/*; do
		v=$(awk '{ print $1 }' "$t/schedstat" 2>/dev/null) || continue
		((v > bt)) && { bt=$v; best=${t##*/}; }
	done
	[[ -n $best ]] || { echo "0 0 0"; return 0; }
	echo "$best $(awk '{ print $1, $2 }' "/proc/$SL_DP_PID/task/$best/schedstat")"
}

# TCP counters of a namespace (nstat, absolute, history untouched), as JSON
tcp_counters() {
	ip netns exec "$1" nstat -asz TcpExtListenOverflows TcpExtListenDrops TcpExtTCPSynRetrans \
		TcpRetransSegs TcpActiveOpens TcpPassiveOpens TcpAttemptFails 2>/dev/null |
		awk 'NF >= 2 && $1 !~ /^#/ { printf "%s{\"%s\": %s}", (n++ ? "," : "["), $1, $2 } END { print (n ? "]" : "[]") }' |
		jq -c 'add // {}'
}
# tcp_delta BEFORE AFTER: the counters that moved
tcp_delta() {
	jq -n -c --argjson a "$1" --argjson b "$2" '$b | to_entries | map(select(.value != ($a[.key] // 0)) | {key, value: (.value - ($a[.key] // 0))}) | from_entries'
}

wsum() { # wsum FIELD: that counter of `show stats` summed over the workers
	sl_ctl_json show stats | jq --arg f "$1" '[.lcores[] | select(.name != "main") | .[$f]] | add'
}

# Sluice: worker cycles outside the bursts + sluice-cp + sluice-agent
sluice_cpu() { # -> "work_cycles io_cycles cp_ticks agent_ticks"
	local s
	s=$(sl_ctl_json show stats)
	printf '%s %s %s %s\n' \
		"$(jq '[.lcores[] | select(.name != "main") | .cycles_work] | add' <<<"$s")" \
		"$(jq '[.lcores[] | select(.name != "main") | .cycles_io] | add' <<<"$s")" \
		"$(sl_proc_cpu_ticks "$SL_CP_PID")" "$(sl_proc_cpu_ticks "$SL_AGENT_A_PID")"
}

# connload_tcp NAME NS HOST PORT: connload with the TCP counters of the
# client, agent host and server namespaces around it ($run/NAME.json,
# $run/NAME-tcp.json)
connload_tcp() {
	local name=$1 ns=$2 a0 a1 b0 b1 c0 c1 rc=0 perf_pid=
	a0=$(tcp_counters "$ns") b0=$(tcp_counters "$SL_NS_SA") c0=$(tcp_counters "$SL_NS_LA")
	if [[ -n ${BENCH_AGENT_PERF:-} ]]; then
		mkdir -p "$BENCH_AGENT_PERF"
		perf record -q -g -a -o "$BENCH_AGENT_PERF/$name.perf" -- sleep "$conn_s" 2>/dev/null &
		perf_pid=$!
	fi
	connload "$ns" "$3" "$4" "$run/$name.json" || rc=$?
	[[ -z $perf_pid ]] || wait "$perf_pid" || true
	a1=$(tcp_counters "$ns") b1=$(tcp_counters "$SL_NS_SA") c1=$(tcp_counters "$SL_NS_LA")
	jq -n -c --argjson a "$(tcp_delta "$a0" "$a1")" --argjson b "$(tcp_delta "$b0" "$b1")" \
		--argjson c "$(tcp_delta "$c0" "$c1")" '{client_ns: $a, agent_host_ns: $b, server_ns: $c}' >"$run/$name-tcp.json"
	say "$name TCP counters: $(cat "$run/$name-tcp.json")"
	return "$rc"
}

measure_sluice() {
	local srv=$SL_SITE_SRV tcp_after errs_after ok0 ok1 w0 io0 c0 a0 w1 io1 c1 a1 tsc ag0 ag1 iw0 iw1 ic0 ic1 ia0 ia1 it0 it1
	local r0 q0 r1 q1
	tsc=$(sl_ctl_json show stats | jq .tsc_hz)
	ok0=$(sl_agents_json | jq '.workers.ok')
	bulk "$SL_NS_C" "$srv" 9000 "$run/warm.json" download --size 64M || sl_fail "warm-up download through the agent"
	ok1=$(sl_agents_json | jq '.workers.ok')
	((ok1 > ok0)) || sl_fail "the warm-up download did not go through the agent (show agents workers.ok $ok0 -> $ok1)"
	# what the three cost doing nothing (5 s): the fixed part of the figure
	it0=$(now_ns)
	read -r iw0 _ ic0 ia0 < <(sluice_cpu)
	sleep 5
	read -r iw1 _ ic1 ia1 < <(sluice_cpu)
	it1=$(now_ns)
	read -r _ r0 q0 < <(worker_sched)
	read -r w0 io0 c0 a0 < <(sluice_cpu)
	bulk "$SL_NS_C" "$srv" 9000 "$run/dl.json" download --size "$size" || sl_fail "download through the agent"
	read -r w1 io1 c1 a1 < <(sluice_cpu)
	read -r _ r1 q1 < <(worker_sched)
	# one at a time first, on a fresh connection table: the latency of a
	# connection without queueing (recorded, never fatal)
	connload "$SL_NS_C" "$srv" 80 "$run/conn1.json" 1 5 || say "one-at-a-time connections through the agent: some failed"
	[[ -s $run/conn1.json ]] || echo null >"$run/conn1.json"
	# connections per second through the agent, and what they cost
	ag0=$(sl_agents_json)
	local cw0 ci0 cc0 ca0 cw1 ci1 cc1 ca1
	read -r cw0 ci0 cc0 ca0 < <(sluice_cpu)
	# failed requests are counted (connects.failed), not fatal: the rate is of
	# the requests that succeeded
	connload_tcp conn "$SL_NS_C" "$srv" 80 || say "connection-rate run through the agent: more than 5% failed"
	jq -e '.ok > 0' "$run/conn.json" >/dev/null 2>&1 || sl_fail "no request succeeded through the agent"
	read -r cw1 ci1 cc1 ca1 < <(sluice_cpu)
	ag1=$(sl_agents_json)
	tcp_after=$(sl_ctl_json show tcp | jq -c '{active, time_wait, opened_passive, challenge_acks}')
	errs_after=$(sl_ctl_json show errors | jq -c '[.drops[] | select(.reason | test("^tcp_")) | {(.reason): .count}] | add // {}')
	jq -n --slurpfile r "$run/dl.json" --slurpfile c "$run/conn.json" --argjson tsc "$tsc" --argjson hz "$clk_tck" \
		--argjson w $((w1 - w0)) --argjson io $((io1 - io0)) --argjson cp $((c1 - c0)) --argjson ag $((a1 - a0)) \
		--argjson cw $((cw1 - cw0)) --argjson ci $((ci1 - ci0)) --argjson cc $((cc1 - cc0)) --argjson ca $((ca1 - ca0)) \
		--argjson idle_s "$(((it1 - it0) / 1000000))e-3" --argjson iw $((iw1 - iw0)) --argjson icp $((ic1 - ic0)) \
		--argjson iag $((ia1 - ia0)) --argjson run_ns $((r1 - r0)) --argjson wait_ns $((q1 - q0)) \
		--slurpfile ct "$run/conn-tcp.json" --slurpfile c1 "$run/conn1.json" --argjson ag0 "$ag0" --argjson ag1 "$ag1" \
		--argjson tcp_after "$tcp_after" --argjson errs_after "$errs_after" '
		$r[0] as $r | $c[0] as $c | ($r.bytes / 1e9) as $gb
		| ($w / $tsc) as $work | ($io / $tsc) as $ios | ($cp / $hz) as $cps | ($ag / $hz) as $ags
		| ($ag0.agents[] | select(.name == "site-a")) as $a0 | ($ag1.agents[] | select(.name == "site-a")) as $a1
		| {
		  bytes: $r.bytes, seconds: $r.seconds, mbit_s: $r.mbit_s, sha256_match: $r.sha256_match,
		  worker_work_s: $work, worker_io_s: $ios, cp_cpu_s: $cps, agent_cpu_s: $ags,
		  cpu_s_per_gb: (($work + $cps + $ags) / $gb),
		  cpu_s_per_gb_with_io: (($work + $ios + $cps + $ags) / $gb),
		  idle: { seconds: $idle_s, worker_work_s: ($iw / $tsc), cp_cpu_s: ($icp / $hz), agent_cpu_s: ($iag / $hz) },
		  worker_thread: { on_cpu_s: ($run_ns / 1e9), runnable_waiting_s: ($wait_ns / 1e9),
		                   note: "schedstat of the busiest sluice-dp thread over the download: cycles_work/io are TSC time and count the waiting too" },
		  connects: $c,
		  connects_per_s: $c.per_s,
		  connect_cpu_ms: (($ag1.workers.ok - $ag0.workers.ok) as $n
		    | if $n > 0 then (($cw / $tsc + $cc / $hz + $ca / $hz) / $n * 1000) else null end),
		  connect_cpu_note: "CPU over the whole connection-rate run (warm-up included) / relays the agent made in it (workers.ok)",
		  connect_cpu_split_s: { worker_work: ($cw / $tsc), worker_io: ($ci / $tsc), cp: ($cc / $hz), agent: ($ca / $hz) },
		  connect_agent_counters: { ok: ($ag1.workers.ok - $ag0.workers.ok),
		    offers: ($a1.offers - $a0.offers), waited_for_stream: ($a1.waited_for_stream - $a0.waited_for_stream),
		    streams_opened: ($a1.streams_total - $a0.streams_total),
		    timeouts: ($a1.timeouts - $a0.timeouts), held_refused: ($ag1.workers.held_refused - $ag0.workers.held_refused),
		    syn_dup: ($ag1.workers.syn_dup - $ag0.workers.syn_dup) },
		  connect_tcp_counters: $ct[0],
		  connects_one_at_a_time: $c1[0],
		  appliance_tcp_after_connects: $tcp_after, appliance_tcp_drops_total: $errs_after
		}' >"$work/agent-relay-sluice.json"
	say "sluice relay: $(jq -c . "$work/agent-relay-sluice.json")"
}

ssh_setup() {
	local k=$run/ssh
	command -v ssh >/dev/null || sl_fail "ssh not installed (Debian openssh-client)"
	if [[ ! -x /usr/sbin/sshd ]]; then
		# installing openssh-server starts the host's sshd unless policy-rc.d forbids it
		if [[ ! -x /usr/sbin/policy-rc.d ]] || ! sl_need_pkgs sshd:openssh-server; then
			sl_fail "sshd is not installed (apt-get install openssh-server)"
		fi
	fi
	mkdir -p "$k"
	chmod 700 "$k"
	ssh-keygen -q -t ed25519 -N '' -C sluice-bench-host -f "$k/host_ed25519" || sl_fail "ssh-keygen (host key)"
	ssh-keygen -q -t ed25519 -N '' -C sluice-bench-client -f "$k/id_ed25519" || sl_fail "ssh-keygen (client key)"
	cp "$k/id_ed25519.pub" "$k/authorized_keys"
	if [[ ! -d /run/sshd ]]; then # sshd's privilege separation directory
		mkdir -p /run/sshd
		chmod 755 /run/sshd
		sl_track path /run/sshd
	fi
	cat >"$k/sshd_config" <<EOF
# bench/agent.sh: sshd in site A's agent host namespace, only for this run
ListenAddress $SL_SITE_A_ADDR:2222
HostKey $k/host_ed25519
AuthorizedKeysFile $k/authorized_keys
PidFile none
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
Ciphers aes128-gcm@openssh.com
Compression no
AllowTcpForwarding yes
PermitTTY no
X11Forwarding no
UseDNS no
LogLevel ERROR
EOF
	/usr/sbin/sshd -t -f "$k/sshd_config" || sl_fail "sshd -t rejects $k/sshd_config"
	# the agent host has no route to the clients: give it one (through the appliance)
	ip -n "$SL_NS_SA" route add 198.18.0.0/24 via "$SL_WAN_ADDR" || sl_fail "route to the clients in $SL_NS_SA"
	sl_spawn "$run/sshd.log" sshd --ns "$SL_NS_SA" -- /usr/sbin/sshd -D -e -f "$k/sshd_config"
	SSHD_PID=$SL_LAST_PID
	sl_wait_for 10 "sshd on $SL_SITE_A_ADDR:2222" sl_listening_on "$SL_NS_SA" "$SL_SITE_A_ADDR" 2222 ||
		sl_fail "sshd did not start: $(tail -n 5 "$run/sshd.log")"
	[[ $(readlink "/proc/$SSHD_PID/exe") == */sshd ]] || sl_fail "pid $SSHD_PID is not sshd"
	sl_spawn "$run/ssh.log" ssh --ns "$SL_NS_C" -- ssh -F /dev/null -N -T -p 2222 -i "$k/id_ed25519" \
		-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o Ciphers=aes128-gcm@openssh.com -o Compression=no -o ExitOnForwardFailure=yes \
		-o ServerAliveInterval=0 \
		-L "127.0.0.1:19000:$SL_SITE_SRV:9000" -L "127.0.0.1:18080:$SL_SITE_SRV:80" "root@$SL_SITE_A_ADDR"
	SSH_PID=$SL_LAST_PID
	sl_wait_for 20 "ssh -L on 127.0.0.1:19000 in $SL_NS_C" sl_listening_on "$SL_NS_C" 127.0.0.1 19000 ||
		sl_fail "ssh -L did not come up: $(tail -n 5 "$run/ssh.log")"
	[[ $(readlink "/proc/$SSH_PID/exe") == */ssh ]] || sl_fail "pid $SSH_PID is not ssh"
}

ssh_cpu() { echo $(($(tree_ticks "$SSH_PID") + $(tree_ticks "$SSHD_PID"))); }

measure_ssh() {
	local c0 c1 cc0 cc1 s0 s1
	bulk "$SL_NS_C" 127.0.0.1 19000 "$run/ssh-warm.json" download --size 64M || sl_fail "warm-up download through ssh -L"
	c0=$(ssh_cpu)
	s0=$(tree_ticks "$SSH_PID")
	bulk "$SL_NS_C" 127.0.0.1 19000 "$run/ssh-dl.json" download --size "$size" || sl_fail "download through ssh -L"
	c1=$(ssh_cpu)
	s1=$(tree_ticks "$SSH_PID")
	connload "$SL_NS_C" 127.0.0.1 18080 "$run/ssh-conn1.json" 1 5 || say "one-at-a-time connections through ssh -L: some failed"
	[[ -s $run/ssh-conn1.json ]] || echo null >"$run/ssh-conn1.json"
	cc0=$(ssh_cpu)
	connload_tcp ssh-conn "$SL_NS_C" 127.0.0.1 18080 || say "connection-rate run through ssh -L: more than 5% failed"
	jq -e '.ok > 0' "$run/ssh-conn.json" >/dev/null 2>&1 || sl_fail "no request succeeded through ssh -L"
	cc1=$(ssh_cpu)
	jq -n --slurpfile r "$run/ssh-dl.json" --slurpfile c "$run/ssh-conn.json" --argjson hz "$clk_tck" \
		--slurpfile ct "$run/ssh-conn-tcp.json" --slurpfile c1 "$run/ssh-conn1.json" \
		--argjson t $((c1 - c0)) --argjson ts $((s1 - s0)) --argjson ctk $((cc1 - cc0)) \
		--arg ver "$(ssh -V 2>&1)" '
		$r[0] as $r | $c[0] as $c | ($r.bytes / 1e9) as $gb | ($t / $hz) as $cpu
		| { bytes: $r.bytes, seconds: $r.seconds, mbit_s: $r.mbit_s, sha256_match: $r.sha256_match,
		    cpu_s: $cpu, ssh_cpu_s: ($ts / $hz), sshd_cpu_s: (($t - $ts) / $hz),
		    cpu_s_per_gb: ($cpu / $gb),
		    connects: $c, connects_per_s: $c.per_s,
		    connect_cpu_ms: (($ct[0].client_ns.TcpActiveOpens // 0) as $n
		      | if $n > 0 then ($ctk / $hz / $n * 1000) else null end),
		    connect_cpu_note: "ssh + sshd CPU over the whole connection-rate run (warm-up included) / connections opened in it (client namespace TcpActiveOpens)",
		    connect_tcp_counters: $ct[0], connects_one_at_a_time: $c1[0],
		    version: $ver,
		    setup: "ssh -N -L (client namespace) to sshd -D (site A agent host namespace, own config, host key and authorized key), Ciphers aes128-gcm@openssh.com, Compression no; through the appliance forwarding between its client and wan ports; CPU = utime+stime of ssh and of the sshd listener with its session processes" }' \
		>"$work/agent-relay-ssh.json"
	say "ssh relay: $(jq -c . "$work/agent-relay-ssh.json")"
}

run_relay() {
	part_init relay
	sl_need_binaries
	sl_need_pkgs tinyproxy nft:nftables || sl_fail "the S4 topology needs tinyproxy and nftables"
	sl_certs >/dev/null
	local id=$$ errs=()
	SL_PREFIX=slag$id SL_NS_C=slag${id}c SL_NS_S=slag${id}s SL_TAP_C=slag${id}tc SL_TAP_S=slag${id}ts
	SL_SOCK=$run/ctl.sock
	SL_CONF=$run/sluice.conf
	SL_MEM_MB=$mem
	SL_LCORES=$lcores
	# a pool deep enough for $conc connections at once (the appliance's hint)
	SL_AGENTS_CONF_EXTRA="hold_timeout_ms = 3000; connect_timeout_ms = 1500; keepalive_ms = 1000; stream_pool = 64;"
	sl_agent_appliance_start
	cp "$SL_CONF" "$work/agent-relay.conf"
	sl_agent_up a
	# many short connections from the client: ports to spare
	ip netns exec "$SL_NS_C" sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1 || true
	ip netns exec "$SL_NS_LA" curl -sf -m 300 -o /dev/null "http://$SL_SITE_SRV:9000/sha256/$size" ||
		sl_fail "prewarm /sha256/$size on the site's bulk server"
	rm -f "$work/agent-relay-sluice.json" "$work/agent-relay-ssh.json" "$work/agent-relay-direct.json"
	# Each half in a subshell of its own, in the background so that errexit
	# holds inside it (it is off in the left side of ||); what they start is
	# in the state file, stopped by this part's cleanup.
	(measure_sluice) 2>"$run/sluice.err" &
	wait $! || errs+=("sluice: $(last_fail "$run/sluice.err")")
	cat "$run/sluice.err" >&2
	# the site server's own ceiling: the same requests from the agent host itself
	connload_tcp direct "$SL_NS_SA" "$SL_SITE_SRV" 80 || true
	if [[ -s $run/direct.json ]]; then
		jq -c --slurpfile t "$run/direct-tcp.json" '. + {tcp_counters: $t[0]}' "$run/direct.json" >"$work/agent-relay-direct.json"
	else
		errs+=("direct: the connection-rate run from the agent host gave no result")
	fi
	(
		ssh_setup
		measure_ssh
	) 2>"$run/ssh.err" &
	wait $! || errs+=("ssh: $(last_fail "$run/ssh.err")")
	cat "$run/ssh.err" >&2
	((${#errs[@]} == 0)) || sl_fail "$(printf '%s; ' "${errs[@]}")"
}

last_fail() { # last_fail FILE: the last FAIL/ERROR line in it
	{ grep -E 'FAIL:|ERROR:' "$1" 2>/dev/null || echo "failed"; } | tail -n 1 | sed -E 's/^[0-9:.]+ (FAIL|ERROR): //'
}

# ------------------------------------------------------------------ merge ----
part_error() {
	local why
	why=$(grep -E 'FAIL:|ERROR:' "$work/agent-$1.log" 2>/dev/null | tail -n 1 | sed -E 's/^[0-9:.]+ (FAIL|ERROR): //') || true
	printf '%s: %s' "$1" "${why:-failed (see bench/work/agent-$1.log)}"
}

run_all() {
	local errs=() p t0 load0
	t0=$(date +%s)
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	make_pcap
	for p in testpmd icmp rst hold relay; do
		rm -f "$work/agent-$p.json"
		say "$p (log bench/work/agent-$p.log)"
		"${BASH_SOURCE[0]}" "$p" >"$work/agent-$p.log" 2>&1 || errs+=("$(part_error "$p")")
	done
	local err=null
	((${#errs[@]} == 0)) || err=$(printf '%s\n' "${errs[@]}" | jq -R . | jq -s 'join("; ")')
	j() { [[ -s $work/agent-$1.json ]] && jq -e -c . "$work/agent-$1.json" 2>/dev/null || echo null; }
	local cpu load
	cpu=$(awk -F: '/^model name/ { sub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo)
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	jq -n --argjson tp "$(j testpmd)" --argjson ic "$(j icmp)" --argjson rs "$(j rst)" --argjson ho "$(j hold)" \
		--argjson sl "$(j relay-sluice)" --argjson ss "$(j relay-ssh)" --argjson di "$(j relay-direct)" \
		--argjson err "$err" --arg size "$size" --argjson n "$npkts" --argjson srcs "$nsrcs" \
		--argjson conc "$conc" --argjson cs "$conn_s" --arg lcores "$lcores" \
		--argjson seconds "$seconds" --argjson windows "$windows" --argjson warmup "$warmup" \
		--argjson icmp_rate "$ICMP_RATE" --argjson icmp_burst "$ICMP_BURST" \
		--argjson wall $(($(date +%s) - t0)) \
		--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$(hostname)" --arg cpu "$cpu" \
		--arg ncpu "$(nproc)" --arg load "$load" --arg load0 "$load0" --arg kernel "$(uname -r)" \
		--arg dpdk "$(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo unknown)" \
		--arg ssh "$(ssh -V 2>&1)" \
		--arg commit "$(git -C "$SL_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" '
		def r3: if . == null then null else (. * 1000 | round) / 1000 end;
		def ratio($a; $b): if $a != null and ($b // 0) > 0 then ($a / $b | r3) else null end;
		($tp.tx_mpps // null) as $ref
		| {
		  synth_mpps: ([$ic.tx_mpps, $rs.tx_mpps] | if any(. == null) then null else min end),
		  synth_ratio: ratio([$ic.tx_mpps, $rs.tx_mpps] | if any(. == null) then null else min end; $ref),
		  synth_icmp_mpps: ($ic.tx_mpps // null), synth_icmp_ratio: ratio($ic.tx_mpps; $ref),
		  synth_icmp_rx_mpps: ($ic.rx_mpps // null), synth_icmp_rx_ratio: ratio($ic.rx_mpps; $ref),
		  synth_rst_mpps: ($rs.tx_mpps // null), synth_rst_ratio: ratio($rs.tx_mpps; $ref),
		  testpmd_5tswap_mpps: $ref,
		  hold_mpps: ($ho.rx_mpps // null), hold_ratio: ratio($ho.rx_mpps; $ref),
		  sluice_relay_cpu_s_per_gb: ($sl.cpu_s_per_gb // null | r3),
		  sluice_relay_cpu_s_per_gb_with_io: ($sl.cpu_s_per_gb_with_io // null | r3),
		  ssh_cpu_s_per_gb: ($ss.cpu_s_per_gb // null | r3),
		  relay_ratio: ratio($sl.cpu_s_per_gb; $ss.cpu_s_per_gb),
		  connects_per_s: ($sl.connects_per_s // null), ssh_connects_per_s: ($ss.connects_per_s // null),
		  connects_failed: ($sl.connects.failed // null), ssh_connects_failed: ($ss.connects.failed // null),
		  connects_ratio: ratio($sl.connects_per_s; $ss.connects_per_s),
		  direct_connects_per_s: ($di.per_s // null),
		  targets: {synth_ratio: ">= 0.85", hold_ratio: ">= 0.5", relay_ratio: "<= 0.5", connects_ratio: ">= 1.0"},
		  error: $err, date: $date, wall_s: $wall,
		  method: {
		    synthetic: "pcap of \($n) distinct 64-byte TCP SYNs (60 B + FCS; bench/gen_pcap.py --syn) from \($srcs) sources of 198.18.64.0/18 to 198.19.203.0/24:80, replayed by net_pcap infinite_rx=1 on port in (its TX counts and frees, no tx_pcap); net_null0 no-rx=1 as port out; lcores \($lcores) (main + one worker). The clients are routed via 198.18.0.2, one static neighbour on port in, so every answer is transmitted on port in. dataplane icmp_rate=\($icmp_rate), icmp_burst=\($icmp_burst) (the largest the config accepts). \($warmup) s warm-up, windows of \($seconds) s x \($windows), best window. Rates: growth of port in opackets (answers, *_mpps) and ipackets (SYNs, *_rx_mpps) per second from sluicectl --json show ports (stats_period_ms=10).",
		    synth_icmp: "agents section + vnet a (clients 198.18.64.0/18, route 198.19.200.0/22 to agent site-a, never connected) with ACL {dst 198.19.203.0/24, tcp, reject}: each SYN -> ICMP 3/13 from the vnet gateway, rate-limited by icmp_rate (drops icmp_ratelimit). synth_icmp_mpps = answers transmitted; synth_icmp_rx_mpps = SYNs the worker took in and answered or counted.",
		    synth_rst: "no vnets; policy rule {dst 198.19.203.0/24, tcp, reject} on forwarded traffic: each SYN -> RST+ACK from the server address, rewritten in place (not rate-limited).",
		    synth_mpps: "min of synth_icmp_mpps and synth_rst_mpps (the ICMP one on this code: it is capped by icmp_rate)",
		    hold: "as synth_icmp without the ACL, agent site-a connected over a net_tap wan port, its LAN router black-holing 198.19.203.0/24: held SYNs get ICMP host unreachable after hold_timeout_ms 3000, the table stays at its bounds (held_per_vnet 2048 of held_max 4096); hold_mpps = SYNs taken in per second (port in ipackets), each held, absorbed as a duplicate or refused by a bound (show agents --json .workers syn_held + syn_dup + held_refused = ipackets, checked to 1%).",
		    reference: "dpdk-testpmd --forward-mode=5tswap --port-topology=loop --nb-cores=1 on the same pcap and vdevs and lcores: every SYN sent back in place on port 0; Tx-pps of port 0 (best window).",
		    relay: "S4 topology of scripts/lib.sh (sl_agent_appliance_start: net_tap client/server/wan ports, wan bridge, two sites; agent site-a connected; agents.stream_pool 64). One \($size) download (GB = 1e9 bytes) from scripts/bulkserver.py on the site LAN server 198.19.200.10:9000, sha256-checked by scripts/bulkclient.py in the client namespace, after a 64 MiB warm-up. Sluice CPU = workers cycles_work / tsc_hz + sluice-cp utime+stime + sluice-agent utime+stime; with_io adds cycles_io. SSH: ssh -N -L in the client namespace to sshd (Debian openssh-server, own config/host key/authorized key) in site A agent host namespace, aes128-gcm@openssh.com, same download to 127.0.0.1:19000; CPU = ssh + sshd (listener and session processes) utime+stime. relay_ratio = Sluice / SSH CPU per GB.",
		    connects: "scripts/connload.py: \($conc) concurrent workers, each connect + GET / HTTP/1.0 + read to close, for \($cs) s after 1 s warm-up, to the site HTTP server 198.19.200.10:80 through the agent, and through ssh -L (127.0.0.1:18080); connects_per_s counts the requests that succeeded (connects_failed: those that did not); connects_ratio = agent / ssh. Before each, 5 s one request at a time (connects_one_at_a_time: latency without queueing). direct_connects_per_s: the same from the agent host namespace straight to the server (the server ceiling)."
		  },
		  testpmd: $tp, icmp: $ic, rst: $rs, hold: $ho,
		  relay: {sluice: $sl, ssh: $ss, direct: $di},
		  env: {host: $host, cpu: $cpu, cpus: $ncpu, loadavg_at_start: $load0, loadavg_at_end: $load, kernel: $kernel, dpdk: $dpdk,
		        ssh: $ssh, commit: $commit}
		}' >"$results/agent.json"
	say "wrote $results/agent.json"
	jq -r '"agent: synth icmp \(.synth_icmp_mpps) Mpps (\(.synth_icmp_ratio); SYNs in \(.synth_icmp_rx_mpps) Mpps, \(.synth_icmp_rx_ratio)), rst \(.synth_rst_mpps) Mpps (\(.synth_rst_ratio)), testpmd 5tswap \(.testpmd_5tswap_mpps) Mpps; hold \(.hold_mpps) Mpps (\(.hold_ratio)); relay \(.sluice_relay_cpu_s_per_gb) CPU s/GB vs ssh \(.ssh_cpu_s_per_gb) (\(.relay_ratio)); connects \(.connects_per_s)/s (\(.connects_failed) failed) vs ssh \(.ssh_connects_per_s)/s (\(.ssh_connects_failed) failed) (\(.connects_ratio))" + (if .error then "\nINCOMPLETE: \(.error)" else "" end)' \
		"$results/agent.json"
	((${#errs[@]} == 0))
}

case ${1:-all} in
testpmd) run_testpmd ;;
icmp | rst | hold) run_pcap_part "$1" ;;
relay) run_relay ;;
all) run_all ;;
*) sl_die "usage: bench/agent.sh [testpmd|icmp|rst|hold|relay|all]" ;;
esac
