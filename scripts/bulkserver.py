#!/usr/bin/python3
"""Bulk-transfer HTTP/1.1 server for the demo, the TCP tests and the benchmark.

usage: bulkserver.py --bind ADDR [--port 9000] [--backlog 65535]

Python 3 standard library only (asyncio), one thread for the sockets, so
thousands of concurrent connections cost a few kB each.  Requests (HTTP/1.1,
keep-alive unless the client says `Connection: close`):

  GET /bytes/N      N bytes of the deterministic stream (N: digits with an
                    optional K, M or G suffix, powers of 1024).  The header
                    X-Sha256 carries the body's sha256 when it is known
                    without delaying the answer (cached, or N <= 64 MiB).
  GET /sha256/N     the hex sha256 of those N bytes and a newline (computed
                    once off the event loop, then cached).
  PUT|POST /upload  the hex sha256 of the request body and a newline.  The
                    body is delimited by Content-Length, by chunked
                    transfer coding, or, with neither, by the client's FIN
                    (it half-closes after the body; the answer follows and
                    the server closes).  `Expect: 100-continue` is honoured.
  GET /hold         no answer: the connection stays open, idle, until the
                    client closes it (idle-connection tests).
  GET /             this text.
  HEAD works like GET for /bytes/N (the head only).

The stream: a 1 MiB block made of SHA-256("sluice-bulk-<i>") digests; block
b of the stream is that block rotated left by (b * 0x9E3779B1) mod 2^20
bytes, a different rotation for each of the first 2^20 blocks (1 TiB).  It is
served as zero-copy slices of a doubled block, so generating it costs
nothing next to the socket calls.  bulkclient.py imports stream() and
stream_sha256() from here.
"""
import argparse
import asyncio
import hashlib
import os
import re
import resource
import socket
import sys

BLOCK = 1 << 20
_MULT = 0x9E3779B1  # odd: b -> b * _MULT mod 2^20 is a bijection
_DOUBLE = None
MAX_SIZE = 1 << 40
INLINE_HASH_MAX = 64 << 20  # hash before answering up to this size (~40 ms)
SIZE_RE = re.compile(r'^([0-9]{1,13})([KMGkmg]?)$')


def _double_block():
    global _DOUBLE
    if _DOUBLE is None:
        blk = b''.join(hashlib.sha256(b'sluice-bulk-%d' % i).digest() for i in range(BLOCK // 32))
        _DOUBLE = memoryview(blk + blk)
    return _DOUBLE


def parse_size(text):
    """'1G' -> 1073741824; None if malformed or above 1 TiB."""
    m = SIZE_RE.match(text)
    if not m:
        return None
    n = int(m.group(1)) << {'': 0, 'K': 10, 'M': 20, 'G': 30}[m.group(2).upper()]
    return n if n <= MAX_SIZE else None


def stream(n, chunk=BLOCK):
    """Yield memoryviews (at most `chunk` bytes) of the first n stream bytes."""
    d = _double_block()
    off = 0
    while off < n:
        b, p = divmod(off, BLOCK)
        k = (b * _MULT) & (BLOCK - 1)
        ln = min(BLOCK - p, n - off, chunk)
        yield d[k + p:k + p + ln]
        off += ln


def stream_sha256(n):
    h = hashlib.sha256()
    for v in stream(n):
        h.update(v)
    return h.hexdigest()


class HashCache:
    """sha256 of stream prefixes, computed once each, off the event loop."""

    def __init__(self):
        self.done = {}
        self.pending = {}

    def known(self, n):
        if n not in self.done and n <= INLINE_HASH_MAX:
            self.done[n] = stream_sha256(n)
        return self.done.get(n)

    async def get(self, n):
        if n in self.done:
            return self.done[n]
        fut = self.pending.get(n)
        if fut is None:
            fut = asyncio.get_running_loop().run_in_executor(None, stream_sha256, n)
            self.pending[n] = fut
        try:
            h = await asyncio.shield(fut)
        finally:
            self.pending.pop(n, None)
        self.done[n] = h
        return h


HASHES = HashCache()
HELP = __doc__[__doc__.index('  GET /bytes/N'):__doc__.index('\nThe stream')].encode()


class BadRequest(Exception):
    pass


def head(status, length=None, extra=(), close=False):
    lines = ['HTTP/1.1 %s' % status, 'Server: sluice-bulkserver']
    if length is not None:
        lines.append('Content-Length: %d' % length)
    lines += list(extra)
    if close:
        lines.append('Connection: close')
    return ('\r\n'.join(lines) + '\r\n\r\n').encode()


async def read_body(reader, writer, hdrs, h):
    """Feed the request body to hash h; return (bytes, delimited_by_eof)."""
    if hdrs.get('expect', '').lower() == '100-continue':
        writer.write(b'HTTP/1.1 100 Continue\r\n\r\n')
        await writer.drain()
    total = 0
    te = hdrs.get('transfer-encoding', '').lower()
    if te:
        if te != 'chunked':
            raise BadRequest('unsupported transfer-encoding %s' % te)
        while True:
            line = await reader.readuntil(b'\r\n')
            try:
                size = int(line.split(b';', 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest('bad chunk size line')
            if size == 0:
                while (await reader.readuntil(b'\r\n')) != b'\r\n':
                    pass  # trailers
                return total, False
            left = size
            while left:
                data = await reader.read(min(left, 1 << 18))
                if not data:
                    raise BadRequest('EOF inside a chunk')
                h.update(data)
                left -= len(data)
            total += size
            if await reader.readexactly(2) != b'\r\n':
                raise BadRequest('chunk not followed by CRLF')
    if 'content-length' in hdrs:
        try:
            left = int(hdrs['content-length'])
        except ValueError:
            raise BadRequest('bad content-length')
        if left < 0:
            raise BadRequest('bad content-length')
        while left:
            data = await reader.read(min(left, 1 << 18))
            if not data:
                raise BadRequest('EOF %d bytes before the end of the body' % left)
            await asyncio.sleep(0)  # fairness, as in send_stream
            h.update(data)
            left -= len(data)
            total += len(data)
        return total, False
    # Neither: the body ends with the client's FIN (half-close).
    while True:
        data = await reader.read(1 << 18)
        if not data:
            return total, True
        h.update(data)
        total += len(data)


async def send_stream(writer, n):
    for v in stream(n):
        writer.write(v)
        await writer.drain()
        # drain() does not suspend while the socket takes everything: give
        # the other connections a turn after each 1 MiB block
        await asyncio.sleep(0)


async def handle(reader, writer):
    sock = writer.get_extra_info('socket')
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    writer.transport.set_write_buffer_limits(high=1 << 20)
    try:
        while True:
            try:
                raw = await reader.readuntil(b'\r\n\r\n')
            except asyncio.IncompleteReadError:
                return  # clean EOF between requests
            lines = raw.decode('latin-1').split('\r\n')
            parts = lines[0].split()
            if len(parts) != 3 or not parts[2].startswith('HTTP/1.'):
                raise BadRequest('bad request line %r' % lines[0][:80])
            method, target, version = parts
            hdrs = {}
            for ln in lines[1:]:
                if ln:
                    k, sep, v = ln.partition(':')
                    if not sep:
                        raise BadRequest('bad header line')
                    hdrs[k.strip().lower()] = v.strip()
            close = version == 'HTTP/1.0' or hdrs.get('connection', '').lower() == 'close'
            path = target.split('?', 1)[0]

            if method in ('PUT', 'POST'):
                h = hashlib.sha256()
                n, by_eof = await read_body(reader, writer, hdrs, h)
                body = (h.hexdigest() + '\n').encode()
                close = close or by_eof
                writer.write(head('200 OK', len(body), ['Content-Type: text/plain', 'X-Bytes: %d' % n],
                                  close) + body)
                await writer.drain()
            elif method not in ('GET', 'HEAD'):
                body = b'method not allowed\n'
                writer.write(head('405 Method Not Allowed', len(body), close=True) + body)
                await writer.drain()
                return
            elif path.startswith('/bytes/'):
                n = parse_size(path[len('/bytes/'):])
                if n is None:
                    raise BadRequest('bad size in %s' % path)
                extra = ['Content-Type: application/octet-stream']
                sha = HASHES.known(n)
                if sha:
                    extra.append('X-Sha256: ' + sha)
                writer.write(head('200 OK', n, extra, close))
                if method == 'GET':
                    await send_stream(writer, n)
            elif path.startswith('/sha256/'):
                n = parse_size(path[len('/sha256/'):])
                if n is None:
                    raise BadRequest('bad size in %s' % path)
                body = (await HASHES.get(n) + '\n').encode()
                writer.write(head('200 OK', len(body), ['Content-Type: text/plain'], close) + body)
                await writer.drain()
            elif path == '/hold':
                while await reader.read(1 << 16):
                    pass  # say nothing; end when the client does
                return
            elif path == '/':
                writer.write(head('200 OK', len(HELP), ['Content-Type: text/plain'], close) + HELP)
                await writer.drain()
            else:
                body = b'not found\n'
                writer.write(head('404 Not Found', len(body), close=close) + body)
                await writer.drain()
            if close:
                return
    except BadRequest as e:
        body = ('%s\n' % e).encode()
        try:
            writer.write(head('400 Bad Request', len(body), close=True) + body)
            await writer.drain()
        except OSError:
            pass
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass  # the peer went away (reset, or EOF mid-request): nothing to answer
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        want = int(open('/proc/sys/fs/nr_open').read())
    except OSError:
        want = hard
    for lim in ((want, want), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, lim)
            return lim[0]
        except (ValueError, OSError):
            continue
    return soft


async def serve(a):
    _double_block()
    srv = await asyncio.start_server(handle, a.bind, a.port, backlog=a.backlog,
                                     reuse_address=True, limit=1 << 16)
    print('bulkserver: listening on %s:%d (fd limit %d, pid %d)'
          % (a.bind, a.port, raise_nofile(), os.getpid()), flush=True)
    async with srv:
        await srv.serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--bind', required=True)
    ap.add_argument('--port', type=int, default=9000)
    ap.add_argument('--backlog', type=int, default=65535)
    a = ap.parse_args()
    try:
        asyncio.run(serve(a))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
