#!/usr/bin/python3
"""SYN flood for the tests: many half-open connections from one address.

usage: synflood.py --iface IF --src ADDR --dst ADDR --dport PORT --dst-mac MAC
                   [--sports 61000-65535] [--pps 5000] [--seconds 10]
                   [--srcs N] [--count N]

Sends SYNs (MSS, SACK-permitted, timestamps, window scale: what a Linux
client offers, so SYN cookies have options to encode) from ADDR, cycling
through the source ports of --sports with a fresh random ISN and TSval each
time, at about --pps for --seconds.  The frame is built once with scapy and
then only its port, ISN, TSval and TCP checksum change, written to an
AF_PACKET socket, so the rate is not limited by scapy.  The caller keeps its
own kernel from answering the SYN-ACKs with RSTs (an nftables rule for
those source ports) when the half-open state must stay.  --srcs N spreads
the SYNs over N consecutive source addresses from ADDR (many clients);
--count N stops after N SYNs.  Prints
{"sent": N, "seconds": S} at the end (also on SIGTERM).
"""
import argparse
import json
import os
import random
import signal
import socket
import struct
import sys
import time

from scapy.all import IP, TCP, Ether, conf, get_if_hwaddr, raw


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--iface', required=True)
    ap.add_argument('--src', required=True)
    ap.add_argument('--dst', required=True)
    ap.add_argument('--dport', type=int, required=True)
    ap.add_argument('--dst-mac', required=True)
    ap.add_argument('--sports', default='61000-65535')
    ap.add_argument('--pps', type=float, default=5000)
    ap.add_argument('--seconds', type=float, default=10)
    ap.add_argument('--srcs', type=int, default=1)
    ap.add_argument('--count', type=int, default=0)
    a = ap.parse_args()
    src0 = struct.unpack('!I', socket.inet_aton(a.src))[0]
    conf.verb = 0
    lo, hi = (int(x) for x in a.sports.split('-'))
    frame = bytearray(raw(
        Ether(src=get_if_hwaddr(a.iface), dst=a.dst_mac) /
        IP(src=a.src, dst=a.dst, ttl=64, id=0, flags='DF') /
        TCP(sport=lo, dport=a.dport, flags='S', seq=0, window=64240,
            options=[('MSS', 1460), ('SAckOK', b''), ('Timestamp', (1, 0)),
                     ('NOP', None), ('WScale', 7)])))
    t = 14 + (frame[14] & 0x0f) * 4          # TCP header offset
    tlen = len(frame) - t
    ts_off = t + 20 + 4 + 2 + 2               # MSS(4) SAckOK(2) kind+len of TS(2)
    assert frame[ts_off - 2] == 8, 'timestamp option not where expected'
    pseudo = bytearray(socket.inet_aton(a.src) + socket.inet_aton(a.dst) + struct.pack('!BBH', 0, 6, tlen))

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    rnd = random.Random(os.getpid())
    sent, port = 0, lo
    t0 = time.monotonic()
    gap = 1.0 / a.pps if a.pps > 0 else 0
    nxt = t0
    while not stop and time.monotonic() - t0 < a.seconds and (not a.count or sent < a.count):
        if a.srcs > 1:
            src = struct.pack('!I', src0 + sent % a.srcs)
            frame[26:30] = src
            pseudo[0:4] = src
            struct.pack_into('!H', frame, 24, 0)
            struct.pack_into('!H', frame, 24, csum(bytes(frame[14:t])))
        struct.pack_into('!H', frame, t, port)
        struct.pack_into('!I', frame, t + 4, rnd.getrandbits(32))
        struct.pack_into('!I', frame, ts_off, rnd.getrandbits(32))
        struct.pack_into('!H', frame, t + 16, 0)
        struct.pack_into('!H', frame, t + 16, csum(pseudo + bytes(frame[t:])))
        try:
            s.send(frame)
            sent += 1
        except OSError:
            time.sleep(0.001)  # the tap is full: let it drain
        if a.srcs <= 1 or sent % a.srcs == 0:
            port = lo if port >= hi else port + 1
        if gap:
            nxt += gap
            d = nxt - time.monotonic()
            if d > 0:
                time.sleep(d)
            elif d < -0.1:
                nxt = time.monotonic()  # fell behind: do not burst to catch up
    print(json.dumps({'sent': sent, 'seconds': round(time.monotonic() - t0, 3)}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
