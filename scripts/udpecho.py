#!/usr/bin/python3
"""UDP echo (RFC 862) for the agent sites: every datagram goes back to its
sender, byte for byte, whatever its size.

usage: udpecho.py --bind ADDR [--port 7]
"""
import argparse
import socket


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, default=7)
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.bind, a.port))
    print("udpecho: on %s:%d" % (a.bind, a.port), flush=True)
    while True:
        d, peer = s.recvfrom(65535)
        try:
            s.sendto(d, peer)
        except OSError:
            pass


if __name__ == "__main__":
    main()
