#!/usr/bin/env bash
# The L4 proxy relays bulk data intact.  With `action proxy` on
# 198.19.0.10:9000 the appliance answers the client as the server and opens
# its own connection to the bulk server (scripts/bulkserver.py).  A 1 GiB
# download and a 1 GiB upload (384 MiB each in the 3-worker pass), sha256 compared end to end; show tcp counters
# moved (proxied, opened_active, bytes_in and bytes_out by the 2 GiB).  Then
# `port impair` 1% drop + 1% reorder on the client-side port, 256 MiB each
# way, then the same on the server-side port: sha256 still equal, and the
# appliance retransmitted (its sending leg lost segments) and queued segments
# out of order (its receiving leg lost some).
#
# Sizes: net_tap carries ~0.8 Gbit/s, so a clean GiB takes 10-15 s each way.
# Under 1% loss both senders (Linux's and the appliance's) slow down by a
# factor nobody can promise yet, so the four impaired transfers move 256 MiB
# each (a minute in all even at 20 MB/s).  Typical run: 1.5-2 minutes.
# timeout: 420
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tcp_proxy_bulk
SL_ON_FAIL=sl_tcp_diag

CLEAN_SIZE=1G        # each way, no impairment
# the multi-worker pass (make test-mw) checks the spread and the bytes with
# less: 3 workers on 2 cores move it at half the rate, and make test has a
# budget
if ((${SL_RUN_WORKERS:-1} > 1)); then CLEAN_SIZE=384M; fi
IMPAIRED_SIZE=256M   # each way, per impaired port
IMPAIR=(drop 1% reorder 1%)

SL_CONF_RULES=$(sl_conf_proxy_rule "$SL_BULK_PORT")
sl_appliance_start
sl_bulk_server_start
sl_expect_rc 0 "show rules" sl_ctl show rules

t0='{}'
if sl_tcp_stack; then t0=$(sl_tcp_json); fi
sl_bulk "download $CLEAN_SIZE through the proxy, sha256 equal" download --size "$CLEAN_SIZE" --timeout 120
sl_bulk "upload $CLEAN_SIZE through the proxy, sha256 equal" upload --size "$CLEAN_SIZE" --timeout 120

if sl_tcp_stack; then
	sl_tcp_log
	t1=$(sl_tcp_json)
	gib2=$((2 * $(numfmt --from=iec "$CLEAN_SIZE"))) # both clean transfers
	sl_tcp_moved proxied "$t0" "$t1" 2
	sl_tcp_moved opened_active "$t0" "$t1" 2
	sl_tcp_moved opened_passive "$t0" "$t1" 2
	# each GiB is received once on one leg and sent once on the other
	sl_tcp_moved bytes_in "$t0" "$t1" "$gib2"
	sl_tcp_moved bytes_out "$t0" "$t1" "$gib2"
else
	sl_selfcheck_note "show tcp counters after the clean transfers"
fi

# many connections at once: with several workers each one owns some
# (a worker misses all 32 with chance (1 - 1/N)^32)
if sl_tcp_stack; then sl_spread_begin; fi
sl_bulk "32 downloads of 1 MiB at once, sha256 equal" download --conns 32 --size 1M --timeout 120
if sl_tcp_stack; then sl_spread_check "32 proxied downloads"; fi

impaired_round() { # impaired_round PORT
	local port=$1 a='{}' b n
	if sl_tcp_stack; then a=$(sl_tcp_json); fi
	sl_expect_rc 0 "port impair $port ${IMPAIR[*]}" sl_ctl port impair "$port" "${IMPAIR[@]}"
	sl_bulk "download $IMPAIRED_SIZE, $port port impaired" download --size "$IMPAIRED_SIZE" --timeout 150
	sl_bulk "upload $IMPAIRED_SIZE, $port port impaired" upload --size "$IMPAIRED_SIZE" --timeout 150
	sl_expect_rc 0 "port impair $port off" sl_ctl port impair "$port" off
	n=$(sl_ctl_json show errors | sl_json_counter impair)
	((n > 0)) || sl_fail "the impair drop counter is $n: nothing was dropped"
	sl_ok "impair drops so far: $n"
	if sl_tcp_stack; then
		sl_tcp_log
		b=$(sl_tcp_json)
		# Both directions of the port lose 1%: the leg that sends there
		# retransmits, the leg that receives there sees holes.
		sl_tcp_moved retransmits "$a" "$b"
		sl_tcp_moved ooo_segments "$a" "$b"
		sl_log "loss recovery on $port: fast_recoveries +$(($(sl_tcp_field fast_recoveries "$b") -
			$(sl_tcp_field fast_recoveries "$a"))), rto_fired +$(($(sl_tcp_field rto_fired "$b") -
			$(sl_tcp_field rto_fired "$a")))"
	else
		sl_selfcheck_note "retransmits/ooo_segments after impairing $port"
	fi
}
impaired_round "$SL_PORT_C"
impaired_round "$SL_PORT_S"

sl_log "drop counters (for the record):"
sl_ctl show errors | sed 's/^/    | /' >&2 || true
sl_assert_alive
sl_log "tcp proxy bulk test passed"
