#!/usr/bin/python3
"""Write a pcap of minimum-size routed IPv4/UDP frames, with plain struct.

64-byte Ethernet frames on the wire: 14 (Ethernet) + 20 (IPv4) + 8 (UDP) +
18 (payload) = 60 bytes captured, + 4 bytes FCS the pcap does not carry.

usage: gen_pcap.py OUT [--count N] [--dst-mac MAC] [--src-mac MAC]
                       [--src IP] [--dst-net A.B.C.D/N] [--ttl T]
                       [--syn] [--src-net A.B.C.D/N --srcs K] [--dport P]
Destinations and UDP ports vary so that the packets are distinct: packet i
goes to host (i * 2654435761) mod 2^(32-N) of dst-net (never .0 or .255
host parts) from source port 1024 + i % 4096.

--syn writes TCP SYNs instead (bench/agent.sh): 14 + 20 + 20 (no options)
+ 6 bytes of Ethernet padding = 60 bytes captured, to --dport (default 80),
with a valid TCP checksum and sequence number i * 7919.  --src-net with
--srcs K spreads the sources over K hosts of that prefix (host parts .1 to
.254 of each /24 in turn; packet i from the (i mod K)-th), instead of the
one --src.  Without these options the output is unchanged.
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
    ap.add_argument("--syn", action="store_true", help="TCP SYNs instead of UDP")
    ap.add_argument("--src-net", help="spread the sources over this prefix (with --srcs)")
    ap.add_argument("--srcs", type=int, default=1, help="how many sources in --src-net")
    ap.add_argument("--dport", type=int, help="destination port (UDP 9, TCP 80)")
    a = ap.parse_args()
    if a.syn:
        return write_syn(a)

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


def sources(a):
    """The source addresses, packed: --src, or --srcs hosts of --src-net."""
    if not a.src_net:
        return [ipaddress.ip_address(a.src).packed]
    net = ipaddress.ip_network(a.src_net)
    base, out = int(net.network_address), []
    for h in range(a.srcs):
        off = (h // 254) * 256 + h % 254 + 1
        if off >= net.num_addresses - 1:
            sys.exit("gen_pcap.py: %d sources do not fit in %s" % (a.srcs, a.src_net))
        out.append((base + off).to_bytes(4, "big"))
    return out


def write_syn(a):
    net = ipaddress.ip_network(a.dst_net)
    hostbits = 32 - net.prefixlen
    srcs = sources(a)
    dport = a.dport if a.dport is not None else 80
    seen = set()
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(a.count):
            h = (i * 2654435761) & ((1 << hostbits) - 1) if hostbits else 0
            if hostbits >= 8 and (h & 0xFF) in (0, 255):
                h ^= 0x01
            dst = (int(net.network_address) | h).to_bytes(4, "big")
            src = srcs[i % len(srcs)]
            sport = 1024 + i % 60000
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xFFFF, 0x4000, a.ttl, 6, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            tcp = struct.pack("!HHIIBBHHH", sport, dport, (i * 7919) & 0xFFFFFFFF, 0, 5 << 4, 0x02,
                              65535, 0, 0)
            pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
            tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
            frame = a.dst_mac + a.src_mac + b"\x08\x00" + ip + tcp + b"\0" * 6
            assert len(frame) == 60
            seen.add(frame[14:54])
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(frame), len(frame)))
            f.write(frame)
    print("%s: %d TCP SYNs of 60 bytes (64 with FCS), %d distinct, from %d sources to %s port %d"
          % (a.out, a.count, len(seen), len(srcs), a.dst_net, dport))
    return 0


if __name__ == "__main__":
    sys.exit(main())
