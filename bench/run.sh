#!/usr/bin/env bash
# `make bench`: the forwarding benchmark (see bench/README.md).
#
# 1. bench/gen_pcap.py writes bench/work/fwd64.pcap: 64-byte IPv4/UDP frames
#    to 48.0.0.0/8 (routed via 198.19.0.2 on the output port).
# 2. sluice-dp (one worker) replays it with net_pcap,infinite_rx=1 and routes
#    it to net_null; Mpps = growth of the output port's opackets
#    (`sluicectl --json show ports`) over each window after a warm-up.
# 3. dpdk-testpmd --forward-mode=macswap on the same pcap and vdevs, same
#    lcores, same windows; Mpps = testpmd's own Tx-pps of the output port
#    between two `show port stats` (TSC-timed).
# 4. bench/results/forward.json: sluice_mpps, testpmd_macswap_mpps, ratio
#    (the best window of each), every window, date, method; prints the ratio.
# Then record crypto (bench/results/crypto.json), the TCP relay
# (bench/tcp.sh -> bench/results/tcp.json), the TLS relay (bench/tls.sh ->
# bench/results/tls.json) and S4's agents (bench/agent.sh ->
# bench/results/agent.json: SYNs answered and held against testpmd 5tswap,
# relay CPU and connections per second against ssh -L).
#
# Environment: BENCH_SECONDS (window, default 10), BENCH_WINDOWS (default 3),
# BENCH_WARMUP (default 2), BENCH_PACKETS (pcap size, default 2048),
# BENCH_LCORES (default 0-1: main lcore + one worker / forwarding core).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

seconds=${BENCH_SECONDS:-10}
windows=${BENCH_WINDOWS:-3}
warmup=${BENCH_WARMUP:-2}
npkts=${BENCH_PACKETS:-2048}
lcores=${BENCH_LCORES:-0-1}
testpmd=${TESTPMD:-dpdk-testpmd}

say() { printf 'bench: %s\n' "$*"; }
[[ $(id -u) -eq 0 ]] || sl_die "bench: must run as root"
sl_need_binaries
command -v "$testpmd" >/dev/null || sl_die "bench: $testpmd not found (Debian package dpdk-dev)"

benchdir=$SL_ROOT/bench
work=$benchdir/work
results=$benchdir/results
mkdir -p "$work" "$results"
rm -f "$work"/*.log
# A short, private directory for sockets (UNIX socket paths are limited).
run=$(mktemp -d /run/sluice-bench.XXXXXX)
sl_state_init "$run/state"
SL_WORK=$run
trap 'rc=$?; set +e; trap - EXIT INT TERM; sl_cleanup_state "$run/state"; rm -rf "$run"; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pcap=$work/fwd64.pcap
"$SL_PY" "$benchdir/gen_pcap.py" "$pcap" --count "$npkts" --dst-mac 02:53:4c:00:00:01 --dst-net 48.0.0.0/8 |
	sed 's/^/bench: /'

now_ns() { date +%s%N; }

# ------------------------------------------------------------------ sluice ----
SL_PREFIX=slbench$$
SL_SOCK=$run/ctl.sock
conf=$work/forward.conf
sed -e "s|@LCORES@|$lcores|" -e "s|@PREFIX@|$SL_PREFIX|" -e "s|@SOCK@|$SL_SOCK|" \
	-e "s|@PCAP@|$pcap|" -e "s|@MEM_MB@|${BENCH_MEM_MB:-512}|" \
	"$benchdir/forward.conf.in" >"$conf"
"$SL_DP" --check "$conf" >/dev/null || sl_die "bench: $conf does not validate: $("$SL_DP" --check "$conf" 2>&1)"

say "sluice-dp: lcores $lcores, $pcap -> net_null, route 48.0.0.0/8 via 198.19.0.2"
sl_dp_start "$work/sluice-dp.log" -c "$conf"
sl_dp_wait_ready "$work/sluice-dp.log" 60 || sl_die "bench: sluice-dp did not start (log: $work/sluice-dp.log)"
sl_cp_start "$work/sluice-cp.log" -c "$conf"
sl_cp_wait "$work/sluice-cp.log" 40 || sl_die "bench: sluice-cp did not start (log: $work/sluice-cp.log)"

snap() { # snap -> "time_ns opackets(out) ipackets(in) work_cycles io_cycles fwd"
	local t1 t2 ports stats
	t1=$(now_ns)
	ports=$(sl_ctl_json show ports)
	t2=$(now_ns)
	stats=$(sl_ctl_json show stats 2>/dev/null || echo '{}')
	printf '%s %s %s %s %s %s\n' $(((t1 + t2) / 2)) \
		"$(sl_jq_port_stat out opackets <<<"$ports")" \
		"$(sl_jq_port_stat in ipackets <<<"$ports")" \
		"$(jq '[.lcores[] | select(.name != "main") | .cycles_work] | add // 0' <<<"$stats" 2>/dev/null || echo 0)" \
		"$(jq '[.lcores[] | select(.name != "main") | .cycles_io] | add // 0' <<<"$stats" 2>/dev/null || echo 0)" \
		"$(jq '.total.fwd // 0' <<<"$stats" 2>/dev/null || echo 0)"
}

sleep "$warmup"
sl_mpps=()
sl_cpp=()
read -r t0 o0 i0 w0 io0 f0 < <(snap)
for ((w = 1; w <= windows; w++)); do
	sleep "$seconds"
	read -r t1 o1 i1 w1 io1 f1 < <(snap)
	sl_pid_alive "$SL_DP_PID" || sl_die "bench: sluice-dp died (log: $work/sluice-dp.log)"
	m=$(awk -v d=$((o1 - o0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.3f", d / (t / 1e9) / 1e6 }')
	rx=$(awk -v d=$((i1 - i0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.3f", d / (t / 1e9) / 1e6 }')
	cpp=null
	if ((f1 > f0 && w1 > w0)); then
		cpp=$(awk -v c=$((w1 - w0)) -v io=$((io1 - io0)) -v n=$((f1 - f0)) 'BEGIN { printf "{\"work\": %.1f, \"io\": %.1f}", c / n, io / n }')
	fi
	say "sluice window $w: tx $m Mpps (rx $rx Mpps), cycles/packet $cpp"
	sl_mpps+=("$m")
	sl_cpp+=("$cpp")
	t0=$t1 o0=$o1 i0=$i1 w0=$w1 io0=$io1 f0=$f1
done
errors=$(sl_ctl_json show errors 2>/dev/null || echo '{}')
sl_cleanup_state "$run/state" # stops sluice-cp and sluice-dp, removes their hugepage files

# ------------------------------------------------------------------ testpmd ----
tp_prefix=slbtp$$
sl_track prefix "$tp_prefix"
fifo=$run/testpmd.in
mkfifo "$fifo"
tplog=$work/testpmd.log
say "dpdk-testpmd --forward-mode=macswap: lcores $lcores, same pcap and vdevs"
# shellcheck disable=SC2016 # $0/$@ belong to the inner bash
sl_spawn "$tplog" testpmd -- bash -c 'exec "$@" <"$0"' "$fifo" \
	"$testpmd" -l "$lcores" --no-pci --file-prefix "$tp_prefix" -m "${BENCH_MEM_MB:-512}" \
	--vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" --vdev "net_null0,no-rx=1" -- \
	-i --forward-mode=macswap --nb-cores=1 --auto-start
tp_pid=$SL_LAST_PID
exec {tpin}>"$fifo"
sl_wait_for 60 "testpmd to start forwarding" grep -q "testpmd> " "$tplog" || {
	tail -n 30 "$tplog" >&2
	sl_die "bench: testpmd did not start (log: $tplog)"
}
sleep "$warmup"
echo "show port stats 1" >&"$tpin"
for ((w = 1; w <= windows; w++)); do
	sleep "$seconds"
	echo "show port stats 1" >&"$tpin"
done
sleep 0.5
printf 'stop\nquit\n' >&"$tpin"
exec {tpin}>&-
for ((i = 0; i < 300; i++)); do sl_pid_alive "$tp_pid" || break; sleep 0.1; done
sl_cleanup_state "$run/state"

# Tx-pps of port 1 in each "show port stats 1" block; the first is the baseline.
mapfile -t tp_pps < <(awk '/NIC statistics for port 1/ { p = 1 } p && /Tx-pps:/ { print $2; p = 0 }' "$tplog")
((${#tp_pps[@]} == windows + 1)) || sl_die "bench: expected $((windows + 1)) stats blocks from testpmd, got ${#tp_pps[@]} (log: $tplog)"
tp_mpps=()
for ((w = 1; w <= windows; w++)); do
	m=$(awk -v p="${tp_pps[w]}" 'BEGIN { printf "%.3f", p / 1e6 }')
	say "testpmd window $w: tx $m Mpps"
	tp_mpps+=("$m")
done

# ------------------------------------------------------------------ results ----
best() { printf '%s\n' "$@" | sort -g | tail -n1; }
sl_best=$(best "${sl_mpps[@]}")
tp_best=$(best "${tp_mpps[@]}")
ratio=$(awk -v a="$sl_best" -v b="$tp_best" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
cpu=$(awk -F: '/^model name/ { sub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo)
jq -n \
	--argjson sl "$sl_best" --argjson tp "$tp_best" --argjson ratio "$ratio" \
	--argjson slw "$(printf '%s\n' "${sl_mpps[@]}" | jq -s .)" \
	--argjson tpw "$(printf '%s\n' "${tp_mpps[@]}" | jq -s .)" \
	--argjson cpp "$(printf '%s\n' "${sl_cpp[@]}" | jq -s .)" \
	--argjson drops "$(jq -c . <<<"$errors" 2>/dev/null || echo '{}')" \
	--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$(hostname)" --arg cpu "$cpu" \
	--arg kernel "$(uname -r)" --arg lcores "$lcores" --argjson seconds "$seconds" \
	--argjson warmup "$warmup" --argjson packets "$npkts" \
	--arg dpdk "$(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo unknown)" \
	--arg commit "$(git -C "$SL_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	'{
	  sluice_mpps: $sl, testpmd_macswap_mpps: $tp, ratio: $ratio, target_ratio: 0.85,
	  date: $date,
	  method: ("pcap of \($packets) distinct 64-byte IPv4/UDP frames (60 B + FCS) to 48.0.0.0/8, replayed by net_pcap infinite_rx=1 on port 0, transmitted to net_null0 (no-rx=1) on port 1; lcores \($lcores) (main + one worker / forwarding core); \($warmup) s warm-up, then windows of \($seconds) s; best window reported. sluice: growth of port 1 opackets from sluicectl --json show ports (stats_period_ms=10) over wall-clock time, route 48.0.0.0/8 via a static neighbour. testpmd: --forward-mode=macswap --nb-cores=1, Tx-pps of port 1 between consecutive show port stats (TSC-timed)."),
	  windows: {sluice_mpps: $slw, testpmd_macswap_mpps: $tpw},
	  sluice_cycles_per_packet: $cpp,
	  sluice_drops_at_end: $drops,
	  env: {host: $host, cpu: $cpu, kernel: $kernel, dpdk: $dpdk, commit: $commit}
	}' >"$results/forward.json"
say "wrote $results/forward.json"
echo "forwarding: sluice $sl_best Mpps, testpmd macswap $tp_best Mpps, ratio $ratio (target >= 0.85)"

# ------------------------------------------------------------------ crypto ----
# In-path TLS record seal/open (crypto/tls_record.c over 2 KB segments, on the
# engine sluice-dp would pick) against the faster raw engine in the same run:
# intel-ipsec-mb and OpenSSL in-process, and `openssl speed -evp` as well.
cb=$SL_BUILD/bench/crypto_bench
[[ -x $cb ]] || sl_die "bench: $cb not built (run: make)"
say "crypto: in-path record protection vs raw engines"
"$cb" "${BENCH_CRYPTO_SECONDS:-1}" >"$work/crypto.jsonl"
speed() { # speed EVP_NAME BYTES -> Gbit/s from `openssl speed -evp`
	openssl speed -evp "$1" -bytes "$2" -seconds 1 2>/dev/null |
		awk -v b="$2" 'END { v = $NF; sub(/k$/, "", v); printf "%.3f", v * 1000 * 8 / 1e9 }'
}
declare -A evp=([aes-128-gcm]=aes-128-gcm [aes-256-gcm]=aes-256-gcm [chacha20-poly1305]=chacha20-poly1305)
speeds='{}'
for a in "${!evp[@]}"; do
	for b in 16384 1400; do
		speeds=$(jq --arg k "$a/$b" --argjson v "$(speed "${evp[$a]}" "$b")" '. + {($k): $v}' <<<"$speeds")
	done
done
jq -s --argjson speed "$speeds" --arg date "$(date -u +%FT%TZ)" '{
	results: [ .[] | . as $r
		| ([$r.raw["ipsec-mb"], $r.raw.openssl, $speed["\($r.aead)/\($r.record_bytes)"]] | max) as $best
		| {aead, record_bytes, op, in_path_gbps, engine,
		   raw_best_gbps: $best, ratio: ((.in_path_gbps / $best * 1000 | round) / 1000),
		   raw: (.raw + {"openssl speed -evp (seal)": $speed["\($r.aead)/\($r.record_bytes)"]})} ],
	target_ratio: 0.9, date: $date,
	method: "crypto_bench: TLS 1.3 record seal/open through crypto/tls_record.c, records cut into 2 KB segments, engine = the faster raw one; raw = one AEAD call per contiguous buffer in-process (ipsec-mb, OpenSSL EVP) and openssl speed -evp; ratio = in-path / best raw"
	}' "$work/crypto.jsonl" >"$results/crypto.json"
say "wrote $results/crypto.json"
jq -r '.results[] | "crypto: \(.aead) \(.record_bytes) B \(.op): in-path \(.in_path_gbps) Gb/s, best raw \(.raw_best_gbps), ratio \(.ratio)"' "$results/crypto.json"

# ------------------------------------------------------------------ tcp ----
# CPU per relayed GB, Sluice's proxy against HAProxy 2.6 mode tcp, and memory
# per idle proxied connection (bench/tcp.sh).  Its own processes, namespaces
# and cleanup; a half that fails leaves null fields and an "error" string in
# tcp.json without failing `make bench`.
say "tcp: CPU per relayed GB against HAProxy, memory per idle connection"
"$benchdir/tcp.sh" ||
	say "tcp: INCOMPLETE (the reason is in $results/tcp.json \"error\", logs in $work/tcp-*.log)"

# ------------------------------------------------------------------ tls ----
# CPU per GB through the TLS relay against HAProxy and stunnel terminating the
# same download, and full handshakes per second against openssl s_server
# (bench/tls.sh); like tcp.sh, an incomplete half leaves nulls and an "error".
say "tls: CPU per GB through the TLS relay against HAProxy and stunnel, handshakes per second"
"$benchdir/tls.sh" ||
	say "tls: INCOMPLETE (the reason is in $results/tls.json \"error\", logs in $work/tls-*.log)"

# ------------------------------------------------------------------ agents ----
# S4 (bench/agent.sh): SYNs answered (ICMP 3/13 from a vnet ACL, RST from a
# policy rule) and held for an agent, against testpmd 5tswap on the same
# replay; CPU per GB and connections per second through an agent against
# ssh -L over the same namespaces.  Like tcp.sh, an incomplete part leaves
# nulls and an "error".
say "agents: SYN answers and holds against testpmd 5tswap, relay through an agent against ssh -L"
"$benchdir/agent.sh" ||
	say "agents: INCOMPLETE (the reason is in $results/agent.json \"error\", logs in $work/agent-*.log)"
