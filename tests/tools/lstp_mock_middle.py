"""A second LSTP middle for cascade tests: as docs/lstp.md has a middle do
it, written apart from the appliance's.  It stores each connection's setup
until another presents the same common information, sends each the other's
COMMON_UNIQUE_INFO and TOPOLOGY_EXCHANGE with its own entry appended, then
relays bytes both ways.

    lstp_mock_middle.py --bind ADDR --port PORT --name NAME
"""
import argparse
import os
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lstp_probe as lp  # noqa: E402


def frame(s):
    h = lp.recv_exact(s, 8)
    return h + lp.recv_exact(s, struct.unpack("!H", h[2:4])[0])


def pump(a, b):
    try:
        while True:
            x = a.recv(65536)
            if not x:
                break
            b.sendall(x)
        b.shutdown(socket.SHUT_WR)
    except OSError:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", required=True)
    a = p.parse_args()
    me = lp.hop(lp.MIDDLE, a.name, a.bind, a.port)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(64)
    waiting, lock = {}, threading.Lock()
    print("listening", flush=True)

    def deliver(info, topo):
        body = bytearray(topo[8:])
        body[0] += 1
        body += me
        return info + topo[:2] + struct.pack("!H", len(body)) + topo[4:8] + bytes(body)

    def conn(c):
        try:
            info, topo = frame(c), frame(c)
        except (OSError, EOFError):
            c.close()
            return
        common = lp.parse_info(info[8:])[0]
        with lock:
            other = waiting.pop(common, None)
            if other is None:
                waiting[common] = (c, info, topo)
                return
        o, oinfo, otopo = other
        o.sendall(deliver(info, topo))
        c.sendall(deliver(oinfo, otopo))
        threading.Thread(target=pump, args=(o, c), daemon=True).start()
        pump(c, o)

    while True:
        c, _ = ls.accept()
        threading.Thread(target=conn, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
