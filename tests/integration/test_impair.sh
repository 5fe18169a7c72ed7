#!/usr/bin/env bash
# The impairment knob: `port impair PORT drop 50%` makes ping lose packets
# (> 20% of 40), the `impair` drop counter moves, `off` restores 0% loss;
# direction and dup work; malformed percentages are refused and nothing breaks.
# timeout: 120
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init impair
sl_appliance_start

fastping() { sl_ping_loss "$SL_NS_C" -c 40 -i 0.05 -W 1 -q "$SL_S_ADDR"; }
impair_drops() { sl_ctl_json show errors | sl_json_counter impair; }

sl_run "baseline ping" ip netns exec "$SL_NS_C" ping -c3 -i0.2 -W2 "$SL_S_ADDR"
loss=$(fastping)
[[ $loss == 0 ]] || sl_fail "baseline: $loss% loss over 40 fast pings, expected 0%"
sl_ok "baseline: 0% loss"
d0=$(impair_drops)

sl_expect_rc 0 "port impair $SL_PORT_C drop 50%" sl_ctl port impair "$SL_PORT_C" drop 50%
loss=$(fastping)
awk -v l="$loss" 'BEGIN { exit !(l > 20) }' || sl_fail "drop 50%: only $loss% loss over 40 pings, expected > 20%"
sl_ok "drop 50%: $loss% loss"
d1=$(impair_drops)
((d1 > d0)) || sl_fail "impair drop counter did not move ($d0 -> $d1)"
sl_ok "impair drop counter $d0 -> $d1"

sl_expect_rc 0 "port impair $SL_PORT_C off" sl_ctl port impair "$SL_PORT_C" off
loss=$(fastping)
[[ $loss == 0 ]] || sl_fail "after off: $loss% loss, expected 0%"
sl_ok "after off: 0% loss"

# One direction only: everything the client sends is dropped on the way in.
sl_expect_rc 0 "port impair $SL_PORT_C in drop 100%" sl_ctl port impair "$SL_PORT_C" in drop 100%
loss=$(sl_ping_loss "$SL_NS_C" -c 5 -i 0.1 -W 1 -q "$SL_S_ADDR")
[[ $loss == 100 ]] || sl_fail "in drop 100%: $loss% loss, expected 100%"
sl_ok "in drop 100%: 100% loss"
sl_expect_rc 0 "port impair $SL_PORT_C off" sl_ctl port impair "$SL_PORT_C" off

# Duplicates: every packet leaving the server port is sent twice.
sl_expect_rc 0 "port impair $SL_PORT_S out dup 100%" sl_ctl port impair "$SL_PORT_S" out dup 100%
sl_expect_rc '0|1' "ping with dup 100%" ip netns exec "$SL_NS_C" ping -c3 -i0.2 -W2 "$SL_S_ADDR"
grep -q 'DUP!' <<<"$SL_OUT" || sl_fail "dup 100% on $SL_PORT_S out: ping saw no duplicate replies"
sl_expect_rc 0 "port impair $SL_PORT_S off" sl_ctl port impair "$SL_PORT_S" off

# Accepted forms.
sl_expect_rc 0 "port impair with fractional percentages" sl_ctl port impair "$SL_PORT_C" both drop 0.5% reorder 1% dup 0.25%
sl_expect_rc 0 "port impair off" sl_ctl port impair "$SL_PORT_C" off

# Refused forms: non-zero exit, a message, no change, nobody dies.
bad() {
	local desc=$1
	shift
	sl_expect_rc '1|2' "$desc is refused" sl_ctl port impair "$@"
	[[ -n $SL_OUT ]] || sl_fail "$desc: refused without a message"
	sl_assert_alive
}
bad "a percentage without %" "$SL_PORT_C" drop 1
bad "101%" "$SL_PORT_C" drop 101%
bad "a negative percentage" "$SL_PORT_C" drop -5%
bad "a non-number" "$SL_PORT_C" drop abc%
bad "five decimals" "$SL_PORT_C" drop 0.00001%
bad "an unknown port" nosuchport drop 1%
bad "an unknown direction" "$SL_PORT_C" sideways drop 1%
bad "an unknown knob" "$SL_PORT_C" corrupt 1%
bad "a knob without a value" "$SL_PORT_C" drop

loss=$(fastping)
[[ $loss == 0 ]] || sl_fail "after the refused commands: $loss% loss, expected 0%"
sl_ok "after the refused commands: 0% loss"
sl_assert_alive
sl_log "impair test passed"
