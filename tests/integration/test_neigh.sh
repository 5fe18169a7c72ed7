#!/usr/bin/env bash
# The neighbour table against the Linux ARP stack (short timers from the
# config): a gateway that does not exist goes INCOMPLETE -> FAILED, its
# packets are dropped and counted (neigh_failed) and their senders get ICMP
# host unreachable from the gateway; once the address exists the
# next packet resolves it and traffic flows through the gateway route;
# REACHABLE entries are re-probed (unicast) and stay; when the neighbour goes
# away its entry is deleted after the probes.
# timeout: 120
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init neigh
SL_CONF_DATAPLANE='neighbors = { reachable_ms = 1500; retrans_ms = 300; probes = 2; };'
sl_appliance_start
GW=198.19.0.99
REMOTE=10.9.0.1

state_of() { # state_of ADDR: the state shown by `show neighbors`, or "none"
	sl_ctl_json show neighbors | jq -r --arg a "$1" '[.neighbors[] | select(.ip == $a) | .state][0] // "none"'
}
export -f state_of sl_ctl_json
export SL_CTL SL_SOCK

sl_expect_rc 0 "route add 10.9.0.0/16 via $GW" sl_ctl route add 10.9.0.0/16 via "$GW"
ip netns exec "$SL_NS_C" ping -c1 -W1 "$REMOTE" >/dev/null 2>&1 &
sleep 0.1
st=$(state_of "$GW")
[[ $st == incomplete ]] || sl_fail "$GW should be incomplete while ARP runs, is '$st'"
sl_ok "$GW is incomplete while its ARP requests go unanswered"
sl_wait_for 5 "$GW to fail" bash -c "[[ \$(state_of $GW) == failed ]]" ||
	sl_fail "$GW never became failed (is '$(state_of "$GW")')"
sl_ok "$GW failed after its requests"
sl_wait_for 5 "$GW to leave the table" bash -c "[[ \$(state_of $GW) == none ]]" ||
	sl_fail "failed $GW never left the table"
# RFC 1812 4.3.3.1: when the next hop never answers, the sender hears
# "host unreachable" from the gateway instead of waiting for a timeout
sl_expect_rc 1 "ping through the absent gateway fails" ip netns exec "$SL_NS_C" ping -c1 -W3 "$REMOTE"
grep -q "From $SL_C_GW .*Destination Host Unreachable" <<<"$SL_OUT" ||
	sl_fail "ping did not report 'From $SL_C_GW ... Destination Host Unreachable'"
sl_ok "ICMP host unreachable from $SL_C_GW"
n=$(sl_ctl_json show errors | sl_json_counter neigh_failed)
((n >= 1)) || sl_fail "neigh_failed did not move ($n)"
sl_ok "neigh_failed = $n"

# Now the gateway exists (a second address in the server namespace) and
# answers for 10.9.0.1 (on its loopback).
ip -n "$SL_NS_S" addr add "$GW/24" dev "$SL_TAP_S"
ip -n "$SL_NS_S" addr add "$REMOTE/32" dev lo
sl_run "ping through the gateway route" ip netns exec "$SL_NS_C" ping -c3 -i0.3 -W2 "$REMOTE"
st=$(state_of "$GW")
[[ $st == reachable || $st == probe ]] || sl_fail "$GW should be reachable, is '$st'"
sl_ok "$GW is $st"

# Re-probing: after reachable_ms the entry is probed by unicast ARP and,
# answered, stays usable; traffic never stops meanwhile.
arp_out() { sl_ctl_json show stats | jq -e '.total.arp_out'; }
a0=$(arp_out)
sleep 3
st=$(state_of "$GW")
[[ $st == reachable || $st == probe ]] || sl_fail "$GW should have been re-confirmed, is '$st'"
sl_run "ping after re-probing" ip netns exec "$SL_NS_C" ping -c2 -i0.3 -W2 "$REMOTE"
a1=$(arp_out)
((a1 - a0 >= 1)) || sl_fail "no ARP probe was sent in 3 s with reachable_ms 1500 (arp_out $a0 -> $a1)"
sl_ok "$GW still $st after $((a1 - a0)) re-probes"

# The neighbour goes away: probes go unanswered and the entry is deleted.
ip -n "$SL_NS_S" addr del "$GW/24" dev "$SL_TAP_S"
ip -n "$SL_NS_S" neigh flush all 2>/dev/null || true
sl_wait_for 10 "$GW to be deleted" bash -c "[[ \$(state_of $GW) == none ]]" ||
	sl_fail "$GW still '$(state_of "$GW")' after it went away"
sl_ok "$GW left the table after its probes went unanswered"
sl_assert_alive
sl_test_exit
