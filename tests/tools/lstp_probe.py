"""An LSTP end's clear phase, byte by byte, for tests of a middle proxy.

Written from docs/lstp.md (the wire format of include/sluice/lstp_proto.h)
so that the appliance's middle is checked against an independent encoder:
8-byte header (version, type, body length, channel; big-endian), then the
body.  Used by tests/integration/test_lstp_middle.sh through heredocs:

    sys.path.insert(0, TOOLS); import lstp_probe as lp
    s = lp.end("198.18.0.1", 7443, b"pair-1", "alice", lp.CLIENT, src="198.18.0.2")
    info, topo = lp.read_setup(s)     # the peer's, with the middle's entry appended
"""
import os
import socket
import struct

VERSION = 1
COMMON_UNIQUE_INFO, TOPOLOGY_EXCHANGE, ERROR = 1, 2, 15
CLIENT, SERVER, MIDDLE = 1, 2, 3
ERR_NAMES = {1: "MALFORMED", 2: "OVERSIZED", 3: "UNKNOWN_TYPE", 4: "UNEXPECTED",
             5: "VERSION", 6: "MISMATCH", 7: "REFUSED", 8: "EXPIRED", 9: "AUTH",
             10: "CHANNEL", 11: "INTERNAL"}


def frame(mtype, body, channel=0, version=VERSION):
    return struct.pack("!BBHI", version, mtype, len(body), channel) + body


def info(common, unique=b""):
    return frame(COMMON_UNIQUE_INFO, bytes([len(common)]) + common + bytes([len(unique)]) + unique)


def hop(role, name, addr="0.0.0.0", port=0, nonce=None):
    n = name.encode()
    return (bytes([role, len(n)]) + n + socket.inet_aton(addr) + struct.pack("!H", port)
            + (nonce if nonce is not None else os.urandom(8)))


def topology(*hops):
    return frame(TOPOLOGY_EXCHANGE, bytes([len(hops)]) + b"".join(hops))


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("closed after %d of %d bytes" % (len(b), n))
        b += c
    return b


def read_msg(s):
    """(type, channel, body) of the next message."""
    v, t, n, ch = struct.unpack("!BBHI", recv_exact(s, 8))
    if v != VERSION:
        raise ValueError("version %d" % v)
    return t, ch, recv_exact(s, n)


def parse_info(body):
    cl = body[0]
    common = body[1:1 + cl]
    ul = body[1 + cl]
    return common, body[2 + cl:2 + cl + ul]


def parse_topology(body):
    """[(role, name, addr, port, nonce), ...]"""
    hops, off = [], 1
    for _ in range(body[0]):
        role, nl = body[off], body[off + 1]
        name = body[off + 2:off + 2 + nl].decode()
        off += 2 + nl
        addr = socket.inet_ntoa(body[off:off + 4])
        port, = struct.unpack("!H", body[off + 4:off + 6])
        hops.append((role, name, addr, port, body[off + 6:off + 14]))
        off += 14
    return hops


def parse_error(body):
    code, n = struct.unpack("!HB", body[:3])
    return ERR_NAMES.get(code, str(code)), body[3:3 + n].decode(errors="replace")


def connect(addr, port, src=None, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((addr, port))
    return s


def end(addr, port, common, name, role, src=None, unique=b"", timeout=10):
    """Connect and send the setup of an end."""
    s = connect(addr, port, src, timeout)
    s.sendall(info(common, unique) + topology(hop(role, name, src or "0.0.0.0")))
    return s


def read_setup(s):
    """The peer's setup as the middle delivers it: ((common, unique), hops);
    an ERROR instead raises RuntimeError("ERROR CODE: text")."""
    t, _, body = read_msg(s)
    if t == ERROR:
        raise RuntimeError("ERROR %s: %s" % parse_error(body))
    if t != COMMON_UNIQUE_INFO:
        raise ValueError("type %d first" % t)
    i = parse_info(body)
    t, _, body = read_msg(s)
    if t != TOPOLOGY_EXCHANGE:
        raise ValueError("type %d second" % t)
    return i, parse_topology(body)


def read_error(s):
    """The ERROR the middle sends before it closes: (code name, text)."""
    t, _, body = read_msg(s)
    if t != ERROR:
        raise ValueError("type %d instead of ERROR" % t)
    return parse_error(body)


def _pairend(a):
    """One end of a pair: setup, the peer's setup, then `size` bytes each
    way at once; one JSON line with what it saw and the two sha256."""
    import hashlib
    import json
    import sys
    import threading
    s = end(a.addr, a.port, a.common.encode(), a.name, {"client": CLIENT, "server": SERVER}[a.role],
            src=a.src, unique=a.unique.encode(), timeout=a.timeout)
    try:
        (common, unique), hops = read_setup(s)
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        print(json.dumps({"error": str(e)}))
        sys.stdout.flush()
        return 0
    out = {"peer_common": common.decode(errors="replace"), "peer_unique": unique.decode(errors="replace"),
           "topology": [{"role": h[0], "name": h[1], "addr": h[2], "port": h[3]} for h in hops]}
    print(json.dumps(out))
    sys.stdout.flush()
    if a.size == 0:
        if a.hold:
            try:
                while s.recv(65536):
                    pass
            except OSError:
                pass
        return 0
    tx, rx, got = hashlib.sha256(), hashlib.sha256(), [0]
    s.settimeout(a.timeout)

    def reader():
        while got[0] < a.size:
            b = s.recv(min(1 << 16, a.size - got[0]))
            if not b:
                break
            rx.update(b)
            got[0] += len(b)
    t = threading.Thread(target=reader)
    t.start()
    block = hashlib.sha256(a.name.encode()).digest() * 2048  # 64 KiB, known to both
    left = a.size
    while left:
        b = block[:min(left, len(block))]
        s.sendall(b)
        tx.update(b)
        left -= len(b)
    t.join()
    print(json.dumps({"sent": a.size, "sent_sha": tx.hexdigest(), "received": got[0],
                      "received_sha": rx.hexdigest()}))
    s.close()
    return 0


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description="an LSTP end's clear phase, then raw bytes")
    p.add_argument("--addr", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--src")
    p.add_argument("--common", required=True)
    p.add_argument("--unique", default="")
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=["client", "server"], default="client")
    p.add_argument("--size", type=int, default=0, help="bytes each way after pairing")
    p.add_argument("--hold", action="store_true", help="with --size 0: stay until closed")
    p.add_argument("--timeout", type=float, default=20)
    raise SystemExit(_pairend(p.parse_args()))
