#!/usr/bin/env bash
# Many concurrent connections through the proxy, and nothing leaks.
# 5,000 connections are opened first, all open at once (bulkclient waits for
# every connect before the first request), then each downloads 32 KiB
# (sha256 checked, and the server's FIN must follow), at most 1,000
# transfers at a time while the rest wait open.  While they are all
# open: show tcp `active` and `established` count at least 5,000 and
# `show flows` pages (from/count) add up to its total_in_use.  Afterwards
# every connection is freed: `active` (all legs, TIME-WAIT included) back to
# 0 once TIME-WAIT (tcp.time_wait_ms = 2 s here instead of 60 s) has run
# out, and every mbuf pool's in_use back to its baseline.
#
# The pool bound is exact (in_use <= baseline, polled for 10 s).
# rte_mempool_in_use_count() is size minus the ring's count minus every
# lcore's cache length (rte_mempool_avail_count), so mbufs parked in the
# per-lcore caches count as free and the caches need no slack.  What stays
# allocated at rest -- the mbufs net_tap keeps posted on its RX queues, and
# whatever the stack allocates once on first use -- is in the baseline,
# which is taken after a warm-up round of 8 proxied connections has come and
# gone.  The 10 s polling absorbs a packet in flight (an ARP refresh) at the
# moment of reading.  A leak of one mbuf per connection would be 5,000 over.
#
# Sizes: 5,000 connections is the issue's number; 32 KiB each (160 MiB in
# all) makes every connection carry more than an initial window without
# making the test about throughput.  1,000 transfers at a time: 5,000 initial
# windows at once (50,000 segments) overflow the kernel tap's 1,000-packet
# ring, and the RTO backoff of thousands of connections made the run time
# swing between 10 and 60 s under plain forwarding; 1,000 still loses
# segments (loss recovery at scale) but stays near 10 s.  ~1 minute in all.
# timeout: 300
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tcp_many
SL_ON_FAIL=sl_tcp_diag

N=5000
SIZE=32K
TIME_WAIT_MS=2000

sl_conf_tcp "time_wait_ms = $TIME_WAIT_MS;"
SL_CONF_RULES=$(sl_conf_proxy_rule "$SL_BULK_PORT")
sl_appliance_start
sl_bulk_server_start

active_zero() { [[ $(sl_tcp_field active) == 0 ]]; }
wait_all_closed() { # TIME-WAIT plus a margin for the last FIN exchanges
	local t=$((TIME_WAIT_MS / 1000 + 30))
	sl_wait_for "$t" "show tcp active = 0" active_zero || {
		sl_tcp_log
		sl_fail "connections still not freed ${t}s after the transfers (time_wait_ms = $TIME_WAIT_MS)"
	}
	sl_ok "show tcp active = 0"
}

# --- warm-up and baseline ---------------------------------------------------------
sl_bulk "warm-up: 8 connections" download --size 64K --conns 8
if sl_tcp_stack; then
	wait_all_closed
	sleep 1
	base=$(sl_pools_json)
	sl_log "mbuf pools at rest (baseline): $base"
	t0=$(sl_tcp_json)
	sl_spread_begin
fi

# --- 5,000 at once ------------------------------------------------------------------
sl_bulk_spawn many download --size "$SIZE" --conns "$N" --inflight 1000 --pause 5 --timeout 120 \
	--connect-timeout 60
pid=$SL_LAST_PID
sl_bulk_wait_ready many "$pid" 150
opened=$(<"$SL_WORK/many.ready")
((opened == N)) || sl_fail "only $opened of $N connections opened ($(tail -n 3 "$SL_WORK/many.log"))"
sl_ok "$N connections open at once"

if sl_tcp_stack; then
	held=$(sl_tcp_json)
	sl_tcp_log
	a=$(sl_tcp_field active "$held")
	e=$(sl_tcp_field established "$held")
	((a >= N && e >= N)) || sl_fail "with $N connections open: active $a, established $e (want >= $N each)"
	sl_ok "active $a, established $e"
	# Every page of show flows, following "next".
	from=0 sum=0 total=
	for ((pg = 0; pg < 1000; pg++)); do
		js=$(sl_ctl_json show flows from "$from" count 1000) || sl_fail "show flows from $from failed: $js"
		[[ -n $total ]] || total=$(jq -e '.total_in_use' <<<"$js") || sl_fail "show flows: no total_in_use: $js"
		sum=$((sum + $(jq -e '.flows | length' <<<"$js")))
		next=$(jq -r '.next' <<<"$js")
		[[ $next == null ]] && break
		((next > from)) || sl_fail "show flows: next $next after from $from"
		from=$next
	done
	[[ $next == null ]] || sl_fail "show flows: still a next page after 1000 pages"
	((sum == total && sum >= N)) || sl_fail "show flows: pages list $sum flows, total_in_use $total (want equal, >= $N)"
	sl_ok "show flows: $((pg + 1)) pages, $sum flows = total_in_use"
else
	sl_selfcheck_note "show tcp / show flows with $N connections open"
fi

sl_bulk_finish many "$pid" 150 "$N concurrent downloads of $SIZE, every sha256 equal"
ok=$(jq -r '.ok' <<<"$SL_BULK")
((ok == N)) || sl_fail "$ok of $N transfers succeeded"

# --- everything freed ---------------------------------------------------------------
if sl_tcp_stack; then
	t1=$(sl_tcp_json)
	sl_tcp_moved proxied "$t0" "$t1" "$N"
	sl_tcp_moved opened_passive "$t0" "$t1" "$N"
	sl_spread_check "$N connections"
	sl_log "time_wait right after the transfers: $(sl_tcp_field time_wait "$t1")"
	wait_all_closed
	t2=$(sl_tcp_json)
	sl_tcp_moved closed "$t0" "$t2" "$N"
	for g in syn_received syn_sent established closing time_wait; do
		v=$(sl_tcp_field "$g" "$t2")
		((v == 0)) || sl_fail "show tcp $g = $v with active = 0"
	done
	sl_ok "every TCP gauge is 0"
	pools_back() { sl_pools_back "$base" "$(sl_pools_json)" 0 >/dev/null; }
	if ! sl_wait_for 10 "mbuf pools back to the baseline" pools_back; then
		now=$(sl_pools_json)
		sl_log "pools now: $now"
		sl_fail "mbufs not returned: $(sl_pools_back "$base" "$now" 0 | tr '\n' ';')"
	fi
	sl_ok "every mbuf pool's in_use back to its baseline"
else
	sl_selfcheck_note "show tcp active back to 0, mbuf pools back to baseline"
fi
sl_assert_alive
sl_log "tcp many-connections test passed"
