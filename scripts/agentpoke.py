#!/usr/bin/python3
"""A misbehaving agent for the tests: one TLS session to the appliance's
agents listener, then bytes a real agent would never send.

usage: agentpoke.py --host ADDR [--port 443] --ca FILE --cert FILE --key FILE
                    [--alpn sluice-control/1] [--hello] [--send WHAT]...
                    [--wait S] [--keep-stream S]

--send WHAT, in order after the optional HELLO:
  garbage     64 random bytes
  oversized   a frame header announcing a 65535-byte body
  forged-ok   CONNECT_RESULT OK for a request id never sent
  badtype     a frame of type 200
Prints one JSON object: {"handshake": "ok"|error text, "alpn",
"received": [{"type", "code", "text"}...], "closed": true|false}.
--keep-stream S: also open a STREAM session first and report whether it
was still open S seconds after the control session was closed
("stream_survived").
"""
import argparse
import json
import os
import socket
import ssl
import struct
import sys
import time


def frame(t, body):
    return struct.pack('!BBH', t, 0, len(body)) + body


def hello():
    sw = b'agentpoke/1'
    return frame(1, struct.pack('!HHIB', 1, 1, 3, len(sw)) + sw)


def session(a, alpn):
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.check_hostname = False
    ctx.load_cert_chain(a.cert, a.key)
    ctx.set_alpn_protocols([alpn])
    raw = socket.create_connection((a.host, a.port), timeout=10)
    return ctx.wrap_socket(raw)


def read_frames(s, wait):
    out, buf, closed = [], b'', False
    end = time.time() + wait
    s.settimeout(0.2)
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError) as e:
            closed = True
            out.append({'error': str(e)})
            break
        if not d:
            closed = True
            break
        buf += d
        while len(buf) >= 4:
            t, _, n = struct.unpack('!BBH', buf[:4])
            if len(buf) < 4 + n:
                break
            body, buf = buf[4:4 + n], buf[4 + n:]
            m = {'type': t}
            if t == 9 and n >= 3:
                code, tl = struct.unpack('!HB', body[:3])
                m.update(code=code, text=body[3:3 + tl].decode(errors='replace'))
            out.append(m)
    return out, closed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--host', required=True)
    ap.add_argument('--port', type=int, default=443)
    ap.add_argument('--ca', required=True)
    ap.add_argument('--cert', required=True)
    ap.add_argument('--key', required=True)
    ap.add_argument('--alpn', default='sluice-control/1')
    ap.add_argument('--hello', action='store_true')
    ap.add_argument('--send', action='append', default=[])
    ap.add_argument('--wait', type=float, default=3)
    ap.add_argument('--keep-stream', type=float, default=0)
    a = ap.parse_args()
    res = {}
    stream = None
    try:
        if a.keep_stream:
            stream = session(a, 'sluice-stream/1')
        s = session(a, a.alpn)
        res['handshake'] = 'ok'
        res['alpn'] = s.selected_alpn_protocol()
    except (ssl.SSLError, OSError) as e:
        res['handshake'] = str(e)
        print(json.dumps(res))
        return 0
    data = hello() if a.hello else b''
    for w in a.send:
        if w == 'garbage':
            data += os.urandom(64)
        elif w == 'oversized':
            data += struct.pack('!BBH', 6, 0, 65535)
        elif w == 'forged-ok':
            data += frame(6, struct.pack('!IBBH', 12345, 0, 0, 1400))
        elif w == 'badtype':
            data += frame(200, b'')
        else:
            ap.error('unknown --send %s' % w)
    try:
        s.sendall(data)
    except (ssl.SSLError, OSError) as e:
        res['send_error'] = str(e)
    res['received'], res['closed'] = read_frames(s, a.wait)
    if stream is not None:
        time.sleep(a.keep_stream)
        stream.settimeout(0.5)
        try:
            d = stream.recv(1)
            res['stream_survived'] = False if d == b'' else 'data'
        except socket.timeout:
            res['stream_survived'] = True
        except (ssl.SSLError, OSError):
            res['stream_survived'] = False
    print(json.dumps(res))
    return 0


if __name__ == '__main__':
    sys.exit(main())
