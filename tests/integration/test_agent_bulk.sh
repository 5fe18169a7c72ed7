#!/usr/bin/env bash
# S4 bulk relays: 256 MB downloaded and 256 MB uploaded through each site's
# agent (site B through the HTTP CONNECT proxy), sha256 compared by the
# client (scripts/bulkclient.py), then the same through site A with 1% of
# the packets dropped on the appliance's wan port (the agents' TLS sessions
# recover by the TCP stack's retransmissions).  Afterwards nothing is left:
# no connection slot, no STREAM session bound, mbufs back in the pools.
# SL_AGENT_BULK_SIZE overrides 256M.
# timeout: 900
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
SL_ON_FAIL=sl_agent_diag
sl_instance_init agent_bulk
sl_need_pkgs tinyproxy:tinyproxy-bin nft:nftables || exit 77
sl_certs
[[ -x $SL_AGENT ]] || sl_die "$SL_AGENT not built"
SIZE=${SL_AGENT_BULK_SIZE:-256M}
SRV=$SL_SITE_SRV
sl_agent_appliance_start
sl_agents_up

bulk() { # bulk DESC SOURCE ARGS...: bulkclient.py against the site's bulk server
	local desc=$1 src=$2 out rc=0
	shift 2
	SL_BULK_SEQ=$((${SL_BULK_SEQ:-0} + 1))
	out=$SL_WORK/bulk.$SL_BULK_SEQ.json
	sl_log "+ bulkclient.py --source $src $*"
	ip netns exec "$SL_NS_C" timeout -k 5 600 "$SL_PY" "$SL_ROOT/scripts/bulkclient.py" \
		--host "$SRV" --port 9000 --source "$src" --json-out "$out" "$@" \
		>/dev/null 2>>"$SL_WORK/bulkclient.log" || rc=$?
	sl_bulk_summary <"$out"
	((rc == 0)) && [[ $(jq -r .sha256_match "$out") == true ]] || sl_fail "$desc (exit $rc)"
	sl_ok "$desc: $(jq -r '"\(.mbit_s) Mbit/s"' "$out")"
}

bulk "site-a: $SIZE download" "$SL_C_ADDR" download --size "$SIZE"
bulk "site-a: $SIZE upload" "$SL_C_ADDR" upload --size "$SIZE"
bulk "site-b (proxy): $SIZE download" "$SL_C2_ADDR" download --size "$SIZE"
bulk "site-b (proxy): $SIZE upload" "$SL_C2_ADDR" upload --size "$SIZE"

sl_ctl port impair wan drop 1% >/dev/null
d0=$(sl_ctl_json show errors | sl_json_counter impair)
bulk "site-a with 1% drop on wan: $SIZE download" "$SL_C_ADDR" download --size "$SIZE"
bulk "site-a with 1% drop on wan: $SIZE upload" "$SL_C_ADDR" upload --size "$SIZE"
d1=$(sl_ctl_json show errors | sl_json_counter impair)
((d1 > d0)) || sl_fail "the impairment dropped nothing ($d0 -> $d1)"
sl_ok "the wan port's impairment dropped $((d1 - d0)) packets meanwhile"
sl_ctl port impair wan drop 0% >/dev/null

# nothing left behind: the client legs are gone and no stream is bound
idle() { [[ $(sl_agent_field site-a streams_bound) == 0 && $(sl_agent_field site-b streams_bound) == 0 ]]; }
sl_wait_for 20 "no STREAM session bound" idle || sl_fail "STREAM sessions still bound: $(sl_agents_json)"
held=$(sl_agents_json | jq -r .workers.held)
((held == 0)) || sl_fail "$held SYNs still held"
sl_ctl show agents >&2
sl_assert_alive
sl_log "test agent bulk passed"
