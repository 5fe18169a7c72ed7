# shellcheck shell=bash
# Shared helpers for scripts/run.sh, tests/integration/*.sh and bench/run.sh.
# Source it; it does not change shell options.
#
# Resource tracking: every process, namespace, DPDK file prefix, file and
# directory a script creates is recorded, one per line, in the state file
# $SL_STATE ("pid PID STARTTIME NAME", "netns NAME", "prefix PREFIX",
# "path PATH").  sl_cleanup_state undoes them in reverse order, killing only
# the PIDs recorded there (and only if /proc still shows the same start
# time), deleting only namespaces it created, removing only the hugepage
# files of its own prefix.  The integration runner calls it again after a
# test that was killed, so nothing leaks even from a test that hung.

SL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SL_BUILD=${SLUICE_BUILD:-$SL_ROOT/build}
SL_DP=${SLUICE_DP_BIN:-$SL_BUILD/dataplane/sluice-dp}
SL_CP=${SLUICE_CP_BIN:-$SL_BUILD/controlplane/sluice-cp}
SL_CTL=${SLUICE_CTL_BIN:-$SL_BUILD/controlplane/sluicectl}
SL_PY=/usr/bin/python3 # Debian's python (scapy lives there), never a pyenv shim
SL_STATE=${SL_STATE:-}
SL_LAST_PID=

# ---------------------------------------------------------------- logging ----

sl_log() { printf '%s %s\n' "$(date +%T.%3N)" "$*" >&2; }
sl_die() {
	printf '%s ERROR: %s\n' "$(date +%T.%3N)" "$*" >&2
	exit 1
}

# ----------------------------------------------------- resource tracking ----

sl_state_init() { # sl_state_init FILE
	SL_STATE=$1
	touch "$SL_STATE"
}

sl_pid_starttime() { # print field 22 of /proc/PID/stat; fails if no such pid
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $s ]] || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	printf '%s\n' "${20}"
}

sl_pid_alive() { # sl_pid_alive PID [STARTTIME]: running (not a zombie) and, if given, same start time
	local s want=${2:-}
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $s ]] || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	[[ $1 != Z && $1 != X ]] || return 1
	[[ -z $want || $want == "-" || ${20} == "$want" ]]
}

sl_track() { # sl_track KIND VALUE...
	[[ -n $SL_STATE ]] || return 0
	printf '%s\n' "$*" >>"$SL_STATE"
}

sl_track_pid() { # sl_track_pid PID NAME
	local st
	st=$(sl_pid_starttime "$1") || st=-
	sl_track pid "$1" "$st" "$2"
}

sl_hugetlbfs_mounts() { awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts; }

sl_valid_prefix() { [[ $1 =~ ^[A-Za-z0-9_.-]+$ ]]; }

# Is a DPDK primary with this file prefix running?  It holds an fcntl write
# lock on /var/run/dpdk/PREFIX/config for its whole life.
sl_prefix_in_use() {
	"$SL_PY" - "$1" <<'EOF'
import fcntl, os, sys
path = "/var/run/dpdk/%s/config" % sys.argv[1]
try:
    fd = os.open(path, os.O_RDWR)
except OSError:
    sys.exit(1)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    sys.exit(0)
fcntl.lockf(fd, fcntl.LOCK_UN)
sys.exit(1)
EOF
}

# Stop one process: SIGTERM, wait up to GRACE seconds, then SIGKILL.
sl_stop_pid() { # sl_stop_pid PID STARTTIME NAME [GRACE]
	local pid=$1 st=$2 name=$3 grace=${4:-5} i
	if ! sl_pid_alive "$pid" "$st"; then
		# reap it if it is our zombie child; never wait for a live stranger
		sl_pid_alive "$pid" || wait "$pid" 2>/dev/null || true
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 20; i++)); do
		sl_pid_alive "$pid" "$st" || break
		sleep 0.05
	done
	if sl_pid_alive "$pid" "$st"; then
		sl_log "cleanup: $name (pid $pid) ignored SIGTERM for ${grace}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			sl_pid_alive "$pid" "$st" || break
			sleep 0.05
		done
	fi
	sl_pid_alive "$pid" || wait "$pid" 2>/dev/null || true
}

sl_cleanup_prefix() { # remove a (dead) DPDK instance's hugepage files and runtime dir
	local prefix=$1 m
	sl_valid_prefix "$prefix" || return 0
	if sl_prefix_in_use "$prefix"; then
		sl_log "cleanup: DPDK prefix $prefix still has a live primary; leaving its files"
		return 0
	fi
	while read -r m; do
		rm -f "$m/${prefix}map_"* 2>/dev/null || true
	done < <(sl_hugetlbfs_mounts)
	rm -rf "/var/run/dpdk/$prefix"
}

# Undo everything recorded in a state file, newest first.  Idempotent.
sl_cleanup_state() { # sl_cleanup_state FILE
	local file=$1 kind a b c pid
	[[ -s $file ]] || return 0
	local -a lines=()
	mapfile -t lines <"$file"
	local i
	# processes first (newest first: clients and sluice-cp before sluice-dp)
	for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
		read -r kind a b c <<<"${lines[i]}"
		[[ $kind == pid ]] && sl_stop_pid "$a" "$b" "${c:-?}"
	done
	for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
		read -r kind a b c <<<"${lines[i]}"
		case $kind in
		netns)
			if [[ -e /run/netns/$a ]]; then
				# Tests: anything still inside a namespace the test created was
				# started by the test.  (run.sh leaves an operator's shells alone.)
				if [[ ${SL_NS_SWEEP:-0} == 1 ]]; then
					for pid in $(ip netns pids "$a" 2>/dev/null); do
						sl_stop_pid "$pid" "$(sl_pid_starttime "$pid" || echo -)" "pid in $a" 2
					done
				fi
				ip netns del "$a" 2>/dev/null || sl_log "cleanup: ip netns del $a failed"
			fi
			;;
		prefix) sl_cleanup_prefix "$a" ;;
		path) [[ -n $a && $a == /* && $a != / ]] && rm -rf -- "$a" ;;
		esac
	done
	if [[ -e $file ]]; then : >"$file"; fi
}

# --------------------------------------------------------------- processes ----

# sl_spawn LOG NAME [--setsid] [--ns NETNS] -- CMD ARGS...
# Start CMD in the background (stdin /dev/null, stdout+stderr appended to
# LOG), record it, leave its PID in SL_LAST_PID.  --setsid puts it in its own
# session so a terminal Ctrl-C reaches only the calling script, which then
# stops it in order.  Must be called from the main shell, not $(...).
sl_spawn() {
	local log=$1 name=$2
	shift 2
	local -a pre=()
	while (($#)); do
		case $1 in
		--setsid) pre+=(setsid) ;;
		--ns) pre+=(ip netns exec "$2"); shift ;;
		--) shift; break ;;
		*) break ;;
		esac
		shift
	done
	"${pre[@]}" "$@" </dev/null >>"$log" 2>&1 &
	SL_LAST_PID=$!
	sl_track_pid "$SL_LAST_PID" "$name"
}

# sl_wait_for TIMEOUT_S DESCRIPTION CMD...: poll CMD every 0.1 s.
sl_wait_for() {
	local t=$1 what=$2 i
	shift 2
	for ((i = 0; i < t * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	sl_log "timed out after ${t}s waiting for $what"
	return 1
}

# ----------------------------------------------------------- the instance ----
# An instance is one sluice-dp + sluice-cp with two net_tap ports whose tap
# devices live in a client and a server namespace:
#
#   client ns SL_NS_C              appliance               server ns SL_NS_S
#   SL_TAP_C 198.18.0.2/24 --- port "client"  port "server" --- SL_TAP_S 198.19.0.10/24
#                              198.18.0.1/24  198.19.0.1/24
#
# sl_instance_init sets unique names for tests; run.sh sets the demo ones.

SL_C_ADDR=198.18.0.2
SL_C_GW=198.18.0.1
SL_S_ADDR=198.19.0.10
SL_S_GW=198.19.0.1
SL_PORT_C=client
SL_PORT_S=server
SL_C_MAC=02:00:00:00:01:02 # kernel side of the client tap
SL_S_MAC=02:00:00:00:02:0a # kernel side of the server tap

sl_instance_init() { # sl_instance_init NAME: unique names, work dir, state file, traps
	local name=$1 id
	[[ $(id -u) -eq 0 ]] || sl_die "integration tests must run as root"
	id=${SL_ID:-$$}
	SL_PREFIX=slt${id}
	SL_NS_C=slt${id}c
	SL_NS_S=slt${id}s
	SL_TAP_C=slt${id}tc # <= 15 characters for any pid
	SL_TAP_S=slt${id}ts
	SL_MEM_MB=${SL_MEM_MB:-256}
	SL_LCORES=${SL_LCORES:-0-1}
	mkdir -p /run/sluice-test
	chmod 700 /run/sluice-test
	SL_WORK=$(mktemp -d "/run/sluice-test/$name.XXXXXX")
	SL_SOCK=$SL_WORK/ctl.sock
	SL_CONF=$SL_WORK/sluice.conf
	SL_NS_SWEEP=1
	sl_state_init "${SLT_STATE:-$SL_WORK/state}"
	# The work dir goes first so it is removed last (logs are printed before).
	if [[ -z ${SLT_KEEP:-} ]]; then sl_track path "$SL_WORK"; fi
	trap sl_test_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	sl_log "test $name: prefix $SL_PREFIX, namespaces $SL_NS_C/$SL_NS_S, work dir $SL_WORK"
}

sl_dump_logs() {
	local f
	for f in "$SL_WORK"/*.log; do
		[[ -e $f ]] || continue
		printf '\n----- %s (last 60 lines) -----\n' "$(basename "$f")"
		tail -n 60 "$f"
	done
	printf -- '-----\n'
}

sl_test_exit() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	# SL_ON_FAIL: a function that shows the state worth seeing while the
	# daemons still run (e.g. sl_tcp_diag)
	if ((rc != 0)) && [[ -n ${SL_ON_FAIL:-} ]] && declare -F "$SL_ON_FAIL" >/dev/null; then
		sl_log "state at the failure ($SL_ON_FAIL):"
		"$SL_ON_FAIL" 2>&1 | sed 's/^/    | /' >&2
	fi
	if ((rc != 0)) && [[ -n ${SL_WORK:-} && -d $SL_WORK ]]; then
		sl_log "exit status $rc; process logs follow"
		sl_dump_logs
	fi
	[[ -n $SL_STATE ]] && sl_cleanup_state "$SL_STATE"
	exit "$rc"
}

# Write the instance's config.  Extra libconfig text for the routes,
# neighbors and rules lists may be given in SL_CONF_ROUTES / SL_CONF_NEIGH /
# SL_CONF_RULES (comma-separated groups), settings of the dataplane section in
# SL_CONF_DATAPLANE, whole top-level sections (e.g. `tcp = { ... };`, see
# sl_conf_tcp) in SL_CONF_EXTRA, more ports (libconfig groups after the two
# standard ones, e.g. S4's wan port) in SL_CONF_PORTS_EXTRA.
sl_conf_write() { # sl_conf_write FILE
	cat >"$1" <<EOF
# generated by scripts/lib.sh for a test instance
eal = {
  lcores = "$SL_LCORES";
  file_prefix = "$SL_PREFIX";
  mem_mb = $SL_MEM_MB;
  log_level = "notice";
};
dataplane = {
${SL_CONF_DATAPLANE:-}
};
control = {
  socket = "$SL_SOCK";
};
ports = (
  {
    name = "$SL_PORT_C";
    dev = "net_tap0,iface=$SL_TAP_C";
    addr = "$SL_C_GW/24";
    mac = "02:53:4c:00:00:01";
  },
  {
    name = "$SL_PORT_S";
    dev = "net_tap1,iface=$SL_TAP_S";
    addr = "$SL_S_GW/24";
    mac = "02:53:4c:00:00:02";
  }${SL_CONF_PORTS_EXTRA:+,
  $SL_CONF_PORTS_EXTRA}
);
routes = (${SL_CONF_ROUTES:-});
neighbors = (${SL_CONF_NEIGH:-});
EOF
	if [[ -n ${SL_CONF_RULES:-} ]]; then
		printf 'rules = (\n  %s\n);\n' "$SL_CONF_RULES" >>"$1"
	fi
	if [[ -n ${SL_CONF_EXTRA:-} ]]; then
		printf '%s\n' "$SL_CONF_EXTRA" >>"$1"
	fi
}

sl_need_binaries() {
	local b
	for b in "$SL_DP" "$SL_CP" "$SL_CTL"; do
		[[ -x $b ]] || sl_die "$b not built (run: make)"
	done
}

sl_netns_create() { # sl_netns_create NAME
	[[ ! -e /run/netns/$1 ]] || sl_die "network namespace $1 already exists"
	ip netns add "$1" || sl_die "ip netns add $1 failed"
	sl_track netns "$1"
	ip -n "$1" link set lo up
	# No IPv6 chatter (router solicitations, MLD) through the appliance.
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true
}

# Move a tap the data plane created into a namespace and configure it.
sl_ns_attach() { # sl_ns_attach NS TAP ADDR/PLEN GW [MAC]
	local ns=$1 tap=$2 addr=$3 gw=$4 mac=${5:-}
	ip link show dev "$tap" >/dev/null 2>&1 || sl_die "tap $tap not found in the root namespace (did sluice-dp create it?)"
	ip link set dev "$tap" netns "$ns" || sl_die "cannot move $tap into $ns"
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" 2>/dev/null || true
	# net_tap gives the kernel side the port's own MAC; a distinct one makes
	# the link look like a real one (and a wrong destination MAC is dropped).
	if [[ -n $mac ]]; then
		ip -n "$ns" link set dev "$tap" address "$mac" || sl_die "cannot set $tap's MAC to $mac"
	fi
	ip -n "$ns" addr add "$addr" dev "$tap" || sl_die "ip addr add $addr dev $tap in $ns failed"
	ip -n "$ns" link set dev "$tap" up || sl_die "ip link set $tap up in $ns failed"
	ip -n "$ns" route add default via "$gw" dev "$tap" || sl_die "default route via $gw in $ns failed"
	# Checksums computed by the kernel, no segmentation offloads: what goes
	# through the tap is what the wire would carry.  Optional.
	if command -v ethtool >/dev/null; then
		ip netns exec "$ns" ethtool -K "$tap" tx off tso off gso off gro off >/dev/null 2>&1 || true
	fi
}

sl_dp_start() { # sl_dp_start LOG [--setsid] [ARGS...]: start sluice-dp
	local log=$1
	shift
	local -a opt=()
	if [[ ${1:-} == --setsid ]]; then opt=(--setsid); shift; fi
	sl_log "starting sluice-dp $*"
	# stdbuf: line-buffered stdout so "sluice-dp: ready" reaches the log now.
	sl_spawn "$log" sluice-dp "${opt[@]}" -- stdbuf -oL -eL "$SL_DP" "$@"
	SL_DP_PID=$SL_LAST_PID
	[[ -n ${SL_PREFIX:-} ]] && sl_track prefix "$SL_PREFIX"
	return 0
}

sl_dp_wait_ready() { # sl_dp_wait_ready LOG [TIMEOUT]
	local log=$1 t=${2:-30} i
	for ((i = 0; i < t * 10; i++)); do
		if grep -q '^sluice-dp: ready' "$log" 2>/dev/null; then
			sl_log "sluice-dp (pid $SL_DP_PID) is ready"
			return 0
		fi
		if ! sl_pid_alive "$SL_DP_PID"; then
			local rc=0
			wait "$SL_DP_PID" 2>/dev/null || rc=$?
			sl_log "sluice-dp exited (status $rc) before printing 'sluice-dp: ready'; its output:"
			tail -n 40 "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	sl_log "sluice-dp did not print 'sluice-dp: ready' within ${t}s; its output:"
	tail -n 40 "$log" >&2
	return 1
}

sl_cp_start() { # sl_cp_start LOG [--setsid] [ARGS...]
	local log=$1
	shift
	local -a opt=()
	if [[ ${1:-} == --setsid ]]; then opt=(--setsid); shift; fi
	sl_log "starting sluice-cp $*"
	sl_spawn "$log" sluice-cp "${opt[@]}" -- stdbuf -oL -eL "$SL_CP" "$@"
	SL_CP_PID=$SL_LAST_PID
}

sl_cp_wait() { # sl_cp_wait LOG [TIMEOUT]: until `sluicectl show ports` answers
	local log=$1 t=${2:-40} i
	for ((i = 0; i < t * 5; i++)); do
		if [[ -S $SL_SOCK ]] && timeout 5 "$SL_CTL" --socket "$SL_SOCK" show ports >/dev/null 2>&1; then
			sl_log "sluice-cp (pid $SL_CP_PID) answers on $SL_SOCK"
			return 0
		fi
		if ! sl_pid_alive "$SL_CP_PID"; then
			local rc=0
			wait "$SL_CP_PID" 2>/dev/null || rc=$?
			sl_log "sluice-cp exited (status $rc) before answering on $SL_SOCK; its output:"
			tail -n 40 "$log" >&2
			return 1
		fi
		sleep 0.2
	done
	sl_log "sluice-cp did not answer on $SL_SOCK within ${t}s; its output:"
	tail -n 40 "$log" >&2
	return 1
}

# Everything: namespaces, config, sluice-dp, taps into namespaces, sluice-cp.
sl_appliance_start() {
	sl_need_binaries
	! sl_prefix_in_use "$SL_PREFIX" || sl_die "a DPDK primary with prefix $SL_PREFIX already runs"
	sl_netns_create "$SL_NS_C"
	sl_netns_create "$SL_NS_S"
	[[ -s $SL_CONF ]] || sl_conf_write "$SL_CONF"
	sl_dp_start "$SL_WORK/dp.log" -c "$SL_CONF"
	sl_dp_wait_ready "$SL_WORK/dp.log" 30 || sl_fail "sluice-dp did not start"
	sl_ns_attach "$SL_NS_C" "$SL_TAP_C" "$SL_C_ADDR/24" "$SL_C_GW" "$SL_C_MAC"
	sl_ns_attach "$SL_NS_S" "$SL_TAP_S" "$SL_S_ADDR/24" "$SL_S_GW" "$SL_S_MAC"
	sl_cp_start "$SL_WORK/cp.log" -c "$SL_CONF"
	sl_cp_wait "$SL_WORK/cp.log" 40 || sl_fail "sluice-cp did not start"
}

# ------------------------------------------------------------ assertions ----

sl_fail() {
	printf '%s FAIL: %s\n' "$(date +%T.%3N)" "$*" >&2
	exit 1
}
sl_ok() { printf '%s ok: %s\n' "$(date +%T.%3N)" "$*" >&2; }

# sl_run DESC CMD...: run, show output, fail the test when it fails.
sl_run() {
	local desc=$1 rc=0
	shift
	sl_log "+ $*"
	"$@" || rc=$?
	((rc == 0)) || sl_fail "$desc (exit status $rc: $*)"
	sl_ok "$desc"
}

# sl_expect_rc RC DESC CMD...: run, capture output in SL_OUT, check exit status.
# RC may be a list like "1|2".
sl_expect_rc() {
	local want=$1 desc=$2 rc=0
	shift 2
	sl_log "+ $*"
	SL_OUT=$("$@" 2>&1) || rc=$?
	printf '%s\n' "$SL_OUT" | sed 's/^/    | /' >&2
	[[ $rc =~ ^($want)$ ]] || sl_fail "$desc: exit status $rc, expected $want"
	sl_ok "$desc (exit $rc)"
}

sl_assert_alive() { # both daemons still running
	sl_pid_alive "$SL_DP_PID" || sl_fail "sluice-dp (pid $SL_DP_PID) died"
	if [[ -n ${SL_CP_PID:-} ]]; then
		sl_pid_alive "$SL_CP_PID" || sl_fail "sluice-cp (pid $SL_CP_PID) died"
	fi
}

# ---------------------------------------------------------------- sluicectl ----

sl_ctl() { timeout 20 "$SL_CTL" --socket "$SL_SOCK" "$@"; }
sl_ctl_json() { timeout 20 "$SL_CTL" --socket "$SL_SOCK" --json "$@"; }

# The JSON shapes are read in one place, here.
#   show ports:  {"ports": [{"name", "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", ...}]}
# Callers may use the ethdev names (ipackets, opackets, ibytes, obytes) too.
# shellcheck disable=SC2016 # jq, not shell
SL_JQ_PORTSTAT='def pstat($f): ({"ipackets": "rx_packets", "opackets": "tx_packets",
	"ibytes": "rx_bytes", "obytes": "tx_bytes"}[$f] // $f) as $g | (.[$g] // .[$f]);'
sl_jq_port_stat() { # sl_jq_port_stat PORT FIELD <<<JSON
	jq -e -r --arg n "$1" --arg f "$2" "$SL_JQ_PORTSTAT"'
		[.ports[] | select(.name == $n) | pstat($f)]
		| if length == 1 and (.[0] | type) == "number" then .[0] else error("no numeric \($f) for port \($n)") end'
}
sl_port_stat() { # sl_port_stat PORT FIELD
	local out
	out=$(sl_ctl_json show ports) || sl_fail "sluicectl --json show ports failed: $out"
	sl_jq_port_stat "$1" "$2" <<<"$out" || sl_fail "cannot read $2 of port $1 from: $out"
}

# A drop counter from `show errors --json`:
#   {"total": N, "drops": [{"reason": "impair", "count": N, "per_lcore": {...}}, ...]}
sl_json_counter() { # sl_json_counter REASON <<<JSON
	jq -e --arg n "$1" '[.drops[] | select(.reason == $n) | .count] | if length == 1 then .[0] else error("no drop reason \($n)") end'
}

sl_routes_json() { sl_ctl_json show routes; }

# Is PREFIX ("a.b.c.d/n") in `show routes --json`?
#   {"routes": [{"dst": "198.19.0.0/24", "prefix", "plen", "type", "via", "dev", "origin"}, ...]}
sl_route_listed() { # sl_route_listed PREFIX [JSON]
	local js=${2:-}
	[[ -n $js ]] || js=$(sl_routes_json) || sl_fail "sluicectl --json show routes failed: $js"
	jq -e --arg p "$1" '
		[.routes[] | .dst // "\(.prefix)/\(.plen)"] | index($p) != null' \
		<<<"$js" >/dev/null
}

# ------------------------------------------------------------ traffic peers ----

sl_ns() { # sl_ns NS CMD...: run in a namespace
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# sl_ping_loss NS ARGS...: run ping, print the packet loss percentage.
sl_ping_loss() {
	local ns=$1 out
	shift
	out=$(ip netns exec "$ns" ping "$@" 2>&1) || true
	printf '%s\n' "$out" | sed 's/^/    | /' >&2
	sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$out" | head -n1 | grep . || echo 100
}

sl_listening() { # sl_listening NS PORT: a TCP listener on PORT in NS
	ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .
}
sl_listening_on() { # sl_listening_on NS ADDR PORT: a TCP listener bound to ADDR:PORT in NS
	ip netns exec "$1" ss -Hltn "src $2:$3" | grep -q .
}

# ------------------------------------------------------------------ TLS ----
# The test PKI (scripts/certs.sh) under build/certs, made when missing.
SL_CERTS=${SL_CERTS:-$SL_ROOT/build/certs}
SL_S2_ADDR=198.19.0.11 # S5: the server whose TLS may pass through
SL_S3_ADDR=198.19.0.12 # S1 reverse mode: a TLS backend
sl_certs() { "$SL_ROOT/scripts/certs.sh" "$SL_CERTS" || sl_die "scripts/certs.sh failed"; }

# The demo's second and third server addresses, on the server namespace's tap.
sl_server_addrs() {
	ip -n "$SL_NS_S" addr add "$SL_S2_ADDR/24" dev "$SL_TAP_S" 2>/dev/null || true
	ip -n "$SL_NS_S" addr add "$SL_S3_ADDR/24" dev "$SL_TAP_S" 2>/dev/null || true
}

# sl_app_conf NAME SERVER SECURE PLAIN [EXTRA]: one `apps` entry (demo cert).
sl_app_conf() {
	printf '{ name = "%s"; server = "%s"; secure_port = %s; plain_port = %s; cert = "%s"; key = "%s"; %s }' \
		"$1" "$2" "$3" "$4" "$SL_CERTS/demo.pem" "$SL_CERTS/demo.key" "${5:-}"
}

# HTTPS (or plain with a marker) server:
# sl_web_start [--setsid] NAME ADDR PORT DIR [httpserver.py options]
sl_web_start() {
	local -a pre=()
	if [[ $1 == --setsid ]]; then
		pre=(--setsid)
		shift
	fi
	local name=$1 addr=$2 port=$3 dir=$4
	shift 4
	sl_spawn "$SL_WORK/$name.log" "$name" "${pre[@]}" --ns "$SL_NS_S" -- \
		"$SL_PY" "$SL_ROOT/scripts/httpserver.py" --bind "$addr" --port "$port" --directory "$dir" "$@"
	# by address: several servers share a port on different addresses
	sl_wait_for 10 "$name on $addr:$port" sl_listening_on "$SL_NS_S" "$addr" "$port" ||
		sl_fail "$name did not start: $(tail -n 5 "$SL_WORK/$name.log")"
}

# The demo's TLS peers (README, "The demo topology"), in the server namespace
# after sl_server_addrs; each page says which server answered:
#   198.19.0.11:443   HTTPS as bank.sluice.test (bank.pem, e2e-ca): the real
#                     server S5 lets clients reach end to end
#   198.19.0.11:8080  HTTP, the bank application's plain backend; it marks
#                     /needs-e2e with `Sluice-E2E: required` (S5 learned case)
#   198.19.0.12:443   HTTPS as origin.sluice.test (origin.pem, ca): the
#                     reverse-mode backend
# Pages under $SL_WORK/bank and $SL_WORK/origin.  --setsid: see sl_spawn.
sl_tls_servers_start() { # sl_tls_servers_start [--setsid]
	local -a opt=()
	if [[ ${1:-} == --setsid ]]; then opt=(--setsid); fi
	mkdir -p "$SL_WORK/bank" "$SL_WORK/origin"
	echo "bank.sluice.test: the real server ($SL_S2_ADDR:443, e2e-ca)" >"$SL_WORK/bank/index.html"
	echo "bank.sluice.test: the real server ($SL_S2_ADDR:443, e2e-ca)" >"$SL_WORK/bank/needs-e2e"
	echo "bank app backend ($SL_S2_ADDR:8080)" >"$SL_WORK/bank/plain.html"
	echo "origin backend over TLS ($SL_S3_ADDR:443)" >"$SL_WORK/origin/index.html"
	sl_web_start "${opt[@]}" bank-tls "$SL_S2_ADDR" 443 "$SL_WORK/bank" \
		--tls-cert "$SL_CERTS/bank.pem" --tls-key "$SL_CERTS/bank.key"
	sl_web_start "${opt[@]}" bank-plain "$SL_S2_ADDR" 8080 "$SL_WORK/bank" --marker-path /needs-e2e
	sl_web_start "${opt[@]}" origin-tls "$SL_S3_ADDR" 443 "$SL_WORK/origin" \
		--tls-cert "$SL_CERTS/origin.pem" --tls-key "$SL_CERTS/origin.key"
}

# HTTP server (scripts/httpserver.py) in the server namespace.
sl_http_start() { # sl_http_start DIR [PORT]
	local dir=$1 port=${2:-8080}
	sl_spawn "$SL_WORK/http.log" http-server --ns "$SL_NS_S" -- \
		"$SL_PY" "$SL_ROOT/scripts/httpserver.py" --bind "$SL_S_ADDR" --port "$port" --directory "$dir"
	sl_wait_for 10 "HTTP server on $SL_S_ADDR:$port" sl_listening "$SL_NS_S" "$port" ||
		sl_fail "HTTP server did not start: $(tail -n 5 "$SL_WORK/http.log")"
}

# iperf3 server in the server namespace (--setsid: see sl_spawn).
sl_iperf_server_start() { # sl_iperf_server_start [--setsid] [PORT]
	local -a opt=()
	if [[ ${1:-} == --setsid ]]; then opt=(--setsid); shift; fi
	local port=${1:-5201}
	sl_spawn "$SL_WORK/iperf3-server.log" iperf3-server "${opt[@]}" --ns "$SL_NS_S" -- \
		iperf3 -s -B "$SL_S_ADDR" -p "$port"
	# shellcheck disable=SC2034 # for the caller (run.sh)
	SL_IPERF_PID=$SL_LAST_PID
	sl_wait_for 10 "iperf3 server on $SL_S_ADDR:$port" sl_listening "$SL_NS_S" "$port" ||
		sl_fail "iperf3 server did not start: $(tail -n 5 "$SL_WORK/iperf3-server.log")"
}

# Received throughput (bits/s) of an iperf3 -J result, 0 when absent.
sl_iperf_bps() { jq -r '(.end.sum_received.bits_per_second // 0) | floor' "$1"; }

# ------------------------------------------------------------ bulk transfers ----
# scripts/bulkserver.py (HTTP/1.1: GET /bytes/N, GET /sha256/N, PUT /upload,
# GET /hold) in the server namespace and scripts/bulkclient.py in the client
# namespace.  SL_BULK_PORT is the port both use (9000 unless set).
SL_BULK_PORT=${SL_BULK_PORT:-9000}

# Start the bulk server with listen queues deep enough for thousands of
# simultaneous connects (net.core.somaxconn and tcp_max_syn_backlog are per
# namespace: only the server namespace we made changes).
# shellcheck disable=SC2120 # the arguments are optional
# The benchmarks' reference topology: namespaces ${PREFIX}c, ${PREFIX}g,
# ${PREFIX}s (client, gateway, server) joined by veths created inside them
# (nothing in the root namespace), with GSO/GRO/TSO off on every end so that
# segments are what the taps carry.  NET picks the subnets 198.18.NET.0/24
# and 198.19.NET.0/24.  Sets GW_NC GW_NG GW_NS and GW_C_ADDR (client),
# GW_G_C / GW_G_S (the gateway on either side), GW_S_ADDR (server).
sl_gateway_topology() { # sl_gateway_topology PREFIX NET
	GW_NC=${1}c GW_NG=${1}g GW_NS=${1}s
	GW_C_ADDR=198.18.$2.2 GW_G_C=198.18.$2.1 GW_G_S=198.19.$2.1 GW_S_ADDR=198.19.$2.10
	local v vns vdev
	for v in "$GW_NC" "$GW_NG" "$GW_NS"; do sl_netns_create "$v"; done
	ip -n "$GW_NC" link add gwc0 type veth peer name gwg0 netns "$GW_NG" || sl_fail "veth client-gateway"
	ip -n "$GW_NS" link add gws0 type veth peer name gwg1 netns "$GW_NG" || sl_fail "veth server-gateway"
	ip -n "$GW_NC" addr add "$GW_C_ADDR/24" dev gwc0
	ip -n "$GW_NG" addr add "$GW_G_C/24" dev gwg0
	ip -n "$GW_NG" addr add "$GW_G_S/24" dev gwg1
	ip -n "$GW_NS" addr add "$GW_S_ADDR/24" dev gws0
	for v in "$GW_NC gwc0" "$GW_NG gwg0" "$GW_NG gwg1" "$GW_NS gws0"; do
		read -r vns vdev <<<"$v"
		ip -n "$vns" link set dev "$vdev" up
		ip netns exec "$vns" ethtool -K "$vdev" tso off gso off gro off >/dev/null ||
			sl_fail "ethtool -K $vdev in $vns failed"
	done
}

# utime + stime of PID and its reaped children, in clock ticks (CLK_TCK)
sl_proc_cpu_ticks() { # sl_proc_cpu_ticks PID
	local s
	s=$(cat "/proc/$1/stat") || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13} + ${14} + ${15}))
}

sl_bulk_server_start() { # sl_bulk_server_start [--setsid] [PORT]
	local -a opt=()
	if [[ ${1:-} == --setsid ]]; then opt=(--setsid); shift; fi
	local port=${1:-$SL_BULK_PORT}
	ip netns exec "$SL_NS_S" sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535 || true
	sl_spawn "$SL_WORK/bulkserver.log" bulkserver "${opt[@]}" --ns "$SL_NS_S" -- \
		"$SL_PY" "$SL_ROOT/scripts/bulkserver.py" --bind "$SL_S_ADDR" --port "$port"
	# shellcheck disable=SC2034 # for the caller (run.sh)
	SL_BULK_SERVER_PID=$SL_LAST_PID
	sl_wait_for 10 "bulk server on $SL_S_ADDR:$port" sl_listening "$SL_NS_S" "$port" ||
		sl_fail "bulk server did not start: $(tail -n 5 "$SL_WORK/bulkserver.log")"
}

# sl_bulk DESC ARGS...: run bulkclient.py (ARGS: download|upload|hold and its
# options) in the client namespace against $SL_S_ADDR:$SL_BULK_PORT, in the
# foreground.  The JSON result is left in SL_BULK (a one-line summary goes to
# the log); the test fails unless every connection succeeded.
sl_bulk() {
	local desc=$1 rc=0 out
	shift
	SL_BULK_SEQ=$((${SL_BULK_SEQ:-0} + 1))
	out=$SL_WORK/bulk.$SL_BULK_SEQ.json
	sl_log "+ bulkclient.py $*"
	ip netns exec "$SL_NS_C" timeout -k 5 "${SL_BULK_TIMEOUT:-600}" "$SL_PY" "$SL_ROOT/scripts/bulkclient.py" \
		--host "$SL_S_ADDR" --port "$SL_BULK_PORT" --json-out "$out" "$@" \
		>/dev/null 2>>"$SL_WORK/bulkclient.log" || rc=$?
	SL_BULK=$(cat "$out" 2>/dev/null) || SL_BULK='{}'
	sl_bulk_summary <<<"$SL_BULK"
	((rc == 0)) || sl_fail "$desc (bulkclient exit status $rc)"
	sl_ok "$desc"
}
sl_bulk_summary() { # JSON on stdin -> one line in the log
	jq -c '{mode, conns, ok, failed, bytes, seconds, mbit_s, sha256_match, errors}
		+ (if (.failures // []) != [] then {failures} else {} end)' 2>/dev/null |
		sed 's/^/    | /' >&2 || true
}

# In the background: sl_bulk_spawn NAME ARGS... starts bulkclient.py like
# sl_bulk, with its result in $SL_WORK/NAME.json and --ready-file
# $SL_WORK/NAME.ready (created once every connection is open, or for hold
# once every request went out); SL_LAST_PID is its PID.
sl_bulk_spawn() {
	local name=$1
	shift
	rm -f "$SL_WORK/$name.json" "$SL_WORK/$name.ready"
	sl_log "+ bulkclient.py $* (background: $name)"
	sl_spawn "$SL_WORK/$name.log" "bulkclient-$name" --ns "$SL_NS_C" -- \
		"$SL_PY" "$SL_ROOT/scripts/bulkclient.py" --host "$SL_S_ADDR" --port "$SL_BULK_PORT" \
		--json-out "$SL_WORK/$name.json" --ready-file "$SL_WORK/$name.ready" "$@"
}
sl_bulk_wait_ready() { # sl_bulk_wait_ready NAME PID TIMEOUT_S
	local name=$1 pid=$2 t=$3 i
	for ((i = 0; i < t * 10; i++)); do
		[[ -e $SL_WORK/$name.ready ]] && return 0
		sl_pid_alive "$pid" || break
		sleep 0.1
	done
	tail -n 5 "$SL_WORK/$name.log" >&2
	[[ -s $SL_WORK/$name.json ]] && sl_bulk_summary <"$SL_WORK/$name.json"
	sl_fail "bulkclient $name: not ready within ${t}s"
}
# sl_bulk_finish NAME PID TIMEOUT_S DESC [--term]: wait for it to end (after
# SIGTERM with --term: how a hold ends), SL_BULK = its result; fail unless
# every connection succeeded.
sl_bulk_finish() {
	local name=$1 pid=$2 t=$3 desc=$4 term=${5:-} i rc=0
	[[ $term == --term ]] && kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < t * 10; i++)); do
		sl_pid_alive "$pid" || break
		sleep 0.1
	done
	sl_pid_alive "$pid" && sl_fail "bulkclient $name still running after ${t}s"
	wait "$pid" || rc=$?
	SL_BULK=$(cat "$SL_WORK/$name.json" 2>/dev/null) || SL_BULK='{}'
	sl_bulk_summary <<<"$SL_BULK"
	((rc == 0)) || sl_fail "$desc (bulkclient exit status $rc; log $(tail -n 3 "$SL_WORK/$name.log"))"
	sl_ok "$desc"
}

# ------------------------------------------------------ TCP stack and proxy ----
# `action proxy` rules make the appliance terminate TCP as the server and
# relay to it over its own connection (docs/tcp.md).
#
# SLT_TCP_SELFCHECK=1 runs the test_tcp_*.sh scripts against plain forwarding
# to check the scripts themselves (the Linux server is then the peer): proxy
# rules become forward rules, the tcp config section is left out, and the
# checks of the appliance's own TCP stack (counters, pools, its SYN to the
# server) are skipped with a note in the log.  `make test` never sets it.
sl_tcp_stack() { [[ ${SLT_TCP_SELFCHECK:-0} != 1 ]]; }
sl_proxy_action() { if sl_tcp_stack; then echo proxy; else echo forward; fi; }
sl_selfcheck_note() { sl_log "selfcheck (SLT_TCP_SELFCHECK=1): not checked: $*"; }

# A proxy rule for SL_CONF_RULES: sl_conf_proxy_rule DPORT
sl_conf_proxy_rule() {
	printf '{ dst = "%s/32"; dport = %s; proto = "tcp"; action = "%s"; }' \
		"$SL_S_ADDR" "$1" "$(sl_proxy_action)"
}
# The same at runtime: sl_proxy_rule_add DPORT
sl_proxy_rule_add() {
	sl_expect_rc 0 "rule add dport $1 action $(sl_proxy_action)" \
		sl_ctl rule add dst "$SL_S_ADDR/32" dport "$1" proto tcp action "$(sl_proxy_action)"
}

# TCP settings for the config: sl_conf_tcp 'time_wait_ms = 2000;' ...
# SL_TCP_CONF_AT says where they live: "top" (a top-level `tcp = { };`
# section, the default) or "dataplane" (`tcp = { };` inside dataplane).
SL_TCP_CONF_AT=${SL_TCP_CONF_AT:-top}
sl_conf_tcp() {
	if ! sl_tcp_stack; then
		sl_selfcheck_note "tcp settings $*"
		return 0
	fi
	case $SL_TCP_CONF_AT in
	top) SL_CONF_EXTRA+="tcp = { $* };"$'\n' ;;
	dataplane) SL_CONF_DATAPLANE+="  tcp = { $* };"$'\n' ;;
	*) sl_die "SL_TCP_CONF_AT must be top or dataplane" ;;
	esac
}

# `show tcp --json`: one object of integers (include/sluice/shm.h
# SL_TCP_STATS: gauges active, syn_received, syn_sent, established, closing,
# time_wait; counters opened_passive ... proxied; conn_bytes, flow_slots).
sl_tcp_json() { sl_ctl_json show tcp; }
sl_tcp_field() { # sl_tcp_field FIELD [JSON]: print one integer of show tcp
	local js=${2:-}
	[[ -n $js ]] || js=$(sl_tcp_json) || sl_fail "sluicectl --json show tcp failed: $js"
	jq -e -r --arg f "$1" '.[$f] | if type == "number" then . else error("no integer \($f)") end' <<<"$js" ||
		sl_fail "show tcp has no integer '$1': $js"
}
# sl_tcp_moved FIELD BEFORE AFTER [MIN]: FIELD grew by at least MIN (1).
# Many workers (issue 12): a phase's flows must spread over every worker.
# sl_spread_begin, then the phase, then sl_spread_check LABEL [STAT]: with
# more than one worker, each worker's show tcp per_worker STAT (default
# opened_passive: connections it accepted) must have moved.  One worker:
# logged only.
sl_spread_begin() { SL_SPREAD_T0=$(sl_tcp_json); }
sl_spread_check() {
	local what=$1 stat=${2:-opened_passive} t1 per nw
	t1=$(sl_tcp_json)
	per=$(jq -c --arg f "$stat" --argjson a "$SL_SPREAD_T0" \
		'[.per_worker[] as $w | $w[$f] - ($a.per_worker[$w.worker][$f] // 0)]' <<<"$t1")
	nw=$(jq '.per_worker | length' <<<"$t1")
	if ((nw > 1)); then
		jq -e 'all(.[]; . > 0)' <<<"$per" >/dev/null ||
			sl_fail "$what: every one of the $nw workers must own some of it: $stat per worker $per"
		sl_ok "$what: spread over $nw workers ($stat per worker $per)"
	else
		sl_log "$what: one worker ($stat $per)"
	fi
}
# sl_bytes_sha256 BYTES: the sha256 of the bulk server's /bytes/BYTES body
sl_bytes_sha256() {
	"$SL_PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import bulkserver; print(bulkserver.stream_sha256(int(sys.argv[2])))' \
		"$SL_ROOT/scripts" "$1"
}
# sl_curl_many N URL SHA256 [CURL ARGS...]: N requests of URL at once from
# the client namespace (curl --parallel), every body's sha256 equal to SHA256.
sl_curl_many() {
	local n=$1 url=$2 want=$3 i got d=$SL_WORK/many-curl
	shift 3
	rm -rf "$d"
	mkdir -p "$d"
	local args=()
	for ((i = 0; i < n; i++)); do args+=(-o "$d/$i" "$url"); done
	ip netns exec "$SL_NS_C" curl -sS -Z --parallel-max "$n" -m 60 "$@" "${args[@]}" 2>"$d/err" ||
		sl_fail "$n parallel requests of $url failed: $(tail -n 3 "$d/err")"
	for ((i = 0; i < n; i++)); do
		got=$(sha256sum <"$d/$i" | cut -d' ' -f1)
		[[ $got == "$want" ]] || sl_fail "request $i of $n ($url): sha256 $got, want $want"
	done
	rm -rf "$d"
	sl_ok "$n requests of $url at once, every sha256 equal"
}
sl_tcp_moved() {
	local f=$1 a b min=${4:-1}
	a=$(sl_tcp_field "$f" "$2")
	b=$(sl_tcp_field "$f" "$3")
	((b - a >= min)) || sl_fail "show tcp $f did not move by $min: $a -> $b"
	sl_ok "show tcp $f: $a -> $b"
}
# For SL_ON_FAIL in the TCP tests: the stack's counters, the first 100
# connections, drops and ports, while sluice-cp still answers.
sl_tcp_diag() {
	if [[ -z ${SL_CP_PID:-} ]] || ! sl_pid_alive "$SL_CP_PID"; then
		echo "sluice-cp is not running"
		return 0
	fi
	local c
	for c in "show tcp" "show flows count 100" "show errors" "show ports"; do
		echo "--- sluicectl $c"
		# shellcheck disable=SC2086 # c is a word list
		sl_ctl $c 2>&1 | head -n 150
	done
}
# SL_ON_FAIL for the agent tests: where the offers, sessions and held SYNs stood
sl_agent_diag() {
	sl_tcp_diag
	[[ -n ${SL_CP_PID:-} ]] && sl_pid_alive "$SL_CP_PID" || return 0
	local c
	for c in "show agents" "show agents --json" "show held" "show vnets"; do
		echo "--- sluicectl $c"
		# shellcheck disable=SC2086 # c is a word list
		sl_ctl $c 2>&1 | head -n 150
	done
}
sl_tcp_log() { # show tcp into the log, for the record
	sl_log "show tcp:"
	sl_ctl show tcp 2>&1 | sed 's/^/    | /' >&2 || true
}

# mbuf pools from `show stats --json`: "pools": [{"name", "size", "in_use"}]
# (in_use = rte_mempool_in_use_count: size minus what is in the ring and in
# the per-lcore caches, so cached mbufs count as free).
sl_pools_json() {
	local js
	js=$(sl_ctl_json show stats) || sl_fail "sluicectl --json show stats failed: $js"
	jq -e -c '[.pools[] | {name, size, in_use}]' <<<"$js" || sl_fail "show stats has no pools array: $js"
}
# sl_pools_back BASE NOW [TOL]: exit status 0 when every pool's in_use in
# NOW is at most its in_use in BASE plus TOL (0); prints those that are not.
sl_pools_back() {
	local over
	over=$(jq -r -n --argjson b "$1" --argjson n "$2" --argjson tol "${3:-0}" '
		$n[] as $p | ($b[] | select(.name == $p.name) | .in_use) as $was
		| select($p.in_use > $was + $tol) | "\($p.name): in_use \($was) -> \($p.in_use)"') ||
		sl_fail "cannot compare pools: $1 / $2"
	[[ -z $over ]] && return 0
	printf '%s\n' "$over"
	return 1
}

# ---------------------------------------------------------------- captures ----
# sl_cap_start NAME NS IFACE BPF: scripts/tcpcap.py (scapy AsyncSniffer)
# capturing on IFACE in NS into $SL_WORK/NAME.pcap; returns once it captures.
# sl_cap_stop NAME: end it and wait for the pcap; fails when the capture
# socket dropped packets (the analysis would be wrong, not the appliance).
declare -gA SL_CAP_PID=()
sl_cap_start() {
	local name=$1 ns=$2 ifc=$3 bpf=$4
	rm -f "$SL_WORK/$name.pcap" "$SL_WORK/$name.cap-ready" "$SL_WORK/$name.cap-stop"
	sl_spawn "$SL_WORK/cap-$name.log" "tcpcap-$name" --ns "$ns" -- \
		"$SL_PY" "$SL_ROOT/scripts/tcpcap.py" --iface "$ifc" --filter "$bpf" \
		--out "$SL_WORK/$name.pcap" --ready "$SL_WORK/$name.cap-ready" --stop "$SL_WORK/$name.cap-stop"
	SL_CAP_PID[$name]=$SL_LAST_PID
	sl_wait_for 20 "capture $name on $ifc" test -e "$SL_WORK/$name.cap-ready" ||
		sl_fail "capture $name did not start: $(tail -n 5 "$SL_WORK/cap-$name.log")"
}
sl_cap_stop() {
	local name=$1 pid=${SL_CAP_PID[$1]} i st
	touch "$SL_WORK/$name.cap-stop"
	for ((i = 0; i < 600; i++)); do
		sl_pid_alive "$pid" || break
		sleep 0.1
	done
	sl_pid_alive "$pid" && sl_fail "capture $name did not finish within 60 s"
	wait "$pid" 2>/dev/null || true
	[[ -s $SL_WORK/$name.pcap ]] || sl_fail "capture $name wrote no pcap: $(tail -n 5 "$SL_WORK/cap-$name.log")"
	st=$(tail -n 1 "$SL_WORK/cap-$name.log")
	sl_log "capture $name: $st"
	[[ $(jq -r '.drops' <<<"$st") == 0 ]] || sl_fail "capture $name is incomplete (socket drops): $st"
}

# ------------------------------------------------------ S4: agent sites ----
# The S4 demo and test topology behind the appliance's third port "wan" (a
# net_tap, appliance address SL_WAN_ADDR 198.18.100.1/24).  Two remote sites
# whose LANs use the SAME addresses (vnets keep them apart), each an agent
# host in front of a LAN router/server; site B can leave only through an HTTP
# CONNECT proxy.  Namespaces are named PREFIX + wan|sa|la|sb|lb (the demo:
# PREFIX "sl-", so sl-wan ...; tests: their instance prefix, e.g. slt1234):
#
#   PREFIXwan  br0 198.18.100.2/24: tinyproxy :8888 (CONNECT to :443 only)
#              bridge ports: the wan tap (no address), vsa, vsb
#   PREFIXsa   wan0 198.18.100.11/24 (site A's agent host; no default route)
#              lan0 198.19.200.1/24 to PREFIXla; 198.19.201-203.0/24 via .10
#   PREFIXla   eth0 198.19.200.10/24, default via 198.19.200.1; a router
#              (ip_forward) and the LAN's server:
#                :80 HTTP "site-a\n" for GET /   :9000 scripts/bulkserver.py
#                :81 closed (RST)                 answers ping
#                198.19.201.0/24 unreachable  -> ICMP host unreachable (3/1)
#                198.19.202.0/24 prohibit     -> ICMP admin prohibited (3/13)
#                198.19.203.0/24 blackhole    -> silence
#   PREFIXsb   as PREFIXsa with 198.18.100.12; nftables drops its output to
#              198.18.100.1: it reaches the appliance only through the proxy
#   PREFIXlb   as PREFIXla (same addresses), HTTP "site-b\n"
#
# The kernel rate-limits the ICMP errors of unreachable/prohibit routes by
# source (ip_error: net.ipv4.route.error_cost/error_burst, 5 then 1 per
# second, settable only in the host's namespace), so the LAN router also
# rejects those two prefixes in an nftables prerouting chain (same ICMP
# codes) and runs with icmp_ratelimit=0 and icmp_ratemask=0: a scan gets
# every ICMP error; the routes stay as the fallback and as documentation.
#
# Needs tinyproxy and nftables (sl_need_pkgs tinyproxy nft:nftables) and
# SL_WORK (logs, the proxy's config, the web roots).  Every process is
# started with sl_spawn and every namespace with sl_netns_create, so the
# usual cleanup (sl_cleanup_state) stops and deletes them.

SL_WAN_ADDR=198.18.100.1          # the appliance on its wan port
SL_WAN_PROXY=198.18.100.2         # br0 in PREFIXwan: the HTTP CONNECT proxy
SL_WAN_PROXY_PORT=8888
SL_WAN_TAP_MAC=02:00:00:00:64:01  # kernel side of the wan tap (a bridge port)
SL_WAN_BR_MAC=02:00:00:00:64:02
SL_SITE_A_ADDR=198.18.100.11      # agent host of site A on the wan
SL_SITE_B_ADDR=198.18.100.12      # agent host of site B
SL_SITE_LAN_GW=198.19.200.1       # the agent host on its LAN (both sites)
SL_SITE_SRV=198.19.200.10         # the LAN router and server (both sites)
SL_SITE_NET_UNREACH=198.19.201.0/24
SL_SITE_NET_PROHIBIT=198.19.202.0/24
SL_SITE_NET_BLACKHOLE=198.19.203.0/24
SL_SITE_PROXY_TIMEOUT=${SL_SITE_PROXY_TIMEOUT:-3600} # tinyproxy idle timeout (s)
# The five probes of the transparency checks and what a scan from an agent
# host sees (nmap -sS state and reason; through the appliance the states
# must match, the reasons may differ where S4 answers for the agent).
# shellcheck disable=SC2034 # for the tests
SL_SITE_TARGETS=("$SL_SITE_SRV:80" "$SL_SITE_SRV:81" 198.19.201.5:80 198.19.202.5:80 198.19.203.5:80)
# shellcheck disable=SC2034 # for the tests
SL_SITE_SCAN_EXPECT="$SL_SITE_SRV:80 open syn-ack
$SL_SITE_SRV:81 closed reset
198.19.201.5:80 filtered host-unreach
198.19.202.5:80 filtered admin-prohibited
198.19.203.5:80 filtered no-response"
SL_AGENT=${SLUICE_AGENT_BIN:-$SL_BUILD/agent/sluice-agent}

# sl_need_pkgs CMD[:PACKAGE]...: make sure each command exists, installing
# the Debian packages of those missing (apt-get, an update first if the
# install fails).  Returns 1 (after saying what is missing) when a command is
# still missing: a test then skips (exit 77).
sl_need_pkgs() {
	local spec cmd pkg
	local -a missing=() still=()
	for spec in "$@"; do
		cmd=${spec%%:*}
		pkg=${spec#*:}
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
	done
	((${#missing[@]})) || return 0
	sl_log "installing ${missing[*]} (apt-get)"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
		apt-get update -q >&2 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || true
	fi
	for spec in "$@"; do
		cmd=${spec%%:*}
		command -v "$cmd" >/dev/null 2>&1 || still+=("$cmd")
	done
	((${#still[@]} == 0)) && return 0
	sl_log "still missing after apt-get install: ${still[*]}"
	return 1
}

# no checksum or segmentation offloads on DEV in NS (like sl_ns_attach);
# optional: nothing happens without ethtool
sl_site_nooffload() { # sl_site_nooffload NS DEV
	command -v ethtool >/dev/null || return 0
	ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
}

# One site: agent host HOST (wan0 on the bridge, lan0 to LAN) and LAN
# router/server LAN.  Internal to sl_agent_sites.
sl_site_make() { # sl_site_make [--setsid] HOST LAN WAN_ADDR BRIDGE_PORT TEXT
	local -a opt=()
	if [[ ${1:-} == --setsid ]]; then opt=(--setsid); shift; fi
	local h=$1 l=$2 addr=$3 bport=$4 text=$5 w=$SL_NS_WAN net
	ip -n "$h" link add wan0 type veth peer name "$bport" netns "$w" || sl_die "veth $h/wan0 - $w/$bport"
	ip -n "$w" link set dev "$bport" master br0 || sl_die "$bport into br0 in $w"
	ip -n "$h" addr add "$addr/24" dev wan0
	ip -n "$h" link add lan0 type veth peer name eth0 netns "$l" || sl_die "veth $h/lan0 - $l/eth0"
	ip -n "$h" addr add "$SL_SITE_LAN_GW/24" dev lan0
	ip -n "$l" addr add "$SL_SITE_SRV/24" dev eth0
	for net in "$h wan0" "$h lan0" "$l eth0" "$w $bport"; do
		# shellcheck disable=SC2086 # NS DEV
		ip -n ${net% *} link set dev ${net#* } up || sl_die "link set ${net#* } up in ${net% *}"
		# shellcheck disable=SC2086
		sl_site_nooffload $net
	done
	ip -n "$l" route add default via "$SL_SITE_LAN_GW" || sl_die "default route in $l"
	for net in "$SL_SITE_NET_UNREACH" "$SL_SITE_NET_PROHIBIT" "$SL_SITE_NET_BLACKHOLE"; do
		ip -n "$h" route add "$net" via "$SL_SITE_SRV" || sl_die "route $net in $h"
	done
	ip -n "$l" route add unreachable "$SL_SITE_NET_UNREACH" || sl_die "unreachable route in $l"
	ip -n "$l" route add prohibit "$SL_SITE_NET_PROHIBIT" || sl_die "prohibit route in $l"
	ip -n "$l" route add blackhole "$SL_SITE_NET_BLACKHOLE" || sl_die "blackhole route in $l"
	ip netns exec "$l" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_ratemask=0 ||
		sl_die "sysctls in $l"
	ip netns exec "$l" nft -f - <<EOF || sl_die "nftables in $l"
table ip sluice_site {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		ip daddr $SL_SITE_NET_UNREACH reject with icmp type host-unreachable
		ip daddr $SL_SITE_NET_PROHIBIT reject with icmp type admin-prohibited
	}
}
EOF
	mkdir -p "$SL_WORK/$l-www"
	printf '%s\n' "$text" >"$SL_WORK/$l-www/index.html"
	sl_spawn "$SL_WORK/$l-http.log" "$l-http" "${opt[@]}" --ns "$l" -- \
		"$SL_PY" "$SL_ROOT/scripts/httpserver.py" --bind "$SL_SITE_SRV" --port 80 --directory "$SL_WORK/$l-www"
	sl_spawn "$SL_WORK/$l-bulk.log" "$l-bulk" "${opt[@]}" --ns "$l" -- \
		"$SL_PY" "$SL_ROOT/scripts/bulkserver.py" --bind "$SL_SITE_SRV" --port 9000
	sl_wait_for 10 "HTTP server on $SL_SITE_SRV:80 in $l" sl_listening_on "$l" "$SL_SITE_SRV" 80 ||
		sl_die "HTTP server in $l did not start: $(tail -n 5 "$SL_WORK/$l-http.log")"
	sl_wait_for 10 "bulk server on $SL_SITE_SRV:9000 in $l" sl_listening_on "$l" "$SL_SITE_SRV" 9000 ||
		sl_die "bulk server in $l did not start: $(tail -n 5 "$SL_WORK/$l-bulk.log")"
	# UDP (issue 10): echo on :7, and DNS on :53 answering svc.sluice.test
	# with the site's own address (site-b: 198.19.201.2, else .1) and
	# site.sluice.test TXT with TEXT
	local ans=198.19.201.1
	[[ $text == site-b ]] && ans=198.19.201.2
	sl_spawn "$SL_WORK/$l-udpecho.log" "$l-udpecho" "${opt[@]}" --ns "$l" -- \
		"$SL_PY" "$SL_ROOT/scripts/udpecho.py" --bind "$SL_SITE_SRV" --port 7
	if command -v dnsmasq >/dev/null; then
		sl_spawn "$SL_WORK/$l-dnsmasq.log" "$l-dnsmasq" "${opt[@]}" --ns "$l" -- \
			dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
			--listen-address="$SL_SITE_SRV" --port=53 --user=nobody --group=nogroup \
			--pid-file= --address=/svc.sluice.test/"$ans" \
			--txt-record=site.sluice.test,"$text" --log-facility=-
	else
		sl_log "no dnsmasq (apt-get install dnsmasq-base): no DNS server in $l"
	fi
}

# sl_agent_sites [--setsid] PREFIX WAN_TAP [TAP_MAC]
#   PREFIX   namespace name prefix: PREFIXwan, PREFIXsa, PREFIXla, PREFIXsb,
#            PREFIXlb (sets SL_NS_WAN, SL_NS_SA, SL_NS_LA, SL_NS_SB, SL_NS_LB)
#   WAN_TAP  the wan port's tap device, in the root namespace (sluice-dp made
#            it; a test may stand in a veth); it moves into PREFIXwan and
#            becomes a port of br0, without an address
#   TAP_MAC  the MAC given to the tap's kernel side (SL_WAN_TAP_MAC): it must
#            differ from the appliance port's own MAC, which net_tap gives it
#            by default, or br0 would take the appliance's frames for itself
#   --setsid every process in its own session (run.sh: see sl_spawn)
# Leaves the proxy's PID in SL_PROXY_PID.
sl_agent_sites() {
	local -a opt=()
	if [[ ${1:-} == --setsid ]]; then opt=(--setsid); shift; fi
	local p=${1:-} tap=${2:-} mac=${3:-$SL_WAN_TAP_MAC} w conf
	[[ -n $p && -n $tap ]] || sl_die "usage: sl_agent_sites [--setsid] PREFIX WAN_TAP [TAP_MAC]"
	[[ -n ${SL_WORK:-} && -d $SL_WORK ]] || sl_die "sl_agent_sites: SL_WORK is not a directory"
	command -v tinyproxy >/dev/null || sl_die "tinyproxy is not installed (apt-get install tinyproxy)"
	command -v nft >/dev/null || sl_die "nft is not installed (apt-get install nftables)"
	ip link show dev "$tap" >/dev/null 2>&1 || sl_die "wan tap $tap not found in the root namespace"
	SL_NS_WAN=${p}wan SL_NS_SA=${p}sa SL_NS_LA=${p}la SL_NS_SB=${p}sb SL_NS_LB=${p}lb
	w=$SL_NS_WAN
	for conf in "$SL_NS_WAN" "$SL_NS_SA" "$SL_NS_LA" "$SL_NS_SB" "$SL_NS_LB"; do
		sl_netns_create "$conf"
	done

	# the wan: br0 with the tap as a port and the proxy's address
	ip -n "$w" link add br0 address "$SL_WAN_BR_MAC" type bridge || sl_die "bridge br0 in $w"
	ip -n "$w" link set dev br0 type bridge nf_call_iptables 0 nf_call_arptables 0 2>/dev/null || true
	ip link set dev "$tap" netns "$w" || sl_die "cannot move $tap into $w"
	ip netns exec "$w" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" 2>/dev/null || true
	ip -n "$w" link set dev "$tap" address "$mac" || sl_die "cannot set $tap's MAC to $mac"
	ip -n "$w" link set dev "$tap" master br0 || sl_die "cannot add $tap to br0 in $w"
	ip -n "$w" link set dev "$tap" up || sl_die "ip link set $tap up in $w"
	sl_site_nooffload "$w" "$tap"
	ip -n "$w" addr add "$SL_WAN_PROXY/24" dev br0 || sl_die "address of br0 in $w"
	ip -n "$w" link set dev br0 up || sl_die "br0 up in $w"

	sl_site_make "${opt[@]}" "$SL_NS_SA" "$SL_NS_LA" "$SL_SITE_A_ADDR" vsa site-a
	sl_site_make "${opt[@]}" "$SL_NS_SB" "$SL_NS_LB" "$SL_SITE_B_ADDR" vsb site-b
	sl_site_nooffload "$w" br0

	# site B: to the appliance only through the proxy
	ip netns exec "$SL_NS_SB" nft -f - <<EOF || sl_die "nftables in $SL_NS_SB"
table inet sluice_site {
	chain output {
		type filter hook output priority filter; policy accept;
		ip daddr $SL_WAN_PROXY accept
		ip daddr $SL_WAN_ADDR drop
	}
}
EOF

	# the proxy: its own config, in the foreground (-d), as nobody
	conf=$SL_WORK/$w-tinyproxy.conf
	cat >"$conf" <<EOF
# generated by scripts/lib.sh (sl_agent_sites)
User nobody
Group nogroup
Port $SL_WAN_PROXY_PORT
Listen $SL_WAN_PROXY
Timeout $SL_SITE_PROXY_TIMEOUT
MaxClients 256
Allow 198.18.100.0/24
ConnectPort 443
DisableViaHeader Yes
LogLevel Info
EOF
	chmod 0644 "$conf"
	sl_spawn "$SL_WORK/$w-tinyproxy.log" "$w-tinyproxy" "${opt[@]}" --ns "$w" -- tinyproxy -d -c "$conf"
	# shellcheck disable=SC2034 # for the caller
	SL_PROXY_PID=$SL_LAST_PID
	sl_wait_for 10 "tinyproxy on $SL_WAN_PROXY:$SL_WAN_PROXY_PORT" \
		sl_listening_on "$w" "$SL_WAN_PROXY" "$SL_WAN_PROXY_PORT" ||
		sl_die "tinyproxy did not start: $(tail -n 5 "$SL_WORK/$w-tinyproxy.log")"
	sl_log "agent sites up: $SL_NS_WAN (bridge, proxy $SL_WAN_PROXY:$SL_WAN_PROXY_PORT)," \
		"$SL_NS_SA/$SL_NS_LA (site A), $SL_NS_SB/$SL_NS_LB (site B, via the proxy)"
}

sl_site_ns() { # sl_site_ns a|b|NS: the agent host namespace of site a or b (or NS itself)
	case $1 in
	a | A | site-a) echo "$SL_NS_SA" ;;
	b | B | site-b) echo "$SL_NS_SB" ;;
	*) echo "$1" ;;
	esac
}

# sl_agent_conf FILE NAME [proxy]: an agent config connecting to the
# appliance's wan address on 443 with certificate NAME.pem/NAME.key of the
# test PKI (site-a, site-b, or a bad one: rogue, stranger), verifying the
# appliance with ca.pem; "proxy" adds the HTTP CONNECT proxy (site B).
# Extra settings of the agent section: SL_AGENT_CONF_EXTRA.
sl_agent_conf() {
	local file=$1 name=$2 proxy=
	if [[ ${3:-} == proxy ]]; then
		proxy="  proxy = \"http://$SL_WAN_PROXY:$SL_WAN_PROXY_PORT\";"
	elif [[ -n ${3:-} ]]; then
		sl_die "sl_agent_conf: third argument must be 'proxy', not '$3'"
	fi
	{
		printf '# generated by scripts/lib.sh (sl_agent_conf) for %s\nagent = {\n' "$name"
		printf '  appliance = "%s";\n  port = 443;\n' "$SL_WAN_ADDR"
		[[ -z $proxy ]] || printf '%s\n' "$proxy"
		printf '  ca = "%s";\n  cert = "%s";\n  key = "%s";\n  stream_pool = 4;\n' \
			"$SL_CERTS/ca.pem" "$SL_CERTS/$name.pem" "$SL_CERTS/$name.key"
		[[ -z ${SL_AGENT_CONF_EXTRA:-} ]] || printf '  %s\n' "$SL_AGENT_CONF_EXTRA"
		printf '};\n'
	} >"$file"
}

# sl_agent_start [--setsid] SITE CONF LOG [ARGS...]: start sluice-agent -c
# CONF [ARGS] in the agent host namespace of SITE (a, b or a namespace name),
# output to LOG; its PID in SL_AGENT_PID (and SL_LAST_PID).
sl_agent_start() {
	local -a opt=()
	if [[ ${1:-} == --setsid ]]; then opt=(--setsid); shift; fi
	local ns conf=$2 log=$3
	ns=$(sl_site_ns "$1")
	shift 3
	[[ -x $SL_AGENT ]] || sl_die "$SL_AGENT not built (run: make)"
	[[ -e /run/netns/$ns ]] || sl_die "sl_agent_start: no namespace $ns"
	sl_log "starting sluice-agent in $ns: -c $conf $*"
	sl_spawn "$log" "sluice-agent-$ns" "${opt[@]}" --ns "$ns" -- stdbuf -oL -eL "$SL_AGENT" -c "$conf" "$@"
	# shellcheck disable=SC2034 # for the caller
	SL_AGENT_PID=$SL_LAST_PID
}

# sl_tcp_probe NS ADDR PORT [TIMEOUT_S]: one TCP connect from NS; prints
#   open | refused | timeout | ICMP-REASON from ADDR | errno name
# ICMP-REASON (nmap's words: net-unreach, host-unreach, port-unreach,
# net-prohibited, host-prohibited, admin-prohibited, icmp-3/N) comes from
# the ICMP error the kernel queued (IP_RECVERR), so host unreachable and
# administratively prohibited (both EHOSTUNREACH) are told apart, and the
# sender of the error is shown.
sl_tcp_probe() {
	ip netns exec "$1" "$SL_PY" - "$2" "$3" "${4:-3}" <<'EOF'
import errno, socket, struct, sys
IP_RECVERR = getattr(socket, "IP_RECVERR", 11)  # not in Python 3.11's socket module
REASON = {0: "net-unreach", 1: "host-unreach", 2: "proto-unreach", 3: "port-unreach",
          9: "net-prohibited", 10: "host-prohibited", 13: "admin-prohibited"}
s = socket.socket()
s.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
s.settimeout(float(sys.argv[3]))
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("open")
    sys.exit(0)
except socket.timeout:
    print("timeout")
    sys.exit(0)
except OSError as e:
    err = e.errno
if err == errno.ECONNREFUSED:
    print("refused")
    sys.exit(0)
try:
    _, anc, _, _ = s.recvmsg(64, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
except OSError:
    anc = []
for level, kind, data in anc:
    if level == socket.SOL_IP and kind == IP_RECVERR and len(data) >= 24:
        _, origin, itype, code = struct.unpack_from("=IBBB", data)
        src = socket.inet_ntoa(data[20:24])
        if origin == 2 and itype == 3:  # SO_EE_ORIGIN_ICMP, destination unreachable
            print("%s from %s" % (REASON.get(code, "icmp-3/%d" % code), src))
            sys.exit(0)
        print("icmp-%d/%d from %s" % (itype, code, src))
        sys.exit(0)
print(errno.errorcode.get(err, str(err)).lower())
EOF
}

# sl_site_scan NS [ADDR:PORT...]: nmap -sS from NS against the targets
# (SL_SITE_TARGETS by default); prints one line per target, "ADDR:PORT STATE
# REASON" (compare with SL_SITE_SCAN_EXPECT), the raw XML in
# $SL_WORK/scan-NS.N.xml.  Needs nmap (sl_need_pkgs nmap).
sl_site_scan() {
	local ns=$1 t xml plist
	shift
	local -a targets=("$@") hosts=() ports=()
	((${#targets[@]})) || targets=("${SL_SITE_TARGETS[@]}")
	for t in "${targets[@]}"; do
		[[ " ${hosts[*]} " == *" ${t%:*} "* ]] || hosts+=("${t%:*}")
		[[ " ${ports[*]} " == *" ${t##*:} "* ]] || ports+=("${t##*:}")
	done
	SL_SCAN_SEQ=$((${SL_SCAN_SEQ:-0} + 1))
	xml=$SL_WORK/scan-$ns.$SL_SCAN_SEQ.xml
	plist=$(IFS=,; echo "${ports[*]}")
	ip netns exec "$ns" timeout -k 5 120 nmap -sS -Pn -n --reason --max-retries 2 \
		-p "$plist" -oX "$xml" "${hosts[@]}" >/dev/null 2>>"$SL_WORK/nmap.log" || return 1
	"$SL_PY" - "$xml" "${targets[@]}" <<'EOF'
import sys, xml.etree.ElementTree as ET
seen = {}
for h in ET.parse(sys.argv[1]).getroot().iter("host"):
    addr = [a.get("addr") for a in h.iter("address") if a.get("addrtype") == "ipv4"][0]
    for p in h.iter("port"):
        st = p.find("state")
        seen["%s:%s" % (addr, p.get("portid"))] = "%s %s" % (st.get("state"), st.get("reason"))
for t in sys.argv[2:]:
    print(t, seen.get(t, "missing -"))
EOF
}

# ------------------------------------------------ S4: the appliance with agents ----
# sl_agent_appliance_start: the appliance with a wan port, an agents
# listener and vnets a (198.18.0.0/25 -> site-a) and b (198.18.0.128/25 ->
# site-b), both routing 198.19.200.0/22 to their agent; the sites
# (sl_agent_sites); 198.18.0.130 added in the client namespace.
# SL_AGENTS_CONF_EXTRA: more settings of the agents section;
# SL_VNET_A_EXTRA / SL_VNET_B_EXTRA: more settings of vnet a / b.
# Then sl_agents_up starts both agents and waits for their pools.
SL_C2_ADDR=198.18.0.130
sl_agent_appliance_start() {
	SL_TAP_W=${SL_PREFIX}tw
	SL_CONF_PORTS_EXTRA="{ name = \"wan\"; dev = \"net_tap2,iface=$SL_TAP_W\"; addr = \"$SL_WAN_ADDR/24\"; mac = \"02:53:4c:00:00:03\"; }"
	SL_CONF_EXTRA="${SL_CONF_EXTRA:-}
agents = {
  listen = \"$SL_WAN_ADDR\"; port = 443;
  cert = \"$SL_CERTS/appliance.pem\"; key = \"$SL_CERTS/appliance.key\"; ca = \"$SL_CERTS/agent-ca.pem\";
  ${SL_AGENTS_CONF_EXTRA:-hold_timeout_ms = 3000; connect_timeout_ms = 1500; keepalive_ms = 2000;}
};
vnets = (
  { name = \"a\"; clients = [ \"198.18.0.0/25\" ]; gateway = \"$SL_C_GW\"; agents = [ \"site-a\" ]; ${SL_VNET_A_EXTRA:-}
    routes = ( { dst = \"198.19.200.0/22\"; agent = \"site-a\"; } ); },
  { name = \"b\"; clients = [ \"198.18.0.128/25\" ]; gateway = \"$SL_C_GW\"; agents = [ \"site-b\" ]; ${SL_VNET_B_EXTRA:-}
    routes = ( { dst = \"198.19.200.0/22\"; agent = \"site-b\"; } ); }
);"
	sl_appliance_start
	ip -n "$SL_NS_C" addr add "$SL_C2_ADDR/24" dev "$SL_TAP_C"
	sl_agent_sites "$SL_PREFIX" "$SL_TAP_W"
}
sl_agents_json() { sl_ctl_json show agents; }
sl_agent_field() { # sl_agent_field NAME FIELD: one field of `show agents --json`
	sl_agents_json | jq -r --arg n "$1" --arg f "$2" '.agents[] | select(.name == $n) | .[$f]'
}
# ready: two idle STREAM sessions or more, and one on every worker at least
# (a relay needs one on the worker that owns its client flow: with several
# workers the appliance rebalances the pool with RETIRE until it is so)
sl_agent_pool_ready() {
	local v
	v=$(sl_agents_json | jq -r --arg n "$1" \
		'.agents[] | select(.name == $n) | "\(.pool_idle) \(.pool_idle_by_worker | min // 0)"')
	[[ -n $v ]] && (( ${v% *} >= 2 && ${v#* } >= 1 ))
}
# sl_agent_up a|b: start that site's agent (site-b through the proxy),
# PID in SL_AGENT_A_PID / SL_AGENT_B_PID, and wait for its pool.
sl_agent_up() {
	local site=$1 name=site-$1 proxy=
	[[ $site == b ]] && proxy=proxy
	sl_agent_conf "$SL_WORK/$name.conf" "$name" $proxy
	sl_agent_start "$site" "$SL_WORK/$name.conf" "$SL_WORK/agent-$site.log" -v
	if [[ $site == a ]]; then SL_AGENT_A_PID=$SL_AGENT_PID; else SL_AGENT_B_PID=$SL_AGENT_PID; fi
	sl_wait_for 30 "$name connected with a STREAM pool" sl_agent_pool_ready "$name" ||
		sl_fail "$name did not come up: $(sl_agents_json)"
}
sl_agents_up() { sl_agent_up a; sl_agent_up b; }
