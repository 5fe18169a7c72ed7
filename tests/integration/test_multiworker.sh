#!/usr/bin/env bash
# Three workers (eal.lcores "0@0,(1-3)@1": EAL's --lcores map runs the three
# worker lcores as threads on CPU 1 of this 2-CPU machine).  Every flow is
# owned by one worker (flow/dispatch.h): the net_tap ports spread packets over
# their RX queues by the kernel's own hash, and a worker hands a packet whose
# flow another worker owns to that worker over a ring.  The proxy's server leg
# picks a local port whose 4-tuple hashes to the opening worker, so both legs
# of a relay meet there.
#
# Checks, against Linux peers:
#  - 24 proxied downloads at once (scripts/bulkclient.py, 8 MiB each) and 24
#    uploads: every sha256 equal;
#  - the connections were accepted on every worker (show tcp per_worker
#    opened_passive) and each worker opened as many server legs as it
#    accepted client legs (both legs on one worker);
#  - packets were handed between workers (show stats handoff_out/in) and
#    everything handed out was taken in or counted as handoff_full;
#  - forwarding (ping, 50 echo requests) still works.
# timeout: 400
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
SL_LCORES=${SL_MW_LCORES:-"0@0,(1-3)@1"}
sl_instance_init multiworker
SL_ON_FAIL=sl_tcp_diag
NW=3

SL_CONF_RULES=$(sl_conf_proxy_rule "$SL_BULK_PORT")
sl_appliance_start
sl_bulk_server_start

n=$(sl_ctl_json show stats | jq '[.lcores[] | select(.name != "main")] | length')
((n == NW)) || sl_fail "show stats lists $n workers, want $NW"
sl_ok "$NW workers up on a 2-CPU machine"

t0=$(sl_tcp_json)
s0=$(sl_ctl_json show stats)
sl_bulk "24 downloads of 8 MiB at once, sha256 equal" download --conns 24 --size 8M --timeout 180
sl_bulk "24 uploads of 8 MiB at once, sha256 equal" upload --conns 24 --size 8M --timeout 180
t1=$(sl_tcp_json)
s1=$(sl_ctl_json show stats)

# accepted on every worker, and as many server legs opened there
per=$(jq -c --argjson a "$t0" '[.per_worker[] as $w | {worker: $w.worker,
	passive: ($w.opened_passive - ($a.per_worker[$w.worker].opened_passive // 0)),
	active: ($w.opened_active - ($a.per_worker[$w.worker].opened_active // 0))}]' <<<"$t1")
sl_log "connections per worker: $per"
jq -e --argjson nw "$NW" 'length == $nw and all(.[]; .passive > 0)' <<<"$per" >/dev/null ||
	sl_fail "every worker must own some of the 48 connections: $per"
jq -e 'all(.[]; .passive == .active)' <<<"$per" >/dev/null ||
	sl_fail "each worker must open the server leg of every connection it accepted: $per"
tot=$(jq '[.[].passive] | add' <<<"$per")
# (bulkclient.py asks the server for the checksum on a connection of its own)
((tot >= 48)) || sl_fail "at least 48 connections accepted in all, got $tot: $per"
sl_ok "48 relays spread over the workers, both legs on one: $per"

# hand-offs: counted out by the receiving worker, in by the owner
ho=$(jq -c --argjson a "$s0" '[.lcores[] | select(.name != "main")] as $l |
	{out: (([$l[].handoff_out] | add) - ([$a.lcores[] | select(.name != "main") | .handoff_out] | add)),
	 in: (([$l[].handoff_in] | add) - ([$a.lcores[] | select(.name != "main") | .handoff_in] | add))}' <<<"$s1")
full=$(sl_ctl_json show errors | sl_json_counter handoff_full)
sl_log "hand-offs during the transfers: $ho, handoff_full $full"
jq -e --argjson f "${full:-0}" '.out > 0 and .out == .in + $f' <<<"$ho" >/dev/null ||
	sl_fail "packets must be handed between workers, each one taken in or counted: $ho, handoff_full $full"
sl_ok "hand-offs: $ho"

# show workers agrees with show stats and show tcp
wj=$(sl_ctl_json show workers)
jq -e --argjson nw "$NW" '.n_workers == $nw and (.workers | length) == $nw and
	([.workers[].handoff_in] | add) > 0 and all(.workers[]; .packets > 0 and .cycles_work > 0)' <<<"$wj" >/dev/null ||
	sl_fail "show workers must list $NW busy workers with their hand-offs: $wj"
sl_ctl show workers >&2
sl_ok "show workers lists the $NW workers"

out=$(ip netns exec "$SL_NS_C" ping -n -q -c 50 -i 0.02 -W 2 "$SL_S_ADDR" 2>&1) ||
	sl_fail "ping through the appliance: $out"
grep -q ' 0% packet loss' <<<"$out" || sl_fail "ping lost packets: $out"
sl_ok "forwarding: 50 echo requests answered"

sl_assert_alive
sl_log "test multiworker passed"
