#!/usr/bin/env bash
# The README's acceptance, automated: scripts/run.sh (what `make run` runs)
# in the background; ping -c3, curl -sf (the demo app over TLS, its denied
# plain port, S5 passthrough to bank.sluice.test, reverse mode to
# 198.19.0.12) and `sluicectl --json show ports` (rx/tx counters moved on
# both ports) from the outside; then the README's S4 commands: both agents
# connected, 198.19.200.10 says site-a to 198.18.0.2 and site-b to
# 198.18.0.130, the closed port is refused, the unreachable and prohibited
# targets get ICMP 3/1 and 3/13 from 198.18.0.1, the black hole host
# unreachable after the agent's connect timeout (show held lists it
# meanwhile), ping through the agent, nmap's verdicts, a bulk download
# through the agent, `agent kick site-a` and its reconnection; then SIGINT, as
# Ctrl-C would send; afterwards no namespace of the demo exists and no
# process run.sh started is left.  Uses the fixed demo names (sl-client,
# sl-server, sl-wan, sl-sa, sl-la, sl-sb, sl-lb, prefix sluice,
# /run/sluice/ctl.sock), so it is skipped when a demo runs.
# timeout: 240
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

skip() {
	echo "SKIP: $*"
	exit 77
}
[[ $(id -u) -eq 0 ]] || sl_die "must run as root"
DEMO_NS=(sl-client sl-server sl-wan sl-sa sl-la sl-sb sl-lb)
for ns in "${DEMO_NS[@]}"; do
	[[ ! -e /run/netns/$ns ]] || skip "namespace $ns exists (a 'make run' is up?)"
done
! sl_prefix_in_use sluice || skip "a sluice-dp with the default prefix 'sluice' is running"
sl_need_binaries
[[ -x $SL_AGENT ]] || sl_die "$SL_AGENT not built (run: make)"
# the S4 sites (run.sh refuses to start without them), and nmap for the scan
sl_need_pkgs tinyproxy:tinyproxy-bin nft:nftables nmap ping:iputils-ping ||
	skip "tinyproxy, nftables, nmap or ping missing and apt-get install failed"
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
# the multi-worker pass (run.sh --workers) gives its lcores to the demo too:
# `SLUICE_LCORES=... make run` with several workers serves the same commands
run_env=()
if [[ -n ${SL_LCORES:-} && $SL_LCORES != 0-1 ]]; then run_env=("SLUICE_LCORES=$SL_LCORES"); fi
sl_log "+ ${run_env[*]} scripts/run.sh &"
env --default-signal=INT,QUIT "${run_env[@]}" "$SL_ROOT/scripts/run.sh" >"$log" 2>&1 &
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
	for ns in "${DEMO_NS[@]}"; do
		for k in $(ip netns pids "$ns" 2>/dev/null); do started[$k]=$(sl_pid_starttime "$k" || echo -); done
	done
}
collect
sl_log "run.sh (pid $run_pid) started: $(for p in "${!started[@]}"; do printf '%s(%s) ' "$p" "$(cat "/proc/$p/comm" 2>/dev/null || true)"; done)"
comms=$(for p in "${!started[@]}"; do cat "/proc/$p/comm" 2>/dev/null || true; done | sort | tr '\n' ' ')
[[ $comms == *sluice-dp* && $comms == *sluice-cp* ]] || sl_fail "no sluice-dp and sluice-cp among run.sh's children: $comms"
[[ $comms == *sluice-agent*sluice-agent* && $comms == *tinyproxy* ]] ||
	sl_fail "no two sluice-agent and a tinyproxy among run.sh's children: $comms"

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
nw=$("$SL_CTL" --json show workers | jq -r .n_workers) || sl_fail "sluicectl show workers failed"
if ((${#run_env[@]})); then
	((nw > 1)) || sl_fail "${run_env[*]}: the demo runs $nw worker(s)"
fi
sl_ok "the demo runs $nw worker(s)"
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

# --- S4, the README's commands ------------------------------------------------------
SRV=198.19.200.10
agent_json() { "$SL_CTL" --json show agents 2>/dev/null | jq -c --arg n "$1" '.agents[] | select(.name == $n)'; }
agent_up() { # agent_up NAME [MIN_SESSIONS]: connected, a STREAM idle, at least that many sessions
	local js
	js=$(agent_json "$1") || return 1
	jq -e --argjson s "${2:-1}" '.connected == true and .pool_idle >= 1 and .sessions >= $s' <<<"$js" >/dev/null
}
for a in site-a site-b; do
	agent_up "$a" || sl_fail "run.sh said the demo is up, but agent $a is not connected: $(agent_json "$a")"
done
sl_ok "show agents: site-a and site-b connected, with idle STREAM sessions"
sl_expect_rc 0 "sluicectl show agents" "$SL_CTL" show agents
sl_expect_rc 0 "sluicectl show vnets" "$SL_CTL" show vnets
[[ $SL_OUT == *198.19.200.0/22* ]] || sl_fail "show vnets does not list the route 198.19.200.0/22"

# the same address at two sites, chosen by the client's vnet
sl_expect_rc 0 "ip netns exec sl-client curl http://$SRV/" \
	ip netns exec sl-client curl -sS --max-time 10 "http://$SRV/"
[[ $SL_OUT == site-a ]] || sl_fail "http://$SRV/ from 198.18.0.2 (vnet a): '$SL_OUT', expected site-a"
sl_expect_rc 0 "ip netns exec sl-client curl --interface 198.18.0.130 http://$SRV/" \
	ip netns exec sl-client curl -sS --max-time 10 --interface 198.18.0.130 "http://$SRV/"
[[ $SL_OUT == site-b ]] || sl_fail "http://$SRV/ from 198.18.0.130 (vnet b): '$SL_OUT', expected site-b"

# closed port, unreachable, prohibited, black hole: as the site's network answers
sl_expect_rc 7 "curl -v http://$SRV:81/ (closed)" ip netns exec sl-client curl -v -m 5 "http://$SRV:81/"
[[ $SL_OUT == *"Connection refused"* ]] || sl_fail "http://$SRV:81/: not 'Connection refused'"
for t in 198.19.201.5 198.19.202.5; do
	sl_expect_rc 7 "curl -v http://$t/" ip netns exec sl-client curl -v -m 5 "http://$t/"
	[[ $SL_OUT == *"No route to host"* ]] || sl_fail "http://$t/: not 'No route to host'"
done
got=$(sl_tcp_probe sl-client 198.19.201.5 80 5) || sl_fail "sl_tcp_probe failed to run"
[[ $got == "host-unreach from 198.18.0.1" ]] || sl_fail "198.19.201.5:80: '$got', expected ICMP host unreachable from 198.18.0.1"
got=$(sl_tcp_probe sl-client 198.19.202.5 80 5) || sl_fail "sl_tcp_probe failed to run"
[[ $got == "admin-prohibited from 198.18.0.1" ]] || sl_fail "198.19.202.5:80: '$got', expected ICMP 3/13 from 198.18.0.1"
sl_ok "unreachable: ICMP 3/1, prohibited: ICMP 3/13, both from the vnet's gateway 198.18.0.1"
# the black hole: held until the agent's connect times out; show held meanwhile
t0=$(date +%s%N)
ip netns exec sl-client curl -v -m 5 http://198.19.203.5/ >"$work/blackhole.out" 2>&1 &
bh=$!
held() { "$SL_CTL" --json show held 2>/dev/null | jq -e '.held[] | select(.server == "198.19.203.5")' >/dev/null; }
sl_wait_for 2 "show held listing the SYN to 198.19.203.5" held || sl_fail "show held did not list the black-holed SYN"
sl_expect_rc 0 "sluicectl show held" "$SL_CTL" show held
rc=0
wait "$bh" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
sed 's/^/    | /' "$work/blackhole.out" >&2
if ((rc != 7)) || ! grep -q "No route to host" "$work/blackhole.out"; then
	sl_fail "http://198.19.203.5/: curl exit $rc, expected 7 (No route to host)"
fi
((ms >= 2000)) || sl_fail "http://198.19.203.5/ failed after $ms ms: the agent's connect timeout is 2.5 s"
sl_ok "black hole: No route to host after $ms ms"
scan=$(SL_WORK=$work sl_site_scan sl-client) || sl_fail "nmap from sl-client failed"
sl_log "nmap -sS -Pn -n --reason from sl-client (target state reason):"
while read -r line; do printf '    | %s\n' "$line"; done <<<"$scan" >&2
# what a scan inside the site sees; the black hole's reason depends on
# whether nmap still waits when the agent's verdict (host unreachable) comes
while read -r t st reason; do
	want=$(grep "^$t " <<<"$SL_SITE_SCAN_EXPECT") || sl_fail "nmap: unexpected target $t"
	if [[ $t == 198.19.203.5:80 ]]; then
		[[ $st == filtered && ($reason == no-response || $reason == host-unreach) ]] ||
			sl_fail "nmap: $t is '$st $reason', expected 'filtered no-response' (or host-unreach)"
	else
		[[ "$t $st $reason" == "$want" ]] || sl_fail "nmap: '$t $st $reason', expected '$want'"
	fi
done <<<"$scan"
sl_ok "nmap through the agent: open, closed, host-unreach, admin-prohibited, filtered"

sl_expect_rc 0 "ip netns exec sl-client ping -c3 $SRV" ip netns exec sl-client ping -c3 "$SRV"
grep -q ' 3 received' <<<"$SL_OUT" || sl_fail "ping $SRV through the agent: not 3/3"
sl_expect_rc 1 "ip netns exec sl-client ping -c1 198.19.202.5" ip netns exec sl-client ping -c1 -W 3 198.19.202.5
[[ $SL_OUT == *"From 198.18.0.1 "*"Packet filtered"* ]] || sl_fail "ping 198.19.202.5: no 'Packet filtered' from 198.18.0.1"
sum=$(ip netns exec sl-client curl -sS --max-time 60 "http://$SRV:9000/bytes/10M" | sha256sum | cut -d' ' -f1)
want=$(ip netns exec sl-client curl -sS --max-time 10 "http://$SRV:9000/sha256/10M")
[[ -n $sum && $sum == "$want" ]] || sl_fail "10 MB from $SRV:9000 through the agent: sha256 $sum, the server says '$want'"
sl_ok "10 MB from $SRV:9000 through site-a's agent, sha256 intact"

# agent kick: the control session ends, the agent dials again by itself
sessions=$(agent_json site-a | jq -r .sessions)
sl_expect_rc 0 "sluicectl agent kick site-a" "$SL_CTL" agent kick site-a
sl_wait_for 20 "site-a reconnected" agent_up site-a $((sessions + 1)) ||
	sl_fail "site-a did not reconnect after agent kick: $(agent_json site-a)"
sl_ok "site-a reconnected after agent kick: $(agent_json site-a | jq -c '{connected, sessions, losses, pool_idle}')"
sl_expect_rc 0 "curl http://$SRV/ after the kick" ip netns exec sl-client curl -sS --max-time 10 "http://$SRV/"
[[ $SL_OUT == site-a ]] || sl_fail "http://$SRV/ after the kick: '$SL_OUT', expected site-a"

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

left=()
for ns in "${DEMO_NS[@]}"; do
	[[ ! -e /run/netns/$ns ]] || left+=("$ns")
done
((${#left[@]} == 0)) || sl_fail "namespaces left after Ctrl-C: ${left[*]}"
sl_ok "none of the namespaces ${DEMO_NS[*]} is left"
for tap in sl-tap0 sl-tap1 sl-tap2; do
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
