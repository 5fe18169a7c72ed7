#!/usr/bin/python3
"""Plain HTTP file server for the demo and the tests.

Like `python3 -m http.server`, but it never does the reverse DNS lookup
(socket.getfqdn) that http.server makes at bind time: inside a test network
namespace there is no resolver and that lookup stalls start-up for seconds.

usage: httpserver.py --bind ADDR --port PORT --directory DIR
"""
import argparse
import functools
import http.server
import socketserver
import sys


class Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--bind', required=True)
    ap.add_argument('--port', type=int, default=8080)
    ap.add_argument('--directory', required=True)
    a = ap.parse_args()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=a.directory)
    with Server((a.bind, a.port), handler) as srv:
        print('serving %s on http://%s:%d/' % (a.directory, a.bind, a.port), flush=True)
        try:
            srv.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
