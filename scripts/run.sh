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
# S3 (LSTP): two more hosts on the bridge in sl-wan, each letting only
# outbound connections through (nftables: input accepts established/related
# and loopback only), both dialling the appliance's LSTP middle proxy
# (config/sluice.conf `lstp`, 198.18.100.1:7443):
#     sl-lan-a  198.18.100.21: sluice-lstp role client (config/lstp/lan-a.conf),
#               SOCKS5 127.0.0.1:1080, forward 127.0.0.1:9000 -> service bulk
#     sl-lan-b  198.18.100.22: sluice-lstp role server (config/lstp/lan-b.conf),
#               HTTP 127.0.0.1:8080, bulkserver 127.0.0.1:9000
#   Their PKI (build/certs/lstp/: ca.pem signs lan-a.pem and lan-b.pem,
#   serverAuth and clientAuth) is made here when missing or unusable.
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
# SLUICE_LSTP_BIN (default $SLUICE_BUILD/lstp/sluice-lstp),
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
# S3: the LSTP ends' namespaces, on br0 in sl-wan (see the top)
SL_LSTP=${SLUICE_LSTP_BIN:-$SL_BUILD/lstp/sluice-lstp}
SL_NS_LAN_A=sl-lan-a
SL_NS_LAN_B=sl-lan-b
SL_LAN_A_ADDR=198.18.100.21
SL_LAN_B_ADDR=198.18.100.22
SL_LSTP_PKI=$SL_ROOT/build/certs/lstp # config/lstp/*.conf name it as build/certs/lstp/
LSTP_PORT=7443
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
for b in "$SL_DP" "$SL_CP" "$SL_CTL" "$SL_AGENT" "$SL_LSTP"; do
	[[ -x $b ]] || refuse "$b is not built (run: make)"
done
for tap in "$SL_TAP_C" "$SL_TAP_S" "$SL_TAP_W"; do
	grep -q "iface=$tap\"" "$SL_ROOT/config/sluice.conf" ||
		refuse "config/sluice.conf no longer names tap $tap; update scripts/run.sh"
done
lstp_sect=$(sed -n '/^lstp = {/,/^};/p' "$SL_ROOT/config/sluice.conf")
{ grep -q '^  listen = "198.18.100.1";' <<<"$lstp_sect" && grep -q "^  port = $LSTP_PORT;" <<<"$lstp_sect"; } ||
	refuse "config/sluice.conf has no lstp listener on 198.18.100.1:$LSTP_PORT; update scripts/run.sh"
for f in lan-a lan-b; do
	[[ -r $SL_ROOT/config/lstp/$f.conf ]] || refuse "config/lstp/$f.conf is missing"
done
# the S4 sites: an HTTP CONNECT proxy, nftables in the site namespaces;
# S3: the LSTP ends' PKI
for c in tinyproxy nft openssl; do
	command -v "$c" >/dev/null || refuse "$c is not installed (run: scripts/setup.sh)"
done

# --- preflight: never touch someone else's demo --------------------------------
SL_SITE_NSES=("${SL_SITES_PREFIX}wan" "${SL_SITES_PREFIX}sa" "${SL_SITES_PREFIX}la" "${SL_SITES_PREFIX}sb" "${SL_SITES_PREFIX}lb")
for ns in "$SL_NS_C" "$SL_NS_S" "${SL_SITE_NSES[@]}" "$SL_NS_LAN_A" "$SL_NS_LAN_B"; do
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
declare -A LSTP_PID=()  # lan-a|lan-b -> pid of its sluice-lstp
SLEEP_PID=
FAILED=0

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[[ -n $SLEEP_PID ]] && kill "$SLEEP_PID" 2>/dev/null
	say "stopping: the LSTP ends and their servers, agents, tinyproxy, the sites' servers, sluice-cp," \
		"bulk, iperf3 and HTTP servers, sluice-dp; deleting $SL_NS_C, $SL_NS_S, ${SL_SITE_NSES[*]}," \
		"$SL_NS_LAN_A and $SL_NS_LAN_B"
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

# --- S3: the LSTP ends, each behind an outbound-only firewall --------------------------
# lstp_pki: build/certs/lstp/ (config/lstp/*.conf name these paths): a CA of
# their own that signs one certificate per end, with serverAuth and
# clientAuth (either end may be the TLS client: the master).  A pair is
# remade only when missing or unusable, as scripts/certs.sh does.
lstp_pki() {
	mkdir -p "$SL_LSTP_PKI"
	(
		set -e
		cd "$SL_LSTP_PKI"
		umask 077
		exec 9>.lock
		flock -w 60 9
		usable() { # usable NAME ISSUER
			[[ -s $1.pem && -s $1.key && -s $2.pem ]] || return 1
			[[ $(openssl x509 -in "$1.pem" -noout -pubkey 2>/dev/null) == \
				"$(openssl pkey -in "$1.key" -pubout 2>/dev/null)" ]] || return 1
			openssl x509 -in "$1.pem" -noout -checkend 86400 >/dev/null 2>&1 || return 1
			openssl verify -x509_strict -CAfile "$2.pem" "$1.pem" >/dev/null 2>&1
		}
		newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key.new"; }
		commit() {
			chmod 0600 "$1.key.new"
			chmod 0644 "$1.pem.new"
			mv -f "$1.key.new" "$1.key"
			mv -f "$1.pem.new" "$1.pem"
			echo "made $SL_LSTP_PKI/$1.pem"
		}
		if ! usable ca ca; then
			newkey ca
			openssl req -x509 -new -key ca.key.new -out ca.pem.new -days 3650 -subj "/CN=Sluice Demo LSTP CA" \
				-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
			commit ca
		fi
		for n in lan-a lan-b; do
			usable "$n" ca && continue
			newkey "$n"
			openssl req -new -key "$n.key.new" -out "$n.csr" -subj "/CN=$n"
			printf '%s\n' "subjectAltName=DNS:$n" "basicConstraints=CA:FALSE" "keyUsage=digitalSignature" \
				"extendedKeyUsage=serverAuth,clientAuth" >"$n.ext"
			openssl x509 -req -in "$n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$n.pem.new" \
				-days 825 -extfile "$n.ext"
			rm -f "$n.csr" "$n.ext"
			commit "$n"
		done
	) >>"$SL_WORK/lstp-pki.log" 2>&1
}
# lan_make NS ADDR BRIDGE_PORT: a host on br0 in sl-wan (wan0 ADDR/24) whose
# firewall lets only outbound connections through
lan_make() {
	local ns=$1 addr=$2 bport=$3 w=$SL_NS_WAN
	sl_netns_create "$ns"
	ip -n "$ns" link add wan0 type veth peer name "$bport" netns "$w" || fail "veth $ns/wan0 - $w/$bport"
	ip -n "$w" link set dev "$bport" master br0 || fail "$bport into br0 in $w"
	ip -n "$ns" addr add "$addr/24" dev wan0 || fail "address $addr in $ns"
	ip -n "$ns" link set dev wan0 up || fail "wan0 up in $ns"
	ip -n "$w" link set dev "$bport" up || fail "$bport up in $w"
	sl_site_nooffload "$ns" wan0
	sl_site_nooffload "$w" "$bport"
	ip netns exec "$ns" nft -f - <<NFT || fail "nftables in $ns"
table inet sluice_lan {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
	}
}
NFT
}
lstp_pki || {
	tail -n 20 "$SL_WORK/lstp-pki.log" >&2
	fail "could not make the LSTP ends' PKI in $SL_LSTP_PKI"
}
for f in lan-a lan-b; do
	"$SL_LSTP" -c "config/lstp/$f.conf" --check >>"$SL_WORK/lstp-$f.log" 2>&1 || {
		cat "$SL_WORK/lstp-$f.log" >&2
		fail "sluice-lstp --check config/lstp/$f.conf failed"
	}
done
say "building the LSTP ends' namespaces: $SL_NS_LAN_A ($SL_LAN_A_ADDR), $SL_NS_LAN_B ($SL_LAN_B_ADDR), on br0 in $SL_NS_WAN"
lan_make "$SL_NS_LAN_A" "$SL_LAN_A_ADDR" vla
lan_make "$SL_NS_LAN_B" "$SL_LAN_B_ADDR" vlb
lanb_www=$SL_WORK/lan-b-www
mkdir -p "$lanb_www"
cat >"$lanb_www/index.html" <<'HTML'
<!doctype html>
<title>Sluice demo: LSTP</title>
<p>Hello from sl-lan-b (127.0.0.1:8080), through the LSTP tunnel:
sl-lan-a's sluice-lstp, the appliance's middle proxy, sl-lan-b's sluice-lstp.</p>
HTML
sl_spawn "$SL_WORK/lan-b-http.log" lan-b-http --setsid --ns "$SL_NS_LAN_B" -- \
	"$SL_PY" "$SL_ROOT/scripts/httpserver.py" --bind 127.0.0.1 --port "$HTTP_PORT" --directory "$lanb_www"
LANB_HTTP_PID=$SL_LAST_PID
sl_spawn "$SL_WORK/lan-b-bulk.log" lan-b-bulk --setsid --ns "$SL_NS_LAN_B" -- \
	"$SL_PY" "$SL_ROOT/scripts/bulkserver.py" --bind 127.0.0.1 --port "$BULK_PORT"
LANB_BULK_PID=$SL_LAST_PID
for p in "$HTTP_PORT" "$BULK_PORT"; do
	sl_wait_for 10 "a server on 127.0.0.1:$p in $SL_NS_LAN_B" sl_listening_on "$SL_NS_LAN_B" 127.0.0.1 "$p" || {
		tail -n 5 "$SL_WORK"/lan-b-*.log >&2
		fail "the servers in $SL_NS_LAN_B did not start"
	}
done
for f in lan-b lan-a; do
	ns=$SL_NS_LAN_A
	[[ $f == lan-b ]] && ns=$SL_NS_LAN_B
	sl_spawn "$SL_WORK/lstp-$f.log" "lstp-$f" --setsid --ns "$ns" -- "$SL_LSTP" -c "config/lstp/$f.conf"
	LSTP_PID[$f]=$SL_LAST_PID
done
# up: both ends say so, and the appliance lists their pair
lstp_up() {
	local js
	grep -q 'tunnel up with "lan-b"' "$SL_WORK/lstp-lan-a.log" &&
		grep -q 'tunnel up with "lan-a"' "$SL_WORK/lstp-lan-b.log" &&
		js=$(timeout 5 "$SL_CTL" --socket "$SL_SOCK" --json show lstp 2>/dev/null) &&
		jq -e '[.pairs[] | select((.topology | index("lan-a")) != null and (.topology | index("lan-b")) != null)]
			| length >= 1' <<<"$js" >/dev/null
}
say "waiting for the LSTP ends lan-a and lan-b to pair through the appliance (logs $SL_WORK/lstp-lan-*.log)"
for ((i = 0; i < 200; i++)); do
	lstp_up && break
	sleep 0.1
done
if ! lstp_up; then
	for f in lan-a lan-b; do
		sl_pid_alive "${LSTP_PID[$f]}" || say "sluice-lstp $f (pid ${LSTP_PID[$f]}) exited"
		printf -- '----- %s (last 20 lines) -----\n' "$SL_WORK/lstp-$f.log" >&2
		tail -n 20 "$SL_WORK/lstp-$f.log" >&2
	done
	timeout 5 "$SL_CTL" --socket "$SL_SOCK" show lstp >&2 || true
	fail "the LSTP ends did not pair"
fi
say "LSTP ends lan-a and lan-b are paired through the appliance's middle proxy"

ctl=$SL_CTL
[[ $ctl == "$SL_ROOT"/* ]] && ctl=${ctl#"$SL_ROOT"/}
srv=$SL_SITE_SRV
cat <<EOF

Sluice demo is up: sluice-dp pid $SL_DP_PID, sluice-cp pid $SL_CP_PID, HTTP server pid $HTTP_PID,
iperf3 server pid $SL_IPERF_PID (:$IPERF_PORT), bulk server pid $SL_BULK_SERVER_PID (:$BULK_PORT).
S4: agents site-a pid ${AGENT_PID[site-a]} (netns $SL_NS_SA), site-b pid ${AGENT_PID[site-b]} (netns $SL_NS_SB,
through tinyproxy pid $SL_PROXY_PID in $SL_NS_WAN); the sites' LANs are $SL_NS_LA and $SL_NS_LB.
S3: sluice-lstp ends lan-a pid ${LSTP_PID[lan-a]} (netns $SL_NS_LAN_A, SOCKS5 127.0.0.1:1080), lan-b pid ${LSTP_PID[lan-b]}
(netns $SL_NS_LAN_B: HTTP pid $LANB_HTTP_PID, bulk server pid $LANB_BULK_PID), paired through the appliance's :$LSTP_PORT.
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
S3, from $SL_NS_LAN_A through the LSTP tunnel to $SL_NS_LAN_B (neither accepts inbound connections):
  ip netns exec $SL_NS_LAN_A curl --socks5-hostname 127.0.0.1:1080 http://localhost:$HTTP_PORT/   ($SL_NS_LAN_B's localhost)
  ip netns exec $SL_NS_LAN_A curl -o /dev/null --socks5-hostname 127.0.0.1:1080 http://localhost:$BULK_PORT/bytes/100M
  ip netns exec $SL_NS_LAN_A $SL_PY scripts/bulkclient.py --host 127.0.0.1 --port $BULK_PORT download --size 100M   (forward -> service bulk)
  $ctl show lstp
Logs: $SL_WORK.  Press Ctrl-C to stop.
EOF
say "demo is up"

# --- foreground: watch the daemons --------------------------------------------------
cp_reported=0
declare -A agent_reported=()
declare -A lstp_reported=()
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
	for f in lan-a lan-b; do
		if [[ -z ${lstp_reported[$f]:-} ]] && ! sl_pid_alive "${LSTP_PID[$f]}"; then
			rc=0
			wait "${LSTP_PID[$f]}" 2>/dev/null || rc=$?
			say "warning: sluice-lstp $f exited (status $rc); the LSTP tunnel is down. Log: $SL_WORK/lstp-$f.log"
			lstp_reported[$f]=1
		fi
	done
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
