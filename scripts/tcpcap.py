#!/usr/bin/python3
"""Capture packets for a test with scapy, ready before the traffic starts.

usage: tcpcap.py --iface IF --out FILE.pcap [--filter BPF] [--ready FILE]
                 [--stop FILE] [--max-seconds N]

Opens the packet socket (with the BPF filter) and starts an AsyncSniffer
before it creates --ready, so whatever the test sends afterwards is seen (a
capture tool started in the background may still be starting when a single
SYN/RST exchange is already over).  The socket gets a 64 MB receive buffer
(SO_RCVBUFFORCE) so a burst at line rate waits for scapy instead of being
dropped.  It stops when --stop exists, on SIGTERM/SIGINT or after
--max-seconds, lets scapy drain what the socket still holds, writes the pcap
(renamed into place when complete) and prints {"packets": N, "drops": D}:
D is the kernel's count of packets the socket had no room for (0 means the
capture is complete).
"""
import argparse
import json
import os
import signal
import socket
import struct
import sys
import time

from scapy.all import AsyncSniffer, conf, wrpcap

SOL_PACKET = 263
PACKET_STATISTICS = 6


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--iface', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--filter', default=None)
    ap.add_argument('--ready')
    ap.add_argument('--stop')
    ap.add_argument('--max-seconds', type=float, default=300)
    a = ap.parse_args()
    conf.verb = 0

    stop = []
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.append(1))

    sock = conf.L2listen(iface=a.iface, filter=a.filter)
    sock.ins.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
    seen = [0, time.monotonic()]

    def count(_pkt):
        seen[0] += 1
        seen[1] = time.monotonic()

    sn = AsyncSniffer(opened_socket=sock, store=True, prn=count)
    sn.start()
    time.sleep(0.2)  # the sniffer thread is in its receive loop
    if a.ready:
        with open(a.ready, 'w') as f:
            f.write('%d\n' % os.getpid())
    t0 = time.monotonic()
    while not stop and time.monotonic() - t0 < a.max_seconds:
        if a.stop and os.path.exists(a.stop):
            break
        time.sleep(0.05)
    # Drain: until nothing new for half a second (bounded).
    t1 = time.monotonic()
    while time.monotonic() - seen[1] < 0.5 and time.monotonic() - t1 < 30:
        time.sleep(0.1)
    drops = 0
    try:
        st = sock.ins.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        drops = struct.unpack('II', st)[1]
    except OSError:
        pass
    sn.stop()
    pkts = sn.results or []
    wrpcap(a.out + '.tmp', pkts)
    os.rename(a.out + '.tmp', a.out)
    print(json.dumps({'packets': len(pkts), 'drops': drops}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
