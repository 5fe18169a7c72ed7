#!/usr/bin/python3
"""Write a pcap of minimum-size routed IPv4/UDP frames, with plain struct.

64-byte Ethernet frames on the wire: 14 (Ethernet) + 20 (IPv4) + 8 (UDP) +
18 (payload) = 60 bytes captured, + 4 bytes FCS the pcap does not carry.

usage: gen_pcap.py OUT [--count N] [--dst-mac MAC] [--src-mac MAC]
                       [--src IP] [--dst-net A.B.C.D/N] [--ttl T]
Destinations and UDP ports vary so that the packets are distinct: packet i
goes to host (i * 2654435761) mod 2^(32-N) of dst-net (never .0 or .255
host parts) from source port 1024 + i % 4096.
"""
import argparse
import ipaddress
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac(s):
    b = bytes.fromhex(s.replace(":", ""))
    if len(b) != 6:
        raise argparse.ArgumentTypeError("bad MAC " + s)
    return b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=2048)
    ap.add_argument("--dst-mac", type=mac, default=mac("02:53:4c:00:00:01"))
    ap.add_argument("--src-mac", type=mac, default=mac("02:00:00:00:00:01"))
    ap.add_argument("--src", default="198.18.0.2")
    ap.add_argument("--dst-net", default="48.0.0.0/8")
    ap.add_argument("--ttl", type=int, default=64)
    a = ap.parse_args()

    net = ipaddress.ip_network(a.dst_net)
    hostbits = 32 - net.prefixlen
    src = ipaddress.ip_address(a.src).packed
    payload = b"sluice-bench-64B\0\0"  # 18 bytes
    assert len(payload) == 18
    seen = set()
    with open(a.out, "wb") as f:
        # pcap global header: magic, v2.4, tz 0, sigfigs 0, snaplen, DLT_EN10MB
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(a.count):
            h = (i * 2654435761) & ((1 << hostbits) - 1) if hostbits else 0
            if hostbits >= 8 and (h & 0xFF) in (0, 255):
                h ^= 0x01
            dst = (int(net.network_address) | h).to_bytes(4, "big")
            sport = 1024 + i % 4096
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), i & 0xFFFF, 0x4000,
                             a.ttl, 17, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            udp = struct.pack("!HHHH", sport, 9, 8 + len(payload), 0)  # UDP checksum 0 = none
            frame = a.dst_mac + a.src_mac + b"\x08\x00" + ip + udp + payload
            assert len(frame) == 60
            seen.add(frame)
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(frame), len(frame)))
            f.write(frame)
    print("%s: %d frames of 60 bytes (64 with FCS), %d distinct, to %s" % (a.out, a.count, len(seen), a.dst_net))
    return 0


if __name__ == "__main__":
    sys.exit(main())
