#!/usr/bin/python3
"""Send one TCP SYN (scapy) and report, as one JSON line, what came back.

usage: synprobe.py --src ADDR --dst ADDR --dport N [--sport N] [--timeout S]
                   [--retries N] [--seq N]

The answer is read field by field, so a test can check that it is exactly
what the real network would have said:
  {"kind": "synack"|"rst"|"icmp"|"none"|"other", "src", "sport", "dport",
   "seq", "ack", "flags", "payload_len", "mss",
   "icmp_type", "icmp_code", "quote": {"src", "dst", "proto", "sport",
   "dport", "seq", "ihl", "len"}, "quote_bytes", "rtt_ms"}
With --retries N the same SYN (same sequence number) is sent N more times,
one second apart, while waiting: a retransmitting client.
No RST is sent for a SYN-ACK: the kernel of the probing host does that (it
has no socket for the port).
"""
import argparse
import json
import random
import sys
import time

from scapy.all import IP, TCP, ICMP, IPerror, TCPerror, conf, sr1, send  # noqa: E402
from scapy.utils import checksum  # noqa: E402

conf.verb = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--src', required=True)
    ap.add_argument('--dst', required=True)
    ap.add_argument('--dport', type=int, required=True)
    ap.add_argument('--sport', type=int, default=0)
    ap.add_argument('--seq', type=int, default=0)
    ap.add_argument('--timeout', type=float, default=5)
    ap.add_argument('--retries', type=int, default=0)
    a = ap.parse_args()
    sport = a.sport or random.randint(20000, 60000)
    seq = a.seq or random.randint(1, 2**32 - 1)
    syn = IP(src=a.src, dst=a.dst) / TCP(sport=sport, dport=a.dport, flags='S', seq=seq,
                                        options=[('MSS', 1460), ('SAckOK', b''),
                                                 ('WScale', 7)], window=64240)
    t0 = time.time()
    if a.retries:
        # the retransmissions go out from a child while sr1 waits
        import threading

        def resend():
            for _ in range(a.retries):
                time.sleep(1)
                send(syn)
        threading.Thread(target=resend, daemon=True).start()
    r = sr1(syn, timeout=a.timeout)
    out = {'kind': 'none', 'sport': sport, 'seq_sent': seq}
    if r is not None:
        out['rtt_ms'] = round((time.time() - t0) * 1000, 1)
        out['src'] = r[IP].src
        out['dst'] = r[IP].dst
        out['ttl'] = r[IP].ttl
        # the checksums as a receiver checks them (RFC 1071: the sum over
        # the header, or the ICMP message, with its checksum is 0xffff)
        ihl = r[IP].ihl * 4
        raw_ip = bytes(r[IP])
        out['ip_cksum_ok'] = checksum(raw_ip[:ihl]) == 0
        if ICMP in r:
            out['icmp_cksum_ok'] = checksum(raw_ip[ihl:r[IP].len]) == 0
        if TCP in r and IPerror not in r:
            t = r[TCP]
            fl = str(t.flags)
            out.update(kind='synack' if 'S' in fl and 'A' in fl else 'rst' if 'R' in fl else 'other',
                       sport=t.sport, dport=t.dport, seq=t.seq, ack=t.ack, flags=fl,
                       payload_len=len(bytes(t.payload)))
            for o in t.options:
                if o[0] == 'MSS':
                    out['mss'] = o[1]
        elif ICMP in r:
            ic = r[ICMP]
            out.update(kind='icmp', icmp_type=ic.type, icmp_code=ic.code)
            raw = bytes(ic.payload)
            out['quote_bytes'] = len(raw)
            if IPerror in r:
                q = r[IPerror]
                out['quote'] = {'src': q.src, 'dst': q.dst, 'proto': q.proto, 'ihl': q.ihl,
                                'len': q.len}
                if TCPerror in r:
                    qt = r[TCPerror]
                    out['quote'].update(sport=qt.sport, dport=qt.dport, seq=qt.seq)
    print(json.dumps(out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
