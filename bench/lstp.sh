#!/usr/bin/env bash
# The LSTP benchmark (issue 11): bench/results/lstp.json (method in
# bench/README.md, "LSTP tunnel").
#
# The usual two net_tap namespaces of the tests (scripts/lib.sh), one
# worker, the appliance configured as LSTP middle (`lstp` section, listener
# on the client-side gateway 198.18.0.1:7443).  In the same run, over the
# same namespaces, one 1 GiB download (BENCH_LSTP_SIZE) of
# scripts/bulkserver.py's stream (198.19.0.10:9000, server namespace),
# fetched by curl through a SOCKS5 port in the client namespace and
# sha256-checked against the server's /sha256/N:
#   lstp  sluice-lstp role client (SOCKS5 127.0.0.1:1080, client namespace)
#         and role server (server namespace, allow 198.19.0.10:9000), both
#         dialling the appliance's listener; TLS 1.3 end to end, the
#         appliance relays.  CPU = the worker's cycles_work (TSC cycles of
#         busy iterations outside the rx/tx bursts) / tsc_hz + sluice-cp +
#         both sluice-lstp processes (utime + stime);
#   ssh   sshd started here in the server namespace (own config, host key,
#         authorized key; Ciphers aes128-gcm@openssh.com) and
#         `ssh -N -D 127.0.0.1:1081` from the client namespace, its TCP
#         connection forwarded by the appliance between its two ports.
#         CPU = ssh + sshd (listener and session processes).
# lstp_ratio = lstp CPU per GB / ssh CPU per GB (target <= 0.6).  The
# middle's own cycles per GB are reported for its relay mode; splice mode
# does not exist yet, so splice_ratio is null with a note.
#
# Environment: BENCH_LSTP_SIZE (1G: bulkserver sizes, powers of 1024),
# BENCH_LCORES (0-1: main lcore + one worker), BENCH_LSTP_MEM_MB (256).
# Exit status 0 when both halves produced numbers.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

size=${BENCH_LSTP_SIZE:-1G}
mem=${BENCH_LSTP_MEM_MB:-256}
lcores=${BENCH_LCORES:-0-1}
LSTP=${SLUICE_LSTP_BIN:-$SL_BUILD/lstp/sluice-lstp}
work=$SL_ROOT/bench/work
results=$SL_ROOT/bench/results
mkdir -p "$work" "$results"
say() { printf 'bench lstp: %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || sl_die "bench lstp: must run as root"
clk_tck=$(getconf CLK_TCK)
size_bytes=$("$SL_PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import bulkserver; print(bulkserver.parse_size(sys.argv[2]) or "")' \
	"$SL_ROOT/scripts" "$size")
[[ -n $size_bytes ]] || sl_die "bench lstp: bad BENCH_LSTP_SIZE $size"

run=$(mktemp -d /run/sluice-bench-lstp.XXXXXX)
SL_WORK=$run
SL_NS_SWEEP=1 # everything inside the namespaces we create was started by us
sl_state_init "$run/state"
sl_track path "$run"
rm -f "$work"/lstp-*.log "$work"/lstp-*.json
trap 'rc=$?; set +e; trap - EXIT INT TERM; for f in "$run"/*.log; do [[ -e $f ]] && cp "$f" "$work/lstp-$(basename "$f")"; done; sl_cleanup_state "$run/state"; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sl_need_binaries
[[ -x $LSTP ]] || sl_die "bench lstp: $LSTP not built (run: make)"
command -v openssl >/dev/null || sl_die "bench lstp: openssl not installed"
if ! command -v ssh >/dev/null || [[ ! -x /usr/sbin/sshd ]]; then
	# like bench/tcp.sh with haproxy: the bench references come with --bench
	"$SL_ROOT/scripts/setup.sh" --bench >&2 || true
	{ command -v ssh >/dev/null && [[ -x /usr/sbin/sshd ]]; } ||
		sl_die "bench lstp: ssh/sshd missing (scripts/setup.sh --bench installs openssh-client and openssh-server)"
fi

id=$$
SL_PREFIX=slbl$id SL_NS_C=slbl${id}c SL_NS_S=slbl${id}s SL_TAP_C=slbl${id}tc SL_TAP_S=slbl${id}ts
SL_SOCK=$run/ctl.sock
SL_CONF=$run/sluice.conf
SL_MEM_MB=$mem
SL_LCORES=$lcores
MID=$SL_C_GW
MID_PORT=7443
SL_CONF_EXTRA="lstp = { listen = \"$MID\"; port = $MID_PORT; name = \"bench-mid\"; };"
sl_conf_write "$SL_CONF"
cp "$SL_CONF" "$work/lstp-sluice.conf"
chk=$("$SL_DP" --check "$SL_CONF" 2>&1) || sl_fail "sluice-dp refuses the config: ${chk//$'\n'/ }"
sl_appliance_start
tsc=$(sl_ctl_json show stats | jq .tsc_hz)
[[ $tsc =~ ^[0-9]+$ && $tsc -gt 0 ]] || sl_fail "show stats has no tsc_hz"

# ------------------------------------------------------------------ helpers ----
# process-tree CPU and wake-ups of PID and its descendants: "ticks switches",
# ticks = utime + stime + cutime + cstime, switches = voluntary context
# switches of every thread (how often it slept waiting for work)
tree_ticks() {
	"$SL_PY" - "$1" <<'EOF'
import os, sys
root = int(sys.argv[1]); par = {}; ticks = {}; sw = {}
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        s = open("/proc/%s/stat" % d).read()
        n = 0
        for t in os.listdir("/proc/%s/task" % d):
            for line in open("/proc/%s/task/%s/status" % (d, t)):
                if line.startswith("voluntary_ctxt_switches:"):
                    n += int(line.split()[1])
    except OSError:
        continue
    f = s[s.rindex(")") + 2:].split()
    par[int(d)] = int(f[1])
    ticks[int(d)] = sum(int(x) for x in f[11:15])
    sw[int(d)] = n
tt = ts = 0
for p, t in ticks.items():
    q = p
    while q and q != root:
        q = par.get(q, 0)
    if q == root:
        tt += t
        ts += sw[p]
print(tt, ts)
EOF
}

# the workers' cycles outside and inside the bursts: "work io"
worker_cycles() {
	sl_ctl_json show stats | jq -r '[.lcores[] | select(.name != "main")] | "\(map(.cycles_work) | add) \(map(.cycles_io) | add)"'
}

# The busiest thread of sluice-dp (the polling worker): "run_ns wait_ns"
# from its schedstat (on a CPU, runnable but waiting).  cycles_work is TSC
# time: a worker preempted by the other processes of a small machine keeps
# counting; wait_ns says how much of that there was.
worker_sched() {
	local t best='' bt=-1 v
	for t in /proc/"$SL_DP_PID"/task/*; do
		v=$(awk '{ print $1 }' "$t/schedstat" 2>/dev/null) || continue
		((v > bt)) && { bt=$v; best=${t##*/}; }
	done
	[[ -n $best ]] || { echo "0 0"; return 0; }
	awk '{ print $1, $2 }' "/proc/$SL_DP_PID/task/$best/schedstat"
}

# fetch SOCKSPORT N OUT: GET /bytes/N through SOCKS5 127.0.0.1:SOCKSPORT in the
# client namespace; the body's sha256 and curl's figures in OUT (JSON)
fetch() {
	local port=$1 n=$2 out=$3 meta=$run/curl-$1-$2.meta sha rc=0
	sha=$(ip netns exec "$SL_NS_C" timeout -k 5 600 curl -sS --fail --socks5 "127.0.0.1:$port" \
		-w '%{stderr}CURLMETA %{size_download} %{time_total}\n' \
		"http://$SL_S_ADDR:$SL_BULK_PORT/bytes/$n" 2>"$meta" | sha256sum | cut -d' ' -f1) || rc=$?
	grep -v '^CURLMETA' "$meta" >>"$run/curl.log" || true
	local got secs
	read -r _ got secs < <(grep '^CURLMETA' "$meta" || echo "CURLMETA 0 0")
	jq -n --argjson bytes "${got:-0}" --argjson secs "${secs:-0}" --arg sha "$sha" --arg want "$(want_sha "$n")" '
		{ bytes: $bytes, seconds: $secs,
		  mbit_s: (if $secs > 0 then ($bytes * 8 / $secs / 1e6) else null end),
		  sha256_match: ($sha == $want) }' >"$out"
	say "socks5 :$port GET /bytes/$n: $(jq -c . "$out")"
	((rc == 0)) && jq -e --argjson n "$(size_of "$n")" '.sha256_match and .bytes == $n' "$out" >/dev/null
}
size_of() { "$SL_PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import bulkserver; print(bulkserver.parse_size(sys.argv[2]))' "$SL_ROOT/scripts" "$1"; }
want_sha() { cat "$run/sha-$1"; }
server_sha() { # the server's sha256 of N bytes, asked from inside the server namespace
	ip netns exec "$SL_NS_S" curl -sf -m 300 "http://$SL_S_ADDR:$SL_BULK_PORT/sha256/$1" | tr -d '\n' >"$run/sha-$1"
	[[ $(wc -c <"$run/sha-$1") == 64 ]]
}

# --------------------------------------------------------------- the server ----
sl_bulk_server_start "$SL_BULK_PORT"
server_sha 64M || sl_fail "bulkserver /sha256/64M"
server_sha "$size" || sl_fail "bulkserver /sha256/$size"

# ------------------------------------------------------------------ LSTP ----
run_lstp() {
	local pki=$run/pki n
	mkdir -p "$pki"
	(
		cd "$pki"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
			-days 2 -subj "/CN=sluice bench LSTP ca" \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
		printf '%s\n' "extendedKeyUsage=serverAuth,clientAuth" "basicConstraints=CA:FALSE" >end.ext
		for n in bench-client bench-server; do
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $n.key -out $n.csr -subj "/CN=$n"
			openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 2 -extfile end.ext
		done
	) >"$run/pki.log" 2>&1 || sl_fail "making the LSTP PKI: $(tail -n 5 "$run/pki.log")"
	lconf() { # lconf FILE ROLE NAME EXTRA
		cat >"$1" <<EOF
lstp = {
  role = "$2"; name = "$3"; common = "bench-$id"; unique = "$3";
  middle = { address = "$MID"; port = $MID_PORT; };
  tls = { ca = "$pki/ca.pem"; cert = "$pki/$3.pem"; key = "$pki/$3.key"; };
  reconnect = { min_ms = 100; max_ms = 1000; };
  $4
};
EOF
		"$LSTP" -c "$1" --check >&2 || sl_fail "sluice-lstp --check $1"
	}
	lconf "$run/client.conf" client bench-client 'socks = { address = "127.0.0.1"; port = 1080; };'
	lconf "$run/server.conf" server bench-server "allow = [ \"$SL_S_ADDR:$SL_BULK_PORT\" ];"
	sl_spawn "$run/lstp-client.log" lstp-client --ns "$SL_NS_C" -- "$LSTP" -c "$run/client.conf"
	local cli=$SL_LAST_PID
	sl_spawn "$run/lstp-server.log" lstp-server --ns "$SL_NS_S" -- "$LSTP" -c "$run/server.conf"
	local srv=$SL_LAST_PID
	# shellcheck disable=SC2317 # called through sl_wait_for
	up() { grep -q 'tunnel up with' "$run/lstp-client.log" && grep -q 'tunnel up with' "$run/lstp-server.log"; }
	sl_wait_for 20 "the LSTP tunnel up at both ends" up ||
		sl_fail "tunnel not up: $(tail -n 3 "$run/lstp-client.log") / $(tail -n 3 "$run/lstp-server.log")"
	sl_wait_for 10 "SOCKS5 port 1080" sl_listening_on "$SL_NS_C" 127.0.0.1 1080 || sl_fail "no SOCKS5 listener"
	local tls
	tls=$(grep -m1 -o 'TLS up with .*' "$run/lstp-client.log" || echo unknown)
	sl_ctl_json show lstp >"$run/lstp-show0.json"
	jq -e '.pairs | length == 1' "$run/lstp-show0.json" >/dev/null ||
		sl_fail "show lstp should list one pair: $(jq -c . "$run/lstp-show0.json")"

	fetch 1080 64M "$run/lstp-warm.json" || sl_fail "warm-up download through the tunnel"
	local w0 io0 c0 a0 b0 r0 q0 w1 io1 c1 a1 b1 r1 q1 show1 ic0 ic1 iw0 iw1 as0 as1 bs0 bs1
	# what sluice-cp and the worker cost doing nothing for 5 s: the fixed part
	read -r iw0 _ < <(worker_cycles)
	ic0=$(sl_proc_cpu_ticks "$SL_CP_PID")
	sleep 5
	read -r iw1 _ < <(worker_cycles)
	ic1=$(sl_proc_cpu_ticks "$SL_CP_PID")
	read -r r0 q0 < <(worker_sched)
	read -r w0 io0 < <(worker_cycles)
	c0=$(sl_proc_cpu_ticks "$SL_CP_PID")
	read -r a0 as0 < <(tree_ticks "$cli")
	read -r b0 bs0 < <(tree_ticks "$srv")
	fetch 1080 "$size" "$run/lstp-dl.json" || sl_fail "download through the tunnel"
	read -r w1 io1 < <(worker_cycles)
	c1=$(sl_proc_cpu_ticks "$SL_CP_PID")
	read -r a1 as1 < <(tree_ticks "$cli")
	read -r b1 bs1 < <(tree_ticks "$srv")
	read -r r1 q1 < <(worker_sched)
	show1=$(sl_ctl_json show lstp)
	[[ $(jq '.pairs | length' <<<"$show1") == 1 ]] || sl_fail "the pair is gone after the download: $show1"
	jq -n --slurpfile r "$run/lstp-dl.json" --argjson tsc "$tsc" --argjson hz "$clk_tck" \
		--argjson w $((w1 - w0)) --argjson io $((io1 - io0)) --argjson cp $((c1 - c0)) \
		--argjson ce $((a1 - a0)) --argjson se $((b1 - b0)) --argjson run_ns $((r1 - r0)) \
		--argjson wait_ns $((q1 - q0)) --argjson s0 "$(cat "$run/lstp-show0.json")" --argjson s1 "$show1" \
		--argjson iw $((iw1 - iw0)) --argjson icp $((ic1 - ic0)) --argjson asw $((as1 - as0)) --argjson bsw $((bs1 - bs0)) \
		--arg tls "$tls" --arg ver "$("$LSTP" --version 2>/dev/null | head -n1 || true)" '
		$r[0] as $r | ($r.bytes / 1e9) as $gb
		| { middle_work_s: ($w / $tsc), cp_s: ($cp / $hz), client_end_s: ($ce / $hz), server_end_s: ($se / $hz) } as $p
		| { bytes: $r.bytes, seconds: $r.seconds, mbit_s: $r.mbit_s, sha256_match: $r.sha256_match,
		    cpu_s: ($p | add), cpu_s_per_gb: (($p | add) / $gb), parts: $p,
		    parts_per_gb: ($p | map_values(. / $gb)),
		    middle_cycles_work: $w, middle_cycles_per_gb: ($w / $gb),
		    middle_io_s: ($io / $tsc),
		    cpu_s_per_gb_with_middle_io: ((($p | add) + $io / $tsc) / $gb),
		    middle_mode: ($s1.pairs[0].mode // null),
		    idle_5s: { middle_work_s: ($iw / $tsc), cp_s: ($icp / $hz),
		      note: "the same counters over 5 s with nothing to do, just before the download" },
		    wakeups: { client_end: $asw, server_end: $bsw,
		      note: "voluntary context switches over the download (each one a sleep in epoll_wait and a wake-up)" },
		    middle_pair_bytes: { ab: (($s1.pairs[0].bytes_ab // 0) - ($s0.pairs[0].bytes_ab // 0)),
		                         ba: (($s1.pairs[0].bytes_ba // 0) - ($s0.pairs[0].bytes_ba // 0)) },
		    worker_thread: { on_cpu_s: ($run_ns / 1e9), runnable_waiting_s: ($wait_ns / 1e9),
		      note: "schedstat of the busiest sluice-dp thread over the download: cycles_work/io are TSC time and count the waiting too" },
		    tls: $tls,
		    setup: "sluice-lstp role client (SOCKS5 127.0.0.1:1080, client netns) and role server (server netns, allow 198.19.0.10:9000) both dialling the appliance lstp listener 198.18.0.1:7443; default limits; CPU = worker cycles_work / tsc_hz + sluice-cp + both sluice-lstp utime+stime" }' \
		>"$run/lstp-out.json"
	say "lstp: $(jq -c . "$run/lstp-out.json")"
	# the ends go now: the ssh half runs alone
	sl_stop_pid "$cli" "$(sl_pid_starttime "$cli" || echo -)" lstp-client
	sl_stop_pid "$srv" "$(sl_pid_starttime "$srv" || echo -)" lstp-server
}

# ------------------------------------------------------------------- ssh ----
run_ssh() {
	local k=$run/ssh
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
# bench/lstp.sh: sshd in the server namespace, only for this run
ListenAddress $SL_S_ADDR:2222
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
	sl_spawn "$run/sshd.log" sshd --ns "$SL_NS_S" -- /usr/sbin/sshd -D -e -f "$k/sshd_config"
	local sshd=$SL_LAST_PID
	sl_wait_for 10 "sshd on $SL_S_ADDR:2222" sl_listening_on "$SL_NS_S" "$SL_S_ADDR" 2222 ||
		sl_fail "sshd did not start: $(tail -n 5 "$run/sshd.log")"
	[[ $(readlink "/proc/$sshd/exe") == */sshd ]] || sl_fail "pid $sshd is not sshd"
	sl_spawn "$run/ssh.log" ssh --ns "$SL_NS_C" -- ssh -F /dev/null -N -T -p 2222 -i "$k/id_ed25519" \
		-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o Ciphers=aes128-gcm@openssh.com -o Compression=no -o ExitOnForwardFailure=yes \
		-o ServerAliveInterval=0 -D 127.0.0.1:1081 "root@$SL_S_ADDR"
	local ssh=$SL_LAST_PID
	sl_wait_for 20 "ssh -D on 127.0.0.1:1081 in $SL_NS_C" sl_listening_on "$SL_NS_C" 127.0.0.1 1081 ||
		sl_fail "ssh -D did not come up: $(tail -n 5 "$run/ssh.log")"
	[[ $(readlink "/proc/$ssh/exe") == */ssh ]] || sl_fail "pid $ssh is not ssh"

	fetch 1081 64M "$run/ssh-warm.json" || sl_fail "warm-up download through ssh -D"
	local t0 t1 s0 s1 w0 io0 w1 io1 ss0 ss1 ts0 ts1
	read -r w0 io0 < <(worker_cycles)
	read -r s0 ss0 < <(tree_ticks "$ssh")
	read -r t0 ts0 < <(tree_ticks "$sshd")
	fetch 1081 "$size" "$run/ssh-dl.json" || sl_fail "download through ssh -D"
	read -r s1 ss1 < <(tree_ticks "$ssh")
	read -r t1 ts1 < <(tree_ticks "$sshd")
	read -r w1 io1 < <(worker_cycles)
	jq -n --slurpfile r "$run/ssh-dl.json" --argjson hz "$clk_tck" --argjson tsc "$tsc" \
		--argjson s $((s1 - s0)) --argjson d $((t1 - t0)) --argjson w $((w1 - w0)) \
		--argjson ssw $((ss1 - ss0)) --argjson tsw $((ts1 - ts0)) \
		--arg ver "$(ssh -V 2>&1)" '
		$r[0] as $r | ($r.bytes / 1e9) as $gb
		| { ssh_s: ($s / $hz), sshd_s: ($d / $hz) } as $p
		| { bytes: $r.bytes, seconds: $r.seconds, mbit_s: $r.mbit_s, sha256_match: $r.sha256_match,
		    cpu_s: ($p | add), cpu_s_per_gb: (($p | add) / $gb), parts: $p,
		    parts_per_gb: ($p | map_values(. / $gb)),
		    wakeups: { ssh: $ssw, sshd: $tsw,
		      note: "voluntary context switches over the download (ssh; sshd and its session processes)" },
		    appliance_forwarding_work_s: ($w / $tsc),
		    appliance_forwarding_note: "the worker forwarding the ssh connection between its ports (cycles_work / tsc_hz): not part of the ssh figure",
		    version: $ver, cipher: "aes128-gcm@openssh.com",
		    setup: "ssh -N -D 127.0.0.1:1081 (client netns) to sshd -D on 198.19.0.10:2222 (server netns; own config, host key and authorized key), Ciphers aes128-gcm@openssh.com, Compression no; the ssh TCP connection forwarded by the appliance between its client and server ports; CPU = utime+stime of ssh and of the sshd listener with its session processes" }' \
		>"$run/ssh-out.json"
	say "ssh: $(jq -c . "$run/ssh-out.json")"
}

errs=()
say "LSTP: $size through sluice-lstp (SOCKS5) and the appliance as middle"
half_error() { # the reason a half failed, from its output
	local why
	why=$(grep -E 'FAIL:|ERROR:' "$run/half-$1.log" 2>/dev/null | tail -n 1 | sed -E 's/^[0-9:.]+ (FAIL|ERROR): //')
	printf '%s: %s' "$1" "${why:-failed (see bench/work/lstp-half-$1.log)}"
}
# each half in a subshell (its sl_fail ends only that half); its stderr also
# into half-NAME.log for the reason
(run_lstp) 2> >(tee "$run/half-lstp.log" >&2) || errs+=("$(half_error lstp)")
say "ssh: $size through ssh -D (aes128-gcm@openssh.com) over the same namespaces"
(run_ssh) 2> >(tee "$run/half-ssh.log" >&2) || errs+=("$(half_error ssh)")

l=$(cat "$run/lstp-out.json" 2>/dev/null || echo null)
s=$(cat "$run/ssh-out.json" 2>/dev/null || echo null)
err=null
((${#errs[@]} == 0)) || err=$(printf '%s\n' "${errs[@]}" | jq -R . | jq -s 'join("; ")')
jq -n --argjson l "$l" --argjson s "$s" --argjson err "$err" --argjson bytes "$size_bytes" \
	--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--arg cpu "$(awk -F: '/^model name/ { sub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo)" \
	--argjson nproc "$(nproc)" --arg kernel "$(uname -r)" --arg lcores "$lcores" \
	--arg commit "$(git -C "$SL_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" '
	def r3: if . == null then null else (. * 1000 | round) / 1000 end;
	(if $l != null and $s != null and ($s.cpu_s_per_gb // 0) > 0
	 then ($l.cpu_s_per_gb / $s.cpu_s_per_gb) else null end) as $ratio
	| {
	  bytes: $bytes,
	  lstp: (if $l == null then null else ($l + { cpu_s_per_gb: ($l.cpu_s_per_gb | r3) }) end),
	  ssh: (if $s == null then null else ($s + { cpu_s_per_gb: ($s.cpu_s_per_gb | r3) }) end),
	  lstp_ratio: ($ratio | r3),
	  target: 0.6,
	  met: (if $ratio == null then null else ($ratio <= 0.6) end),
	  middle_cycles_per_gb_relay: ($l.middle_cycles_per_gb // null | if . == null then null else round end),
	  middle_cycles_per_gb_splice: null,
	  splice_ratio: null,
	  splice_target: 0.5,
	  splice_note: "splice mode is not implemented: the middle relays every pair through its L4 relay (show lstp mode \"relay\"), so there is nothing to measure; splice_ratio stays null until it exists",
	  error: $err,
	  date: $date,
	  method: "One download of \($bytes) bytes (GB = 1e9 bytes in every per-GB figure) from scripts/bulkserver.py (198.19.0.10:9000, server netns), by curl --socks5 in the client netns, sha256-checked, after a 64 MiB warm-up, twice in the same run over the same namespaces and appliance: (1) through sluice-lstp role client (SOCKS5 127.0.0.1:1080) -> the appliance as LSTP middle (listener 198.18.0.1:7443, one worker) -> sluice-lstp role server; CPU = worker cycles_work (busy iterations outside rx/tx bursts) / tsc_hz + sluice-cp + both sluice-lstp processes (utime+stime from /proc); (2) through ssh -N -D 127.0.0.1:1081 to an sshd in the server netns, aes128-gcm@openssh.com, the ssh connection forwarded by the appliance; CPU = ssh + sshd process trees. lstp_ratio = (1) / (2) per GB.",
	  machine: { cpu: $cpu, nproc: $nproc, kernel: $kernel, lcores: $lcores },
	  commit: $commit
	}' >"$results/lstp.json"
say "wrote $results/lstp.json"
jq -r '"lstp: \(.lstp.cpu_s_per_gb) CPU s/GB (middle \(.lstp.parts.middle_work_s), cp \(.lstp.parts.cp_s), ends \(.lstp.parts.client_end_s) + \(.lstp.parts.server_end_s) s), ssh -D \(.ssh.cpu_s_per_gb) s/GB: lstp_ratio \(.lstp_ratio) (target 0.6, met \(.met)); middle \(.middle_cycles_per_gb_relay) cycles/GB relaying; splice_ratio null (not implemented)" + (if .error then "\nINCOMPLETE: \(.error)" else "" end)' \
	"$results/lstp.json" >&2
((${#errs[@]} == 0))
