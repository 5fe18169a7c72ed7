#!/usr/bin/env bash
# Ping through the gateway: client <-> server 3/3 with TTL decremented once,
# the appliance answers on its own addresses, `show ports --json` counters
# move on both ports, every `show` has valid --json, `clear counters` works.
# timeout: 120
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init ping
sl_appliance_start

# ping3 NS DST TTL: 3 of 3 replies, every reply with ttl=TTL
ping3() {
	local ns=$1 dst=$2 ttl=$3 out rc=0
	sl_log "+ ip netns exec $ns ping -c3 -i0.2 -W2 $dst"
	out=$(ip netns exec "$ns" ping -c3 -i0.2 -W2 "$dst" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/    | /' >&2
	((rc == 0)) || sl_fail "ping $dst from $ns failed (exit $rc)"
	grep -q ' 3 received' <<<"$out" || sl_fail "ping $dst from $ns: not 3/3 replies"
	if [[ -n $ttl ]]; then
		[[ $(grep -c "bytes from $dst: .*ttl=$ttl " <<<"$out") == 3 ]] ||
			sl_fail "ping $dst from $ns: expected ttl=$ttl in all 3 replies"
	fi
	sl_ok "ping $dst from $ns: 3/3${ttl:+, ttl=$ttl}"
}

declare -A before
for p in "$SL_PORT_C" "$SL_PORT_S"; do
	for f in ipackets opackets ibytes obytes; do
		before[$p.$f]=$(sl_port_stat "$p" "$f")
	done
done
sl_log "counters before: $(declare -p before)"

# The appliance's own addresses (TTL of its replies: whatever it uses, >= 1).
ping3 "$SL_NS_C" "$SL_C_GW" ""
ping3 "$SL_NS_S" "$SL_S_GW" ""
# Through the gateway, both ways: Linux sends with TTL 64, one hop -> 63.
ping3 "$SL_NS_C" "$SL_S_ADDR" 63
ping3 "$SL_NS_S" "$SL_C_ADDR" 63
# The far-side appliance address is the appliance's too: no TTL decrement.
ping3 "$SL_NS_C" "$SL_S_GW" ""
# Bigger packets (multi-fragment-free, 1400 bytes) go through as well.
sl_run "1400-byte ping through the gateway" ip netns exec "$SL_NS_C" ping -c3 -i0.2 -W2 -s 1372 -M "do" "$SL_S_ADDR"

sleep 0.5 # the main lcore refreshes port stats every stats period
for p in "$SL_PORT_C" "$SL_PORT_S"; do
	for f in ipackets opackets ibytes obytes; do
		now=$(sl_port_stat "$p" "$f")
		((now > ${before[$p.$f]})) || sl_fail "port $p $f did not move (${before[$p.$f]} -> $now)"
		sl_ok "port $p $f ${before[$p.$f]} -> $now"
	done
done

# Every show command, human and --json (one JSON object each).
for what in ports stats errors routes neighbors; do
	sl_expect_rc 0 "show $what" sl_ctl show "$what"
	[[ -n $SL_OUT ]] || sl_fail "show $what printed nothing"
	sl_expect_rc 0 "--json show $what" sl_ctl_json show "$what"
	jq -e 'type == "object"' <<<"$SL_OUT" >/dev/null || sl_fail "--json show $what is not one JSON object"
done
js=$(sl_ctl_json show neighbors)
for a in "$SL_C_ADDR" "$SL_S_ADDR"; do
	jq -e --arg a "$a" '[.. | strings] | index($a) != null' <<<"$js" >/dev/null ||
		sl_fail "show neighbors does not list $a after pinging it"
done
sl_ok "show neighbors lists $SL_C_ADDR and $SL_S_ADDR"
for r in "198.18.0.0/24" "198.19.0.0/24"; do
	sl_route_listed "$r" || sl_fail "show routes does not list the connected route $r"
done
sl_ok "show routes lists both connected routes"

# clear counters: the port counters restart from (about) zero.
high=$(sl_port_stat "$SL_PORT_C" ipackets)
sl_expect_rc 0 "clear counters" sl_ctl clear counters
sleep 0.5
low=$(sl_port_stat "$SL_PORT_C" ipackets)
((low < high)) || sl_fail "clear counters: port $SL_PORT_C ipackets $high -> $low"
sl_ok "clear counters: port $SL_PORT_C ipackets $high -> $low"

sl_assert_alive
sl_log "ping test passed"
