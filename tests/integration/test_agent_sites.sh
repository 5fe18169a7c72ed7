#!/usr/bin/env bash
# The S4 agent-site topology alone (scripts/lib.sh sl_agent_sites), without
# the appliance: a veth stands in for the wan tap, its peer holding the
# appliance's wan address 198.18.100.1 in a namespace of its own, where an
# `openssl s_server` on :443 plays the agents' listener (appliance.pem from
# the test CA; client certificates from agent-ca required).  From each
# site's agent host, what the S4 transparency test later compares against:
# GET http://198.19.200.10/ says site-a / site-b, the bulk server answers on
# :9000, :81 is refused (RST), 198.19.201.5:80 gets ICMP host unreachable,
# 198.19.202.5:80 ICMP administratively prohibited (both from 198.19.200.10),
# 198.19.203.5:80 times out, ping works; nmap -sS verdicts for those five
# targets are logged and must be SL_SITE_SCAN_EXPECT.  The wan: site A
# reaches the appliance directly (by address and by name, mutual TLS), site
# B not directly (dropped) but through tinyproxy's CONNECT, where rogue.pem
# fails the TLS handshake, stranger.pem passes it (refusing it is the
# appliance's policy), and CONNECT to a port other than 443 is refused.
# ~15 s.
# timeout: 120
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
SL_ON_FAIL=sl_agent_diag
[[ $(id -u) -eq 0 ]] || sl_die "integration tests must run as root"
if ! sl_need_pkgs tinyproxy:tinyproxy-bin nmap nft:nftables ping:iputils-ping curl; then
	echo "SKIP: tinyproxy, nmap, nftables, ping or curl missing and apt-get install failed"
	exit 77
fi
sl_instance_init agent_sites
sl_certs
C=$SL_CERTS
AP=${SL_PREFIX}ap   # the stand-in appliance
WAN_DEV=${SL_PREFIX}tw # the stand-in wan tap (<= 15 characters)

# --- the stand-in appliance and the sites ------------------------------------------
# The veth's peer is created inside AP: deleting AP (cleanup) destroys the
# pair wherever the other end is.
sl_netns_create "$AP"
ip link add "$WAN_DEV" type veth peer name ap0 netns "$AP" || sl_fail "veth $WAN_DEV - $AP/ap0"
ip -n "$AP" addr add "$SL_WAN_ADDR/24" dev ap0
ip -n "$AP" link set dev ap0 up
sl_site_nooffload "$AP" ap0
sl_agent_sites "$SL_PREFIX" "$WAN_DEV"
ip link show dev "$WAN_DEV" >/dev/null 2>&1 && sl_fail "$WAN_DEV is still in the root namespace"
ip -n "$SL_NS_WAN" -d link show dev "$WAN_DEV" | grep -q 'master br0' || sl_fail "$WAN_DEV is not a port of br0"
sl_ok "sites up; $WAN_DEV is a port of br0 in $SL_NS_WAN"

sl_spawn "$SL_WORK/appliance.log" appliance-s_server --ns "$AP" -- \
	openssl s_server -accept "$SL_WAN_ADDR:443" -cert "$C/appliance.pem" -key "$C/appliance.key" \
	-CAfile "$C/agent-ca.pem" -Verify 1 -verify_return_error -www
sl_wait_for 10 "s_server on $SL_WAN_ADDR:443" sl_listening_on "$AP" "$SL_WAN_ADDR" 443 ||
	sl_fail "openssl s_server did not start: $(tail -n 5 "$SL_WORK/appliance.log")"

probe() { # probe NS ADDR PORT WANT [TIMEOUT]
	local got
	got=$(sl_tcp_probe "$1" "$2" "$3" "${5:-3}") || sl_fail "probe $2:$3 from $1 failed to run"
	[[ $got == "$4" ]] || sl_fail "$1 -> $2:$3: '$got', expected '$4'"
	sl_ok "$1 -> $2:$3: $got"
}

# --- inside each site -------------------------------------------------------------
check_site() { # check_site NS TEXT
	local ns=$1 text=$2 got loss scan line
	got=$(ip netns exec "$ns" curl -sS -m 5 "http://$SL_SITE_SRV/") || sl_fail "$ns: GET http://$SL_SITE_SRV/ failed"
	[[ $got == "$text" ]] || sl_fail "$ns: GET / answered '$got', expected '$text'"
	sl_ok "$ns: GET http://$SL_SITE_SRV/ says $got"
	got=$(ip netns exec "$ns" curl -sS -m 10 "http://$SL_SITE_SRV:9000/bytes/1M" | sha256sum | cut -d' ' -f1)
	[[ $got == "$(ip netns exec "$ns" curl -sS -m 10 "http://$SL_SITE_SRV:9000/sha256/1M")" ]] ||
		sl_fail "$ns: the bulk server's 1 MiB does not hash to its /sha256/1M"
	sl_ok "$ns: bulk server on $SL_SITE_SRV:9000, 1 MiB intact"
	probe "$ns" "$SL_SITE_SRV" 80 open
	probe "$ns" "$SL_SITE_SRV" 81 refused
	probe "$ns" 198.19.201.5 80 "host-unreach from $SL_SITE_SRV"
	probe "$ns" 198.19.202.5 80 "admin-prohibited from $SL_SITE_SRV"
	probe "$ns" 198.19.203.5 80 timeout 2
	loss=$(sl_ping_loss "$ns" -c 3 -i 0.2 -W 2 "$SL_SITE_SRV")
	[[ $loss == 0 ]] || sl_fail "$ns: ping $SL_SITE_SRV lost $loss%"
	sl_ok "$ns: ping $SL_SITE_SRV"
	scan=$(sl_site_scan "$ns") || sl_fail "$ns: nmap failed: $(tail -n 5 "$SL_WORK/nmap.log")"
	sl_log "nmap -sS from $ns (target state reason):"
	while read -r line; do printf '    | %s\n' "$line"; done <<<"$scan" >&2
	[[ $scan == "$SL_SITE_SCAN_EXPECT" ]] ||
		sl_fail "$ns: the scan differs from SL_SITE_SCAN_EXPECT:"$'\n'"$SL_SITE_SCAN_EXPECT"
	sl_ok "$ns: the scan matches SL_SITE_SCAN_EXPECT"
}
check_site "$SL_NS_SA" site-a
check_site "$SL_NS_SB" site-b

# --- the wan: site A directly, site B through the proxy only ------------------------
# https NS CERT [curl options] URL: GET the stand-in appliance's page with
# mutual TLS (verifying it with ca.pem); success when the page came
https() {
	local ns=$1 cert=$2 out
	shift 2
	out=$(ip netns exec "$ns" curl -sS -m 10 --cacert "$C/ca.pem" --cert "$C/$cert.pem" --key "$C/$cert.key" "$@") ||
		return 1
	[[ $out == *'Ciphers supported in s_server binary'* ]]
}
probe "$SL_NS_SA" "$SL_WAN_ADDR" 443 open
https "$SL_NS_SA" site-a "https://$SL_WAN_ADDR/" ||
	sl_fail "site A: https://$SL_WAN_ADDR/ (direct, site-a.pem) failed"
https "$SL_NS_SA" site-a --resolve "appliance.sluice.test:443:$SL_WAN_ADDR" "https://appliance.sluice.test/" ||
	sl_fail "site A: https://appliance.sluice.test/ (direct) failed"
sl_ok "site A reaches the appliance directly; appliance.pem verified by address and by name"

probe "$SL_NS_SB" "$SL_WAN_ADDR" 443 timeout 2
probe "$SL_NS_SB" "$SL_WAN_PROXY" "$SL_WAN_PROXY_PORT" open
proxy=http://$SL_WAN_PROXY:$SL_WAN_PROXY_PORT
https "$SL_NS_SB" site-b -x "$proxy" "https://$SL_WAN_ADDR/" ||
	sl_fail "site B: https://$SL_WAN_ADDR/ through the proxy failed"
sl_ok "site B reaches the appliance through tinyproxy (CONNECT), mutual TLS with site-b.pem"
grep -q "CONNECT $SL_WAN_ADDR:443" "$SL_WORK/$SL_NS_WAN-tinyproxy.log" ||
	sl_fail "tinyproxy did not log the CONNECT"
if https "$SL_NS_SB" rogue -x "$proxy" "https://$SL_WAN_ADDR/" >/dev/null 2>&1; then
	sl_fail "rogue.pem (rogue-ca) was accepted by a listener trusting agent-ca only"
fi
sl_wait_for 5 "s_server's verdict on rogue.pem" grep -q 'certificate verify failed' "$SL_WORK/appliance.log" ||
	sl_fail "the rogue handshake failed, but not on the client certificate: $(tail -n 5 "$SL_WORK/appliance.log")"
sl_ok "rogue.pem (CN site-a, rogue-ca) fails the handshake: certificate verify failed"
https "$SL_NS_SB" stranger -x "$proxy" "https://$SL_WAN_ADDR/" ||
	sl_fail "stranger.pem (agent-ca) did not pass the TLS layer"
sl_ok "stranger.pem passes the TLS layer (agent-ca); refusing it is the appliance's policy"
rc=0
out=$(ip netns exec "$SL_NS_SB" curl -sS -m 5 -p -x "$proxy" "http://$SL_WAN_ADDR:80/" 2>&1) || rc=$?
if ((rc == 0)) || [[ $out != *403* ]]; then
	sl_fail "CONNECT to port 80 through the proxy: exit $rc, $out"
fi
sl_ok "the proxy refuses CONNECT to port 80 (403)"

sl_pid_alive "$SL_PROXY_PID" || sl_fail "tinyproxy died"
sl_log "agent sites test passed"
