#!/usr/bin/env bash
# ICMP errors are rate-limited (RFC 1812 4.3.2.8): with icmp_rate 10/s and
# icmp_burst 5, a burst of 100 TTL=1 packets from scapy gets at most the
# bucket's worth (per worker) of time-exceeded messages back, the rest are counted as
# icmp_ratelimit, and every one of the 100 is counted as ttl_exceeded.
# timeout: 90
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init icmp_ratelimit
SL_CONF_DATAPLANE='icmp_rate = 10; icmp_burst = 5;'
sl_appliance_start
sl_run "baseline ping" ip netns exec "$SL_NS_C" ping -c1 -W2 "$SL_S_ADDR"

out=$(ip netns exec "$SL_NS_C" /usr/bin/python3 - "$SL_TAP_C" "$SL_S_ADDR" <<'PY'
import sys, time
from scapy.all import IP, UDP, Ether, conf, sendp, AsyncSniffer, get_if_hwaddr, getmacbyip
iface, dst = sys.argv[1], sys.argv[2]
conf.verb = 0
gw_mac = getmacbyip("198.18.0.1") or "ff:ff:ff:ff:ff:ff"
sn = AsyncSniffer(iface=iface, filter="icmp and icmp[0] == 11")
sn.start()
time.sleep(0.5)
t0 = time.time()
pkts = [Ether(dst=gw_mac) / IP(dst=dst, ttl=1) / UDP(sport=40000 + i, dport=9) for i in range(100)]
sendp(pkts, iface=iface)
elapsed = time.time() - t0
time.sleep(1.0)
sn.stop()
print(len(sn.results), "%.3f" % elapsed)
PY
)
read -r got elapsed <<<"$out"
sl_log "time-exceeded received: $got for 100 sent in ${elapsed}s"
# the bucket: 5 at once, then 10 per second while sending -- per worker
# (docs/config.md), and the 100 flows spread over the workers
nw=$(sl_ctl_json show workers | jq .n_workers)
max=$(awk -v e="$elapsed" -v w="$nw" 'BEGIN { printf "%d", w * (5 + 10 * e) + 2 }')
((got >= 1)) || sl_fail "no ICMP time exceeded at all"
((got <= max)) || sl_fail "$got ICMP errors for a burst of 100: the limiter allows at most $max"
js=$(sl_ctl_json show errors)
rl=$(sl_json_counter icmp_ratelimit <<<"$js")
te=$(sl_json_counter ttl_exceeded <<<"$js")
((te >= 100)) || sl_fail "ttl_exceeded = $te, want >= 100"
((rl >= 100 - max)) || sl_fail "icmp_ratelimit = $rl, want >= $((100 - max))"
sl_ok "$got ICMP errors let through, icmp_ratelimit $rl, ttl_exceeded $te"
sl_assert_alive
sl_test_exit
