#!/usr/bin/env bash
# The README's acceptance, automated: scripts/run.sh (what `make run` runs)
# in the background; ping -c3, curl -sf (the demo app over TLS, its denied
# plain port, S5 passthrough to bank.sluice.test, reverse mode to
# 198.19.0.12) and `sluicectl --json show ports` (rx/tx counters moved on
# both ports) from the outside; then SIGINT, as
# Ctrl-C would send; afterwards neither namespace exists and no process
# run.sh started is left.  Uses the fixed demo names (sl-client, sl-server,
# prefix sluice, /run/sluice/ctl.sock), so it is skipped when a demo runs.
# timeout: 150
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

skip() {
	echo "SKIP: $*"
	exit 77
}
[[ $(id -u) -eq 0 ]] || sl_die "must run as root"
for ns in sl-client sl-server; do
	[[ ! -e /run/netns/$ns ]] || skip "namespace $ns exists (a 'make run' is up?)"
done
! sl_prefix_in_use sluice || skip "a sluice-dp with the default prefix 'sluice' is running"
sl_need_binaries
unset SLUICE_CTL # sluicectl reads it as the socket path; the demo uses the default

work=$(mktemp -d /run/sluice-test/run.XXXXXX)
log=$work/run.log
run_pid=
declare -A started=() # pid -> start time, everything run.sh started

finish() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	if [[ -n $run_pid ]] && sl_pid_alive "$run_pid"; then
		kill -INT "$run_pid"
		for ((i = 0; i < 300; i++)); do sl_pid_alive "$run_pid" || break; sleep 0.1; done
		sl_pid_alive "$run_pid" && kill -KILL "$run_pid"
	fi
	for pid in "${!started[@]}"; do
		sl_stop_pid "$pid" "${started[$pid]}" "run.sh child" 2
	done
	if ((rc != 0)); then
		echo "----- run.sh output -----"
		cat "$log"
		for f in /run/sluice-demo/*.log; do
			[[ -e $f ]] && { echo "----- $f -----"; tail -n 40 "$f"; }
		done
	fi
	rm -rf "$work"
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A background job of a script ignores SIGINT unless told otherwise; run.sh
# must see it exactly as from a terminal's Ctrl-C.
sl_log "+ scripts/run.sh &"
env --default-signal=INT,QUIT "$SL_ROOT/scripts/run.sh" >"$log" 2>&1 &
run_pid=$!
up() { grep -q '^run: demo is up' "$log"; }
for ((i = 0; i < 900; i++)); do
	up && break
	sl_pid_alive "$run_pid" || {
		wait "$run_pid" || true
		sl_fail "run.sh exited before the demo was up"
	}
	sleep 0.1
done
up || sl_fail "run.sh did not print 'run: demo is up' within 90 s"
sl_ok "run.sh says the demo is up"
sed 's/^/    | /' "$log" >&2

# Everything it started: its descendants and whatever runs in the namespaces.
collect() {
	local -a queue=("$run_pid") kids
	local p k
	while ((${#queue[@]})); do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		mapfile -t kids < <(ps -o pid= --ppid "$p" | tr -d ' ')
		for k in "${kids[@]}"; do
			[[ -n $k ]] || continue
			started[$k]=$(sl_pid_starttime "$k" || echo -)
			queue+=("$k")
		done
	done
	for ns in sl-client sl-server; do
		for k in $(ip netns pids "$ns" 2>/dev/null); do started[$k]=$(sl_pid_starttime "$k" || echo -); done
	done
}
collect
sl_log "run.sh (pid $run_pid) started: $(for p in "${!started[@]}"; do printf '%s(%s) ' "$p" "$(cat "/proc/$p/comm" 2>/dev/null)"; done)"
comms=$(for p in "${!started[@]}"; do cat "/proc/$p/comm" 2>/dev/null; done | sort | tr '\n' ' ')
[[ $comms == *sluice-dp* && $comms == *sluice-cp* ]] || sl_fail "no sluice-dp and sluice-cp among run.sh's children: $comms"

# The acceptance commands, as a user types them.
sl_expect_rc 0 "ip netns exec sl-client ping -c3 198.19.0.10" ip netns exec sl-client ping -c3 198.19.0.10
grep -q ' 3 received' <<<"$SL_OUT" || sl_fail "ping: not 3/3"
# the demo page is served on :8080, reachable only through the TLS app on :443
sl_expect_rc 0 "ip netns exec sl-client curl -sf --cacert build/certs/ca.pem https://198.19.0.10/" \
	ip netns exec sl-client curl -sf --max-time 20 --cacert "$SL_ROOT/build/certs/ca.pem" https://198.19.0.10/
[[ $SL_OUT == *"Sluice demo"* ]] || sl_fail "https://198.19.0.10/ did not return the demo page: $SL_OUT"
if ip netns exec sl-client curl -sf --max-time 3 http://198.19.0.10:8080/ >/dev/null 2>&1; then
	sl_fail "http://198.19.0.10:8080/ answered directly: the demo app must deny it"
fi
sl_ok "http://198.19.0.10:8080/ is denied from the client side"
# S5 and reverse mode, as the README shows them: bank.sluice.test passes
# through to its own server (the client verifies e2e-ca, which the appliance
# has no key for); plaintext to 198.19.0.12:8080 leaves as TLS to its :443
sl_expect_rc 0 "curl --resolve bank.sluice.test:443:198.19.0.11 --cacert e2e-ca.pem https://bank.sluice.test/" \
	ip netns exec sl-client curl -sf --max-time 20 --resolve bank.sluice.test:443:198.19.0.11 \
	--cacert "$SL_ROOT/build/certs/e2e-ca.pem" https://bank.sluice.test/
[[ $SL_OUT == *"the real server"* ]] || sl_fail "https://bank.sluice.test/ was not the real server's page: $SL_OUT"
sl_expect_rc 0 "curl http://198.19.0.12:8080/ (reverse mode)" \
	ip netns exec sl-client curl -sf --max-time 20 http://198.19.0.12:8080/
[[ $SL_OUT == *"origin backend over TLS"* ]] || sl_fail "http://198.19.0.12:8080/ did not return the origin's page: $SL_OUT"
hs=$("$SL_CTL" --json show apps 2>/dev/null | jq -r '.apps[] | select(.name == "demo") | .handshakes') ||
	hs=0
((hs >= 1)) || sl_fail "show apps counts no handshake for demo"
sl_ok "show apps: demo counted $hs handshake(s)"
sleep 0.5
sl_expect_rc 0 "sluicectl --json show ports" "$SL_CTL" --json show ports
js=$SL_OUT
for p in client server; do
	for f in ipackets opackets; do
		v=$(sl_jq_port_stat "$p" "$f" <<<"$js" || true)
		# shellcheck disable=SC2015
		[[ $v =~ ^[0-9]+$ ]] && ((v > 0)) || sl_fail "port $p $f is '$v' after ping and curl"
		sl_ok "port $p $f = $v"
	done
done
sl_expect_rc 0 "sluicectl show ports" "$SL_CTL" show ports

# Ctrl-C.
sl_log "kill -INT $run_pid (Ctrl-C)"
kill -INT "$run_pid"
rc=0
for ((i = 0; i < 300; i++)); do sl_pid_alive "$run_pid" || break; sleep 0.1; done
sl_pid_alive "$run_pid" && sl_fail "run.sh still running 30 s after SIGINT"
wait "$run_pid" || rc=$?
run_pid=
sed 's/^/    | /' "$log" | tail -n 6 >&2
((rc == 0)) || sl_fail "run.sh exited with status $rc after SIGINT"
sl_ok "run.sh exited 0 after SIGINT"

netns=$(ip netns list)
! grep -qw -e sl-client -e sl-server <<<"$netns" || sl_fail "namespaces left after Ctrl-C: $netns"
sl_ok "no sl-client / sl-server namespace"
for tap in sl-tap0 sl-tap1; do
	! ip link show dev "$tap" >/dev/null 2>&1 || sl_fail "interface $tap left in the root namespace"
done
left=()
for pid in "${!started[@]}"; do
	if sl_pid_alive "$pid" "${started[$pid]}"; then left+=("$pid($(cat "/proc/$pid/comm" 2>/dev/null))"); fi
done
((${#left[@]} == 0)) || sl_fail "processes run.sh started are still running: ${left[*]}"
sl_ok "none of the ${#started[@]} processes run.sh started is left"
! sl_prefix_in_use sluice || sl_fail "a DPDK primary with prefix sluice is still running"
for m in $(sl_hugetlbfs_mounts); do
	! compgen -G "$m/sluicemap_*" >/dev/null || sl_fail "hugepage files $m/sluicemap_* left behind"
done
sl_ok "no sluice-dp left, no hugepage files left"
sl_log "run test passed"
