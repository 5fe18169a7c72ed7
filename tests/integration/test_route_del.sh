#!/usr/bin/env bash
# `route del` makes the next packet get ICMP net unreachable (type 3 code 0)
# from the appliance, seen on the wire by tshark in the client namespace;
# `route add ... dev PORT` restores it; `show routes` follows each step; bad
# route commands fail with exit 1 and a message, and nothing breaks.
# timeout: 120
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init route_del
sl_appliance_start
net=198.19.0.0/24

routes() { # print the route list (for the log and comparisons)
	sl_ctl_json show routes | jq -c '.routes | sort_by(tostring)'
}

sl_run "baseline ping" ip netns exec "$SL_NS_C" ping -c2 -i0.2 -W2 "$SL_S_ADDR"
sl_route_listed "$net" || sl_fail "show routes does not list $net at start: $(routes)"

sl_expect_rc 0 "route del $net" sl_ctl route del "$net"
js=$(sl_routes_json)
! sl_route_listed "$net" "$js" || sl_fail "show routes still lists $net after route del: $js"
sl_ok "show routes no longer lists $net"
sl_expect_rc 0 "show routes (human) after del" sl_ctl show routes

# Capture ICMP in the client namespace while pinging the now unroutable server.
pcap=$SL_WORK/unreach.pcap
sl_spawn "$SL_WORK/tshark.log" tshark --ns "$SL_NS_C" -- tshark -n -i "$SL_TAP_C" -f icmp -F pcap -w "$pcap"
tshark_pid=$SL_LAST_PID
sl_wait_for 15 "tshark to start capturing" grep -q "Capturing on" "$SL_WORK/tshark.log" ||
	sl_fail "tshark did not start: $(cat "$SL_WORK/tshark.log")"
sl_expect_rc 1 "ping to $SL_S_ADDR fails" ip netns exec "$SL_NS_C" ping -c3 -i0.3 -W1 "$SL_S_ADDR"
grep -q "From $SL_C_GW .*Destination Net Unreachable" <<<"$SL_OUT" ||
	sl_fail "ping did not report 'From $SL_C_GW ... Destination Net Unreachable'"
sleep 0.5
sl_stop_pid "$tshark_pid" - tshark 5
fields=$(tshark -n -r "$pcap" -Y 'icmp.type == 3' -T fields -e ip.src -e ip.dst -e icmp.type -e icmp.code 2>/dev/null)
printf '%s\n' "$fields" | sed 's/^/    | /' >&2
# Each field lists the outer header's value, then the quoted one's.
awk -v gw="$SL_C_GW" -v c="$SL_C_ADDR" -v s="$SL_S_ADDR" '
	{ split($1, src, ","); split($2, dst, ","); split($3, type, ","); split($4, code, ",") }
	src[1] == gw && dst[1] == c && type[1] == 3 && code[1] == 0 && dst[2] == s { n++ }
	END { exit !(n >= 1) }' <<<"$fields" ||
	sl_fail "no ICMP type 3 code 0 from $SL_C_GW to $SL_C_ADDR quoting a packet to $SL_S_ADDR in the capture"
sl_ok "captured ICMP net unreachable (3/0) from $SL_C_GW quoting the ping to $SL_S_ADDR"
count=$(sl_ctl_json show errors | sl_json_counter no_route)
((count > 0)) || sl_fail "drop counter no_route did not move"
sl_ok "drop counter no_route = $count"

sl_expect_rc 0 "route add $net dev $SL_PORT_S" sl_ctl route add "$net" dev "$SL_PORT_S"
sl_route_listed "$net" || sl_fail "show routes does not list $net after route add: $(routes)"
sl_ok "show routes lists $net again"
sl_run "ping after route add" ip netns exec "$SL_NS_C" ping -c3 -i0.2 -W2 "$SL_S_ADDR"

# A gateway route, then its removal.
sl_expect_rc 0 "route add 198.19.64.0/24 via $SL_S_ADDR" sl_ctl route add 198.19.64.0/24 via "$SL_S_ADDR"
sl_route_listed 198.19.64.0/24 || sl_fail "gateway route not listed: $(routes)"
sl_expect_rc 0 "route del 198.19.64.0/24" sl_ctl route del 198.19.64.0/24
! sl_route_listed 198.19.64.0/24 || sl_fail "gateway route still listed after del"

# Bad commands: exit 1 with a message; the route table does not change.
good=$(routes)
bad() { # bad RC DESC ARGS...
	local rc=$1 desc=$2
	shift 2
	sl_expect_rc "$rc" "$desc is refused" sl_ctl "$@"
	[[ -n $SL_OUT ]] || sl_fail "$desc: refused without a message"
	sl_assert_alive
}
bad 1 "a garbage prefix" route add garbage via "$SL_S_ADDR"
bad 1 "a prefix with host bits set" route add 198.19.0.5/24 dev "$SL_PORT_S"
bad 1 "a gateway outside every port's subnet" route add 198.19.96.0/24 via 198.18.99.99
bad 1 "deleting a route that does not exist" route del 198.19.77.0/24
bad 1 "a prefix length of 33" route add 198.19.96.0/33 via "$SL_S_ADDR"
bad 1 "an unknown port" route add 198.19.96.0/24 dev nosuchport
bad '1|2' "route add without a next hop" route add 198.19.96.0/24
bad '1|2' "route with a bogus keyword" route add 198.19.96.0/24 through "$SL_S_ADDR"
sl_expect_rc 1 "--json: a bad command" sl_ctl_json route del 198.19.77.0/24
jq -e 'type == "object" and has("error")' <<<"$SL_OUT" >/dev/null ||
	sl_fail "--json error is not {\"error\": ...}: $SL_OUT"
[[ $(routes) == "$good" ]] || sl_fail "bad commands changed the route table: $good -> $(routes)"
sl_ok "route table unchanged by the bad commands"

sl_run "ping still works" ip netns exec "$SL_NS_C" ping -c3 -i0.2 -W2 "$SL_S_ADDR"
sl_assert_alive
sl_log "route del test passed"
