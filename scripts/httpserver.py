#!/usr/bin/python3
"""Plain HTTP file server for the demo and the tests.

Like `python3 -m http.server`, but it never does the reverse DNS lookup
(socket.getfqdn) that http.server makes at bind time: inside a test network
namespace there is no resolver and that lookup stalls start-up for seconds.

usage: httpserver.py --bind ADDR --port PORT --directory DIR
                     [--tls-cert PEM --tls-key PEM] [--marker-path PATH]

With --tls-cert/--tls-key it serves HTTPS (the S5 passthrough server and
the reverse-mode backend of the demo).  --marker-path answers that path with
the header `Sluice-E2E: required` (the S5 learned case: a backend asking the
appliance to let this client's TLS through end to end).
"""
import argparse
import functools
import http.server
import socketserver
import ssl
import sys


class Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    # socketserver's listen backlog is 5: 30 parallel TLS handshakes from the
    # appliance overflow it and SYNs are dropped until a connect times out;
    # a real web server listens with 511 (nginx)
    request_queue_size = 511

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port


def handler_class(marker):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def end_headers(self):
            if marker and self.path.split('?')[0] == marker:
                self.send_header('Sluice-E2E', 'required')
            super().end_headers()

        def log_message(self, fmt, *args):
            sys.stdout.write('%s - - %s\n' % (self.client_address[0], fmt % args))
            sys.stdout.flush()
    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--bind', required=True)
    ap.add_argument('--port', type=int, default=8080)
    ap.add_argument('--directory', required=True)
    ap.add_argument('--tls-cert')
    ap.add_argument('--tls-key')
    ap.add_argument('--marker-path')
    a = ap.parse_args()
    handler = functools.partial(handler_class(a.marker_path), directory=a.directory)
    with Server((a.bind, a.port), handler) as srv:
        scheme = 'http'
        if a.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(a.tls_cert, a.tls_key)
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
            scheme = 'https'
        print('serving %s on %s://%s:%d/' % (a.directory, scheme, a.bind, a.port), flush=True)
        try:
            srv.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
