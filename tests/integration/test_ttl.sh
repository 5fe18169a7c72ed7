#!/usr/bin/env bash
# TTL handling: a TTL=1 packet through the gateway gets ICMP time exceeded
# (type 11 code 0) from 198.18.0.1, with valid checksums, quoting the
# original IP header and its first 8 data bytes (RFC 792, RFC 1812 4.3.2.3);
# a TTL=2 packet still gets through.  Packets built and checked with scapy.
# timeout: 120
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init ttl
sl_appliance_start

sl_run "baseline ping (resolves neighbours)" ip netns exec "$SL_NS_C" ping -c2 -i0.2 -W2 "$SL_S_ADDR"
before=$(sl_ctl_json show errors | sl_json_counter ttl_exceeded)

cat >"$SL_WORK/ttl.py" <<'EOF'
import sys
import time
from scapy.all import conf, AsyncSniffer, send, IP, ICMP, UDP, IPerror, ICMPerror, UDPerror, Raw
from scapy.supersocket import L3RawSocket
from scapy.utils import checksum

conf.verb = 0
conf.L3socket = L3RawSocket  # the kernel routes and resolves the gateway
iface, me, gw, dst = sys.argv[1:5]
fails = []

def check(cond, msg):
    print(("ok:   " if cond else "FAIL: ") + msg)
    if not cond:
        fails.append(msg)

def probe(pkt, what):
    sn = AsyncSniffer(iface=iface, filter="icmp and src host %s and icmp[0] = 11" % gw)
    sn.start()
    time.sleep(0.5)
    send(pkt)
    time.sleep(1.0)
    res = sn.stop()
    print("%s: sent %r, %d time-exceeded reply(ies)" % (what, pkt.summary(), len(res)))
    check(len(res) >= 1, "%s: an ICMP time exceeded came back" % what)
    if not res:
        return None
    r = res[0][IP]
    raw = bytes(r)
    ihl = (raw[0] & 0x0f) * 4
    check(r.src == gw and r.dst == me, "%s: from %s to %s (got %s -> %s)" % (what, gw, me, r.src, r.dst))
    check(checksum(raw[:ihl]) == 0, "%s: outer IPv4 header checksum valid" % what)
    check(r.ttl > 1, "%s: outer TTL %d is usable" % (what, r.ttl))
    icmp = raw[ihl:r.len]
    check(checksum(icmp) == 0, "%s: ICMP checksum valid" % what)
    check(r[ICMP].type == 11 and r[ICMP].code == 0,
          "%s: ICMP type 11 code 0 (got %d/%d)" % (what, r[ICMP].type, r[ICMP].code))
    q = r.getlayer(IPerror)
    check(q is not None, "%s: the original IP header is quoted" % what)
    if q is None:
        return None
    check(q.src == me and q.dst == dst, "%s: quoted %s -> %s (got %s -> %s)" % (what, me, dst, q.src, q.dst))
    check(q.id == pkt[IP].id, "%s: quoted IP id 0x%x (got 0x%x)" % (what, pkt[IP].id, q.id))
    check(q.proto == pkt[IP].proto, "%s: quoted protocol %d" % (what, q.proto))
    check(q.ttl in (0, 1), "%s: quoted TTL is the received one, 1 (or 0) (got %d)" % (what, q.ttl))
    check(len(icmp) >= 8 + 20 + 8, "%s: ICMP quotes the IP header + 8 data bytes (%d bytes)" % (what, len(icmp)))
    return r

p = IP(src=me, dst=dst, ttl=1, id=0x4242) / ICMP(id=0x77, seq=5) / Raw(b"sluice ttl test!")
r = probe(p, "icmp echo ttl=1")
if r is not None and r.getlayer(ICMPerror) is not None:
    e = r[ICMPerror]
    check(e.type == 8 and e.id == 0x77 and e.seq == 5, "icmp echo: quoted echo id/seq (got type %d id 0x%x seq %d)" % (e.type, e.id, e.seq))

p = IP(src=me, dst=dst, ttl=1, id=0x4343) / UDP(sport=40000, dport=33434) / Raw(b"x" * 24)
r = probe(p, "udp ttl=1")
if r is not None:
    u = r.getlayer(UDPerror)
    check(u is not None and u.sport == 40000 and u.dport == 33434, "udp: quoted UDP ports 40000 -> 33434")

sys.exit(1 if fails else 0)
EOF

sl_log "+ scapy: TTL=1 probes from $SL_NS_C"
rc=0
ip netns exec "$SL_NS_C" timeout 60 "$SL_PY" "$SL_WORK/ttl.py" "$SL_TAP_C" "$SL_C_ADDR" "$SL_C_GW" "$SL_S_ADDR" \
	>"$SL_WORK/ttl.out" 2>&1 || rc=$?
grep -v -e '^WARNING: ' "$SL_WORK/ttl.out" | sed 's/^/    | /' >&2 || true
((rc == 0)) || sl_fail "TTL=1 probes (exit $rc; see above)"

sleep 0.3
after=$(sl_ctl_json show errors | sl_json_counter ttl_exceeded)
((after >= before + 2)) || sl_fail "drop counter ttl_exceeded went $before -> $after, expected +2"
sl_ok "drop counter ttl_exceeded $before -> $after"

# TTL 2 leaves the gateway with TTL 1 and reaches the server.
sl_run "ping with TTL 2 reaches the server" ip netns exec "$SL_NS_C" ping -c2 -i0.2 -W2 -t 2 "$SL_S_ADDR"
# Linux's own traceroute view: hop 1 is the appliance.
sl_expect_rc '[1-9][0-9]*' "ping with TTL 1 is answered by the gateway" ip netns exec "$SL_NS_C" ping -c1 -W2 -t 1 "$SL_S_ADDR"
grep -q "From $SL_C_GW .*Time to live exceeded" <<<"$SL_OUT" || sl_fail "ping -t 1: no 'From $SL_C_GW ... Time to live exceeded'"

sl_assert_alive
sl_log "ttl test passed"
