#!/usr/bin/env bash
# UDP through agents (issue 10): bench/results/udp.json (method in
# bench/README.md, "UDP through agents").
#
# The S4 topology of the tests (scripts/lib.sh sl_agent_appliance_start),
# site A's agent only.  Three measurements, one run:
#   relay     iperf3 -u, one fixed-rate stream of 1,400-byte datagrams from
#             the client to site A's server 198.19.200.10 through the agent
#             (a DA over a DGRAM session): the appliance's worker cycles
#             outside the rx/tx bursts (cycles_work) + sluice-cp + the agent,
#             CPU seconds per GB of payload delivered;
#   openvpn   the same stream between the same namespaces through OpenVPN
#             (TCP transport, AES-128-GCM, TLS with the test PKI): the
#             client in the client namespace, the server on site A's agent
#             host, reached through the appliance's plain forwarding; the
#             two openvpn processes' CPU per GB.  udp_ratio = relay / openvpn;
#   setup     new DAs per second: one datagram each from distinct source
#             ports to the site's UDP echo, BENCH_UDP_DAS of them, 64 in
#             flight, each answered end to end (da_setup_per_s); then
#             sa_reuse_ratio: BENCH_UDP_BURSTS bursts of 50 DAs, each burst
#             after the previous one's DAs aged out (da_idle_ms 1 s, SA
#             policy idle, sa_idle_ms 60 s): DAs served without a new
#             handshake / DAs.
#
# Environment: BENCH_UDP_RATE (iperf3 -b, 200M), BENCH_UDP_SECONDS (10),
# BENCH_UDP_DAS (2000), BENCH_UDP_BURSTS (10), BENCH_LCORES (0-1),
# BENCH_UDP_MEM_MB (256).  Exit status 0 when every part produced numbers.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SL_CERTS=${SL_CERTS:-${SLUICE_BUILD:-$root/build}/certs}
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

rate=${BENCH_UDP_RATE:-200M}
secs=${BENCH_UDP_SECONDS:-10}
ndas=${BENCH_UDP_DAS:-2000}
bursts=${BENCH_UDP_BURSTS:-10}
mem=${BENCH_UDP_MEM_MB:-256}
lcores=${BENCH_LCORES:-0-1}
work=$SL_ROOT/bench/work
results=$SL_ROOT/bench/results
mkdir -p "$work" "$results"
say() { printf 'bench udp: %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || sl_die "bench udp: must run as root"
clk_tck=$(getconf CLK_TCK)

run=$(mktemp -d /run/sluice-bench-udp.XXXXXX)
SL_WORK=$run
SL_NS_SWEEP=1
sl_state_init "$run/state"
sl_track path "$run"
trap 'rc=$?; set +e; trap - EXIT INT TERM; for f in "$run"/*.log; do [[ -e $f ]] && cp "$f" "$work/udp-$(basename "$f")"; done; sl_cleanup_state "$run/state"; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sl_need_binaries
sl_need_pkgs tinyproxy:tinyproxy-bin nft:nftables iperf3 openvpn dnsmasq:dnsmasq-base ||
	sl_fail "bench udp needs tinyproxy, nftables, iperf3, openvpn, dnsmasq"
sl_certs >/dev/null
id=$$
SL_PREFIX=slub$id SL_NS_C=slub${id}c SL_NS_S=slub${id}s SL_TAP_C=slub${id}tc SL_TAP_S=slub${id}ts
SL_SOCK=$run/ctl.sock
SL_CONF=$run/sluice.conf
SL_MEM_MB=$mem
SL_LCORES=$lcores
SL_AGENTS_CONF_EXTRA="hold_timeout_ms = 3000; connect_timeout_ms = 1500; keepalive_ms = 1000; dgram_queue = 4096;"
SL_VNET_A_EXTRA='da_idle_ms = 1000; da_idle2_ms = 30000; sa_policy = "idle"; sa_idle_ms = 60000;'
SL_AGENT_CONF_EXTRA='dgram_credit = 4096;'
sl_agent_appliance_start
sl_agent_up a
tsc=$(sl_ctl_json show stats | jq .tsc_hz)

tree_ticks() { # utime+stime of PID and its descendants
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
    par[int(d)] = int(f[1]); ticks[int(d)] = sum(int(x) for x in f[11:15])
tot = 0
for p, t in ticks.items():
    q = p
    while q and q != root:
        q = par.get(q, 0)
    tot += t if q == root else 0
print(tot)
EOF
}
sluice_cpu() { # "work_cycles cp_ticks agent_ticks"
	printf '%s %s %s\n' "$(sl_ctl_json show stats | jq '[.lcores[] | select(.name != "main") | .cycles_work] | add')" \
		"$(sl_proc_cpu_ticks "$SL_CP_PID")" "$(sl_proc_cpu_ticks "$SL_AGENT_A_PID")"
}
iperf_u() { # iperf_u NS SRC DST OUT: the fixed-rate stream, iperf3 JSON in OUT
	ip netns exec "$1" timeout -k 5 $((secs + 60)) iperf3 -c "$3" -B "$2" -u -b "$rate" -l 1400 \
		-t "$secs" --json >"$4" 2>>"$run/iperf3.log"
}

# --- relay: through the agent ------------------------------------------------------
sl_spawn "$run/iperf3-site.log" iperf3-site --ns "$SL_NS_LA" -- iperf3 -s -B "$SL_SITE_SRV"
sl_wait_for 10 "iperf3 -s in site A" sl_listening_on "$SL_NS_LA" "$SL_SITE_SRV" 5201 || sl_fail "iperf3 -s"
read -r w0 c0 a0 < <(sluice_cpu)
iperf_u "$SL_NS_C" "$SL_C_ADDR" "$SL_SITE_SRV" "$run/relay.json" || sl_fail "iperf3 -u through the agent: $(tail -n 3 "$run/iperf3.log")"
read -r w1 c1 a1 < <(sluice_cpu)
jq -n --slurpfile r "$run/relay.json" --argjson tsc "$tsc" --argjson hz "$clk_tck" \
	--argjson w $((w1 - w0)) --argjson cp $((c1 - c0)) --argjson ag $((a1 - a0)) \
	--argjson st "$(sl_agents_json | jq -c .workers)" '
	$r[0].end.sum as $s | (($s.bytes * (100 - $s.lost_percent) / 100) / 1e9) as $gb
	| { bytes_sent: $s.bytes, lost_percent: $s.lost_percent, gb_delivered: $gb,
	    worker_work_s: ($w / $tsc), cp_cpu_s: ($cp / $hz), agent_cpu_s: ($ag / $hz),
	    cpu_s_per_gb: (($w / $tsc + $cp / $hz + $ag / $hz) / $gb),
	    worker_counters: $st }' >"$run/relay-out.json"
say "relay: $(jq -c . "$run/relay-out.json")"

# --- openvpn: the same stream, same namespaces -------------------------------------
ovpn=$run/ovpn
mkdir -p "$ovpn"
# the server is the appliance's certificate (from ca.pem), the client site A's
# agent certificate (from agent-ca.pem, clientAuth)
common=(--dev tun --data-ciphers AES-128-GCM --cipher AES-128-GCM --auth SHA256
	--dh none --verb 3 --ping 10 --persist-tun --txqueuelen 1000 --sndbuf 0 --rcvbuf 0)
# site A's host knows the way back to the clients through the appliance's
# wan address (the agent itself never needs it: it dials out)
ip -n "$SL_NS_SA" route replace 198.18.0.0/24 via 198.18.100.1 ||
	sl_fail "a route from site A's host back to the client network"
sl_spawn "$run/openvpn-server.log" openvpn-server --ns "$SL_NS_SA" -- openvpn "${common[@]}" \
	--proto tcp-server --local "$SL_SITE_A_ADDR" --lport 1194 --tls-server --ca "$SL_CERTS/agent-ca.pem" \
	--cert "$SL_CERTS/appliance.pem" --key "$SL_CERTS/appliance.key" --ifconfig 10.208.0.1 10.208.0.2
ovs=$SL_LAST_PID
sl_wait_for 10 "openvpn server" sl_listening_on "$SL_NS_SA" "$SL_SITE_A_ADDR" 1194 || sl_fail "openvpn server: $(tail -n 5 "$run/openvpn-server.log")"
sl_spawn "$run/openvpn-client.log" openvpn-client --ns "$SL_NS_C" -- openvpn "${common[@]}" \
	--proto tcp-client --remote "$SL_SITE_A_ADDR" 1194 --tls-client --remote-cert-tls server \
	--verify-x509-name appliance.sluice.test name --ca "$SL_CERTS/ca.pem" \
	--cert "$SL_CERTS/site-a.pem" --key "$SL_CERTS/site-a.key" \
	--ifconfig 10.208.0.2 10.208.0.1
ovc=$SL_LAST_PID
ovpn_up() { grep -q "Initialization Sequence Completed" "$run/openvpn-client.log"; }
sl_wait_for 20 "openvpn tunnel" ovpn_up || sl_fail "openvpn did not come up: $(tail -n 5 "$run/openvpn-client.log")"
sl_spawn "$run/iperf3-ovpn.log" iperf3-ovpn --ns "$SL_NS_SA" -- iperf3 -s -B 10.208.0.1
sl_wait_for 10 "iperf3 -s on the tunnel" sl_listening_on "$SL_NS_SA" 10.208.0.1 5201 || sl_fail "iperf3 -s (tunnel)"
o0=$(($(tree_ticks "$ovs") + $(tree_ticks "$ovc")))
iperf_u "$SL_NS_C" 10.208.0.2 10.208.0.1 "$run/ovpn.json" || sl_fail "iperf3 -u through openvpn"
o1=$(($(tree_ticks "$ovs") + $(tree_ticks "$ovc")))
jq -n --slurpfile r "$run/ovpn.json" --argjson hz "$clk_tck" --argjson o $((o1 - o0)) \
	--arg v "$(openvpn --version | head -n 1 | cut -d' ' -f2)" '
	$r[0].end.sum as $s | (($s.bytes * (100 - $s.lost_percent) / 100) / 1e9) as $gb
	| { version: $v, bytes_sent: $s.bytes, lost_percent: $s.lost_percent, gb_delivered: $gb,
	    openvpn_cpu_s: ($o / $hz), cpu_s_per_gb: (($o / $hz) / $gb),
	    setup: "openvpn --proto tcp-server/tcp-client, --data-ciphers AES-128-GCM, TLS (test PKI), tun p2p; both processes" }' \
	>"$run/ovpn-out.json"
say "openvpn: $(jq -c . "$run/ovpn-out.json")"

# --- setup: new DAs per second, SA reuse ----------------------------------------------
das_rate() { # das_rate N: one datagram from each of N new ports, 64 in flight
	ip netns exec "$SL_NS_C" "$SL_PY" - "$SL_C_ADDR" "$SL_SITE_SRV" "$1" <<'PY'
import json, selectors, socket, sys, time
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sel = selectors.DefaultSelector(); sent = got = lost = 0; t0 = time.time(); out = {}
def start():
    global sent
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0)); s.setblocking(False)
    s.sendto(b"d", (dst, 7)); sel.register(s, selectors.EVENT_READ, time.time()); sent += 1
while sent < min(64, n):
    start()
while got + lost < n:
    ev = sel.select(timeout=0.2)
    for k, _ in ev:
        k.fileobj.recv(100); sel.unregister(k.fileobj); k.fileobj.close(); got += 1
        if sent < n:
            start()
    now = time.time()
    for k in list(sel.get_map().values()):
        if now - k.data > 3:
            sel.unregister(k.fileobj); k.fileobj.close(); lost += 1
            if sent < n:
                start()
dt = time.time() - t0
print(json.dumps({"das": n, "answered": got, "lost": lost, "seconds": dt, "per_s": got / dt}))
PY
}
das_rate "$ndas" >"$run/das.json" || sl_fail "DA setup run"
say "DA setup: $(cat "$run/das.json")"
no_das() { [[ $(sl_ctl_json show das | jq .total) == 0 ]]; }
sl_wait_for 30 "the DAs aged out" no_das || say "DAs left before the reuse run: $(sl_ctl_json show das | jq .total)"
s0=$(sl_ctl_json show sa)
for ((b = 0; b < bursts; b++)); do
	das_rate 50 >>"$run/bursts.json" || sl_fail "burst $b"
	sl_wait_for 15 "burst $b's DAs aged out" no_das || true
done
s1=$(sl_ctl_json show sa)
jq -n --argjson s0 "$s0" --argjson s1 "$s1" --slurpfile d "$run/das.json" --slurpfile b "$run/bursts.json" '
	($s1.das_total - $s0.das_total) as $n | ($s1.handshakes - $s0.handshakes) as $h
	| { da_setup: $d[0], da_setup_per_s: $d[0].per_s,
	    reuse: { bursts: ($b | length), das: $n, handshakes: $h,
	             answered: ([$b[].answered] | add) },
	    sa_reuse_ratio: (if $n > 0 then (($n - $h) / $n) else null end) }' >"$run/setup-out.json"
say "setup: $(jq -c . "$run/setup-out.json")"

jq -n --slurpfile r "$run/relay-out.json" --slurpfile o "$run/ovpn-out.json" --slurpfile s "$run/setup-out.json" \
	--arg date "$(date -u +%FT%TZ)" --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
	--arg rate "$rate" --argjson secs "$secs" '
	{ date: $date, cpu: $cpu, stream: { rate: $rate, datagram_bytes: 1400, seconds: $secs },
	  sluice: $r[0], openvpn: $o[0],
	  udp_ratio: ($r[0].cpu_s_per_gb / $o[0].cpu_s_per_gb), udp_ratio_target: 0.5,
	  da_setup_per_s: $s[0].da_setup_per_s, sa_reuse_ratio: $s[0].sa_reuse_ratio, setup: $s[0] }' \
	>"$results/udp.json"
say "wrote $results/udp.json: udp_ratio $(jq .udp_ratio "$results/udp.json"), da_setup_per_s $(jq .da_setup_per_s "$results/udp.json"), sa_reuse_ratio $(jq .sa_reuse_ratio "$results/udp.json")"
