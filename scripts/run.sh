#!/usr/bin/env bash
# `make run`: bring up the demo topology and stay in the foreground.
#
#   netns sl-client                     sluice-dp                      netns sl-server
#   sl-tap0 198.18.0.2/24 ---- port 0 "client"   port 1 "server" ---- sl-tap1 198.19.0.10/24
#   default via 198.18.0.1     198.18.0.1/24     198.19.0.1/24        default via 198.19.0.1
#                                                                     .10 HTTP :8080 (app "demo", TLS :443)
#                                                                     .10 iperf3 :5201, bulkserver :9000
#                                                                     .11 HTTPS :443 bank.sluice.test,
#                                                                         HTTP :8080 (app "bank", S5)
#                                                                     .12 HTTPS :443 (app "origin", reverse)
#
# S4 (remote agents; scripts/lib.sh sl_agent_sites builds the sites):
#
#   netns sl-client: second address 198.18.0.130 (vnet b; 198.18.0.2 is in vnet a)
#   port 2 "wan" 198.18.100.1/24 --- sl-tap2, a port of bridge br0 in netns sl-wan
#     sl-wan  br0 198.18.100.2: tinyproxy :8888 (HTTP CONNECT, to :443 only)
#     sl-sa   site A's agent host, 198.18.100.11 on the bridge: sluice-agent (site-a.pem)
#     sl-la   site A's LAN 198.19.200.0/24: server/router 198.19.200.10, HTTP :80
#             ("site-a"), bulk :9000, DNS :53 (dnsmasq: svc.sluice.test is
#             198.19.201.1, .2 in site B), UDP echo :7, :81 closed, ping; routes: 198.19.201.0/24
#             unreachable, 198.19.202.0/24 prohibit, 198.19.203.0/24 blackhole
#     sl-sb   site B's agent host, 198.18.100.12: reaches 198.18.100.1 only
#             through the proxy (nftables); sluice-agent (site-b.pem, proxy)
#     sl-lb   site B's LAN: the same addresses as sl-la, HTTP and DNS say "site-b"
#   vnet a (clients 198.18.0.0/25) routes 198.19.200.0/22 to agent site-a,
#   vnet b (198.18.0.128/25) the same prefix to site-b (config/sluice.conf).
#
# The certificates come from scripts/certs.sh (build/certs/, made when
# missing); the .11 and .12 servers from sl_tls_servers_start (scripts/lib.sh).
#
# sluice-dp runs with its embedded default configuration (config/sluice.conf),
# sluice-cp serves /run/sluice/ctl.sock.  Ctrl-C (SIGINT) or SIGTERM stops
# everything this script started, by PID, and deletes the namespaces.  If
# sluice-dp dies, the script cleans up and exits non-zero.
#
# Environment: SLUICE_BUILD (default build/), SLUICE_RUN_DIR (logs; default
# /run/sluice-demo), SLUICE_AGENT_BIN (default $SLUICE_BUILD/agent/sluice-agent),
# SLUICE_AGENT_ARGS (more sluice-agent options, e.g. -v), SLUICE_LCORES (the
# default config with another eal.lcores, e.g. "0@0,(1-3)@1": three workers
# on CPU 1; written to $SLUICE_RUN_DIR/sluice.conf and given to both daemons).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The demo names; they must match config/sluice.conf (the embedded default).
SL_PREFIX=sluice
SL_SOCK=/run/sluice/ctl.sock
SL_NS_C=sl-client
SL_NS_S=sl-server
SL_TAP_C=sl-tap0
SL_TAP_S=sl-tap1
SL_TAP_W=sl-tap2   # the wan port's tap: a port of the bridge in sl-wan
SL_SITES_PREFIX=sl- # sl_agent_sites: sl-wan, sl-sa, sl-la, sl-sb, sl-lb
SL_C2_ADDR=198.18.0.130 # sl-client's second address: a client of vnet b
SL_WORK=${SLUICE_RUN_DIR:-/run/sluice-demo}
HTTP_PORT=8080
IPERF_PORT=5201
BULK_PORT=9000

say() { printf 'run: %s\n' "$*"; }
refuse() {
	printf 'run: refusing to start: %s\n' "$*" >&2
	exit 1
}

[[ $(id -u) -eq 0 ]] || refuse "must run as root (DPDK, hugepages, network namespaces)"
for b in "$SL_DP" "$SL_CP" "$SL_CTL" "$SL_AGENT"; do
	[[ -x $b ]] || refuse "$b is not built (run: make)"
done
for tap in "$SL_TAP_C" "$SL_TAP_S" "$SL_TAP_W"; do
	grep -q "iface=$tap\"" "$SL_ROOT/config/sluice.conf" ||
		refuse "config/sluice.conf no longer names tap $tap; update scripts/run.sh"
done
# the S4 sites: an HTTP CONNECT proxy, nftables in the site namespaces
for c in tinyproxy nft; do
	command -v "$c" >/dev/null || refuse "$c is not installed (run: scripts/setup.sh)"
done

# --- preflight: never touch someone else's demo --------------------------------
SL_SITE_NSES=("${SL_SITES_PREFIX}wan" "${SL_SITES_PREFIX}sa" "${SL_SITES_PREFIX}la" "${SL_SITES_PREFIX}sb" "${SL_SITES_PREFIX}lb")
for ns in "$SL_NS_C" "$SL_NS_S" "${SL_SITE_NSES[@]}"; do
	[[ ! -e /run/netns/$ns ]] ||
		refuse "network namespace $ns already exists (another 'make run'? if it is a leftover: ip netns del $ns)"
done
for tap in "$SL_TAP_C" "$SL_TAP_S" "$SL_TAP_W"; do
	! ip link show dev "$tap" >/dev/null 2>&1 ||
		refuse "interface $tap already exists in the root namespace (is a sluice-dp with the default config running?)"
done
! sl_prefix_in_use "$SL_PREFIX" ||
	refuse "a DPDK primary with file prefix '$SL_PREFIX' (a sluice-dp with the default config) is already running"

# --- state, cleanup ---------------------------------------------------------------
rm -rf "$SL_WORK"
mkdir -p "$SL_WORK"
chmod 700 "$SL_WORK"
sl_state_init "$SL_WORK/state"
SL_DP_PID=
SL_CP_PID=
declare -A AGENT_PID=() # site-a|site-b -> pid
SLEEP_PID=
FAILED=0

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[[ -n $SLEEP_PID ]] && kill "$SLEEP_PID" 2>/dev/null
	say "stopping: agents, tinyproxy, the sites' servers, sluice-cp, bulk, iperf3 and HTTP servers, sluice-dp;" \
		"deleting $SL_NS_C, $SL_NS_S and ${SL_SITE_NSES[*]}"
	# The state file lists what we started; undo it newest first.
	sl_cleanup_state "$SL_WORK/state"
	if ((rc != 0 || FAILED)); then
		say "logs kept in $SL_WORK"
		((rc != 0)) || rc=1
	else
		rm -rf "$SL_WORK"
	fi
	say "stopped"
	exit "$rc"
}
trap cleanup EXIT
trap 'say "caught SIGINT"; exit 0' INT
trap 'say "caught SIGTERM"; exit 0' TERM

fail() {
	printf 'run: error: %s\n' "$*" >&2
	FAILED=1
	exit 1
}

# --- bring up -----------------------------------------------------------------------
# the config's certificate paths are relative to the repository root
cd "$SL_ROOT"
sl_certs >/dev/null
sl_netns_create "$SL_NS_C"
sl_netns_create "$SL_NS_S"

conf_args=()
conf_what="embedded default config"
if [[ -n ${SLUICE_LCORES:-} ]]; then
	[[ $SLUICE_LCORES =~ ^[0-9@,()-]+$ ]] || fail "SLUICE_LCORES='$SLUICE_LCORES': not an EAL lcore list or --lcores map"
	"$SL_DP" --print-default | sed "s/^\(  lcores = \)\"[^\"]*\";/\1\"$SLUICE_LCORES\";/" >"$SL_WORK/sluice.conf"
	grep -q "^  lcores = \"$SLUICE_LCORES\";" "$SL_WORK/sluice.conf" ||
		fail "could not set lcores in $SL_WORK/sluice.conf"
	conf_args=(-c "$SL_WORK/sluice.conf")
	conf_what="the default config with lcores = \"$SLUICE_LCORES\" ($SL_WORK/sluice.conf)"
fi
say "starting sluice-dp ($conf_what; log $SL_WORK/dp.log)"
sl_dp_start "$SL_WORK/dp.log" --setsid "${conf_args[@]}"
sl_dp_wait_ready "$SL_WORK/dp.log" 30 || fail "sluice-dp did not become ready"

sl_ns_attach "$SL_NS_C" "$SL_TAP_C" "$SL_C_ADDR/24" "$SL_C_GW" "$SL_C_MAC"
sl_ns_attach "$SL_NS_S" "$SL_TAP_S" "$SL_S_ADDR/24" "$SL_S_GW" "$SL_S_MAC"
sl_server_addrs
say "namespaces: $SL_NS_C ($SL_C_ADDR on $SL_TAP_C), $SL_NS_S ($SL_S_ADDR on $SL_TAP_S)"

www=$SL_WORK/www
mkdir -p "$www"
cat >"$www/index.html" <<'EOF'
<!doctype html>
<title>Sluice demo</title>
<p>Hello from sl-server (198.19.0.10), routed to you by sluice-dp.</p>
EOF
sl_spawn "$SL_WORK/http.log" http-server --setsid --ns "$SL_NS_S" -- \
	"$SL_PY" "$SL_ROOT/scripts/httpserver.py" --bind "$SL_S_ADDR" --port "$HTTP_PORT" --directory "$www"
HTTP_PID=$SL_LAST_PID
listening() { ip netns exec "$SL_NS_S" ss -Hltn "sport = :$HTTP_PORT" | grep -q .; }
sl_wait_for 10 "the HTTP server on $SL_S_ADDR:$HTTP_PORT" listening || {
	tail -n 20 "$SL_WORK/http.log" >&2
	fail "HTTP server did not start"
}
sl_pid_alive "$HTTP_PID" || fail "HTTP server exited"
sl_iperf_server_start --setsid "$IPERF_PORT"
sl_bulk_server_start --setsid "$BULK_PORT"
# the TLS demo (config/sluice.conf `apps`): bank.sluice.test's own server and
# its plain backend (which marks /needs-e2e), and the reverse-mode backend
sl_tls_servers_start --setsid

say "starting sluice-cp (log $SL_WORK/cp.log)"
sl_cp_start "$SL_WORK/cp.log" --setsid "${conf_args[@]}"
sl_cp_wait "$SL_WORK/cp.log" 40 || fail "sluice-cp did not start"

# --- S4: the agent sites behind the wan port, and their agents ------------------------
say "building the S4 sites: ${SL_SITE_NSES[*]} (bridge and proxy, site A, site B)"
sl_agent_sites --setsid "$SL_SITES_PREFIX" "$SL_TAP_W"
ip -n "$SL_NS_C" addr add "$SL_C2_ADDR/24" dev "$SL_TAP_C" || fail "cannot add $SL_C2_ADDR to $SL_TAP_C in $SL_NS_C"
# shellcheck disable=SC2206 # options, split on purpose
agent_args=(${SLUICE_AGENT_ARGS:-})
# site B reaches the appliance only through the proxy in sl-wan
sl_agent_conf "$SL_WORK/site-a.conf" site-a
sl_agent_conf "$SL_WORK/site-b.conf" site-b proxy
for site in site-a site-b; do
	sl_agent_start --setsid "$site" "$SL_WORK/$site.conf" "$SL_WORK/agent-$site.log" "${agent_args[@]}"
	AGENT_PID[$site]=$SL_AGENT_PID
done
# both control sessions up, each with at least one idle STREAM session
agents_ready() {
	local js
	js=$(timeout 5 "$SL_CTL" --socket "$SL_SOCK" --json show agents 2>/dev/null) || return 1
	jq -e '[.agents[] | select(.connected == true and .pool_idle >= 1) | .name] as $up
		| ($up | index("site-a")) != null and ($up | index("site-b")) != null' <<<"$js" >/dev/null
}
# (a loop of our own, not sl_wait_for: a Ctrl-C during the wait must not run
# the cleanup with sl_wait_for's output redirection to /dev/null in force)
agents_wait() { # agents_wait TIMEOUT_S
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		agents_ready && return 0
		sleep 0.1
	done
	return 1
}
say "waiting for the agents site-a and site-b to connect (logs $SL_WORK/agent-site-*.log)"
if ! agents_wait 30; then
	for site in site-a site-b; do
		sl_pid_alive "${AGENT_PID[$site]}" || say "sluice-agent $site (pid ${AGENT_PID[$site]}) exited"
		printf -- '----- %s (last 20 lines) -----\n' "$SL_WORK/agent-$site.log" >&2
		tail -n 20 "$SL_WORK/agent-$site.log" >&2
	done
	timeout 5 "$SL_CTL" --socket "$SL_SOCK" show agents >&2 || true
	fail "the agents did not connect"
fi
say "agents site-a and site-b are connected"

ctl=$SL_CTL
[[ $ctl == "$SL_ROOT"/* ]] && ctl=${ctl#"$SL_ROOT"/}
srv=$SL_SITE_SRV
cat <<EOF

Sluice demo is up: sluice-dp pid $SL_DP_PID, sluice-cp pid $SL_CP_PID, HTTP server pid $HTTP_PID,
iperf3 server pid $SL_IPERF_PID (:$IPERF_PORT), bulk server pid $SL_BULK_SERVER_PID (:$BULK_PORT).
S4: agents site-a pid ${AGENT_PID[site-a]} (netns $SL_NS_SA), site-b pid ${AGENT_PID[site-b]} (netns $SL_NS_SB,
through tinyproxy pid $SL_PROXY_PID in $SL_NS_WAN); the sites' LANs are $SL_NS_LA and $SL_NS_LB.
Try, in another terminal:
  ip netns exec $SL_NS_C ping -c3 $SL_S_ADDR
  ip netns exec $SL_NS_C curl --cacert build/certs/ca.pem https://$SL_S_ADDR/      (TLS ends here)
  ip netns exec $SL_NS_C curl -m 3 http://$SL_S_ADDR:$HTTP_PORT/   (denied: only through TLS)
  ip netns exec $SL_NS_C curl --resolve bank.sluice.test:443:$SL_S2_ADDR --cacert build/certs/e2e-ca.pem https://bank.sluice.test/
  ip netns exec $SL_NS_C curl http://$SL_S3_ADDR:8080/      (leaves as TLS to $SL_S3_ADDR:443)
  ip netns exec $SL_NS_C iperf3 -c $SL_S_ADDR -t 5
  ip netns exec $SL_NS_C curl -o /dev/null http://$SL_S_ADDR:$BULK_PORT/bytes/100M
  ip netns exec $SL_NS_C $SL_PY $SL_ROOT/scripts/bulkclient.py --host $SL_S_ADDR download --size 100M
  $ctl show ports
  $ctl --json show ports
  $ctl show routes
  $ctl show errors
  $ctl show apps
  $ctl show tunnels
S4, the same server address at two sites (vnet a: $SL_C_ADDR, vnet b: $SL_C2_ADDR):
  ip netns exec $SL_NS_C curl http://$srv/                               (site-a)
  ip netns exec $SL_NS_C curl --interface $SL_C2_ADDR http://$srv/     (site-b)
  ip netns exec $SL_NS_C curl -v -m 5 http://$srv:81/   (closed: Connection refused)
  ip netns exec $SL_NS_C curl -v -m 5 http://198.19.201.5/      (unreachable: No route to host, ICMP 3/1 from $SL_C_GW)
  ip netns exec $SL_NS_C curl -v -m 5 http://198.19.202.5/      (prohibited: No route to host, ICMP 3/13 from $SL_C_GW)
  ip netns exec $SL_NS_C curl -v -m 5 http://198.19.203.5/      (black hole: No route to host after 2.5 s)
  ip netns exec $SL_NS_C nmap -sS -Pn -n --reason -p 80,81 $srv 198.19.201.5 198.19.202.5 198.19.203.5
  ip netns exec $SL_NS_C ping -c3 $srv                   (the agent pings)
  ip netns exec $SL_NS_C ping -c1 198.19.202.5                    (From $SL_C_GW: Packet filtered)
  ip netns exec $SL_NS_C curl -o /dev/null http://$srv:9000/bytes/100M   (through the agent)
  $ctl show agents
  $ctl show vnets
  $ctl show held          (while SYNs wait, e.g. during the black-hole curl)
  $ctl agent kick site-a  (it reconnects by itself)
Logs: $SL_WORK.  Press Ctrl-C to stop.
EOF
say "demo is up"

# --- foreground: watch the daemons --------------------------------------------------
cp_reported=0
declare -A agent_reported=()
while :; do
	if ! sl_pid_alive "$SL_DP_PID"; then
		rc=0
		wait "$SL_DP_PID" 2>/dev/null || rc=$?
		printf 'run: error: sluice-dp exited unexpectedly (status %s); last lines of its log:\n' "$rc" >&2
		tail -n 30 "$SL_WORK/dp.log" >&2
		FAILED=1
		exit 1
	fi
	if ((!cp_reported)) && ! sl_pid_alive "$SL_CP_PID"; then
		rc=0
		wait "$SL_CP_PID" 2>/dev/null || rc=$?
		say "warning: sluice-cp exited (status $rc); sluice-dp keeps forwarding." \
			"Restart it with: $SL_CP   (log: $SL_WORK/cp.log)"
		cp_reported=1
	fi
	for site in site-a site-b; do
		if [[ -z ${agent_reported[$site]:-} ]] && ! sl_pid_alive "${AGENT_PID[$site]}"; then
			rc=0
			wait "${AGENT_PID[$site]}" 2>/dev/null || rc=$?
			say "warning: sluice-agent $site exited (status $rc); its site is unreachable now." \
				"Log: $SL_WORK/agent-$site.log"
			agent_reported[$site]=1
		fi
	done
	sleep 1 &
	SLEEP_PID=$!
	wait "$SLEEP_PID" 2>/dev/null || true
	SLEEP_PID=
done
