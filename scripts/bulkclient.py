#!/usr/bin/python3
"""Client for scripts/bulkserver.py: bulk transfers and idle connections.

usage: bulkclient.py [--host H] [--port P] [options] download|upload|hold

  download  GET /bytes/SIZE on each of --conns connections; the received
            body's sha256 must equal the stream's (GET /sha256/SIZE asked
            first on its own connection, or --expect-local), and the server's
            FIN must follow the body (Connection: close).  --half-close:
            shutdown(SHUT_WR) right after the request.
  upload    PUT /upload with SIZE bytes of the same stream on each
            connection (Content-Length; --chunked; or --half-close: no
            length, shutdown(SHUT_WR) after the body); the server's answer
            must be the stream's sha256.
  hold      GET /hold on each of --conns connections, then stay idle for
            --seconds (or until SIGTERM/SIGINT); every connection must still
            be open at the end (no FIN, no RST from the other side).

All connections are opened first (at most --parallel connects in flight);
requests start only when every connect has finished, so --conns really are
concurrent.  --ready-file is created at that moment (hold: once every
request is sent), then the client waits --pause seconds before requesting.
--stall S waits S seconds after sending a download request before reading
anything (a stalled reader).  --inflight K lets at most K transfers run at
once while the other connections wait, open and idle.

The result is one JSON object on stdout (and in --json-out): mode, conns,
ok, failed, bytes, seconds (transfer phase), connect_seconds, mbit_s,
sha256_match (every transfer complete and equal), expected, errors (message
-> count), failures (the first ten failed transfers: local port, phase,
body bytes moved, error, and the kernel's view from TCP_INFO: state, ms
since data last came, bytes received and acknowledged -- to find the
connection in `show flows` and tell a lost FIN from a stalled stream).  Exit status 0 when every connection succeeded, 1 otherwise.
The fd limit is raised to the hard limit (or fs.nr_open when allowed).
"""
import argparse
import asyncio
import hashlib
import json
import os
import resource
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bulkserver  # noqa: E402  (the stream generator)

RECV = 1 << 18
TCP_STATES = {1: 'ESTABLISHED', 2: 'SYN_SENT', 3: 'SYN_RECV', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2',
              6: 'TIME_WAIT', 7: 'CLOSE', 8: 'CLOSE_WAIT', 9: 'LAST_ACK', 10: 'LISTEN', 11: 'CLOSING'}


def kernel_view(sock):
    """What the client's kernel knows about a socket (struct tcp_info)."""
    try:
        ti = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 136)
    except OSError:
        return {}
    if len(ti) < 136:
        return {}
    last_data_recv, = struct.unpack_from('I', ti, 52)
    total_retrans, = struct.unpack_from('I', ti, 100)
    bytes_acked, bytes_received = struct.unpack_from('QQ', ti, 120)
    return {'kernel_state': TCP_STATES.get(ti[0], ti[0]), 'ms_since_data': last_data_recv,
            'kernel_bytes_received': bytes_received, 'kernel_bytes_acked': bytes_acked,
            'retransmitted': total_retrans}


class Fail(Exception):
    pass


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        nr_open = int(open('/proc/sys/fs/nr_open').read())
    except OSError:
        nr_open = hard
    for lim in ((nr_open, nr_open), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, lim)
            soft = lim[0]
            break
        except (ValueError, OSError):
            continue
    if soft < need:
        sys.exit('bulkclient: need %d file descriptors, the limit is %d' % (need, soft))
    return soft


class Conn:
    def __init__(self, loop, sock):
        self.loop = loop
        self.sock = sock
        self.buf = bytearray(RECV)
        self.mv = memoryview(self.buf)
        self.pending = b''  # bytes read past the response head
        self.phase = 'connected'  # where a transfer is, for the timeout report
        self.moved = 0            # body bytes received or sent so far

    async def send(self, data):
        await self.loop.sock_sendall(self.sock, data)

    async def recv_into(self):
        if self.pending:
            n = len(self.pending)
            self.buf[:n] = self.pending
            self.pending = b''
            return n
        return await self.loop.sock_recv_into(self.sock, self.buf)

    async def read_head(self):
        """Read an HTTP response head (skipping 100 Continue); return (status, headers)."""
        data, self.pending = self.pending, b''
        while True:
            while b'\r\n\r\n' not in data:
                n = await self.loop.sock_recv_into(self.sock, self.buf)
                if n == 0:
                    raise Fail('EOF before the response head')
                data += bytes(self.mv[:n])
                if len(data) > 65536 + RECV:
                    raise Fail('response head too long')
            raw, _, data = data.partition(b'\r\n\r\n')
            lines = raw.decode('latin-1').split('\r\n')
            parts = lines[0].split(None, 2)
            if len(parts) < 2 or not parts[1].isdigit():
                raise Fail('bad status line %r' % lines[0][:60])
            if int(parts[1]) == 100:
                continue
            hdrs = {}
            for ln in lines[1:]:
                k, _, v = ln.partition(':')
                hdrs[k.strip().lower()] = v.strip()
            self.pending = data
            return int(parts[1]), hdrs

    async def read_body(self, n, h):
        left = n
        calls = 0
        while left:
            calls += 1
            if calls % 32 == 0:
                # sock_recv_into does not suspend while data is there: let
                # the other connections (and the timeouts) have a turn
                await asyncio.sleep(0)
            got = await self.recv_into()
            if got == 0:
                raise Fail('EOF %d bytes before the end of the body' % left)
            if got > left:
                raise Fail('%d bytes more than Content-Length' % (got - left))
            h.update(self.mv[:got])
            left -= got
            self.moved += got
        return n

    async def expect_eof(self, timeout):
        try:
            got = await asyncio.wait_for(self.recv_into(), timeout)
        except asyncio.TimeoutError:
            raise Fail('no FIN within %gs after the response' % timeout)
        if got:
            raise Fail('%d unexpected bytes after the response' % got)


def request(method, path, host, extra=()):
    lines = ['%s %s HTTP/1.1' % (method, path), 'Host: %s' % host, 'User-Agent: sluice-bulkclient']
    lines += list(extra)
    return ('\r\n'.join(lines) + '\r\n\r\n').encode()


SOURCE = None  # --source: the local address of every connection


async def connect(loop, host, port, timeout):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        if SOURCE:
            sock.bind((SOURCE, 0))
        await asyncio.wait_for(loop.sock_connect(sock, (host, port)), timeout)
    except BaseException:
        sock.close()
        raise
    return sock


async def fetch_expected(loop, a):
    if a.expect_local:
        return await loop.run_in_executor(None, bulkserver.stream_sha256, a.size)
    sock = await connect(loop, a.host, a.port, a.connect_timeout)
    try:
        c = Conn(loop, sock)
        await c.send(request('GET', '/sha256/%d' % a.size, a.host, ['Connection: close']))
        st, hdrs = await asyncio.wait_for(c.read_head(), 120)
        if st != 200:
            raise Fail('GET /sha256/%d: status %d' % (a.size, st))
        h = _Collect()
        await asyncio.wait_for(c.read_body(int(hdrs.get('content-length', '65')), h), 30)
        return h.data.decode().strip()
    finally:
        sock.close()


class _Collect:
    def __init__(self):
        self.data = b''

    def update(self, b):
        self.data += bytes(b)


async def do_download(c, a, expected):
    c.phase = 'request'
    await c.send(request('GET', '/bytes/%d' % a.size, a.host, ['Connection: close']))
    if a.half_close:
        c.sock.shutdown(socket.SHUT_WR)
    if a.stall:
        await asyncio.sleep(a.stall)
    c.phase = 'response head'
    st, hdrs = await c.read_head()
    if st != 200:
        raise Fail('status %d' % st)
    c.phase = 'body'
    if int(hdrs.get('content-length', -1)) != a.size:
        raise Fail('Content-Length %s, asked for %d' % (hdrs.get('content-length'), a.size))
    h = hashlib.sha256()
    await c.read_body(a.size, h)
    got = h.hexdigest()
    if 'x-sha256' in hdrs and hdrs['x-sha256'] != expected:
        raise Fail('server X-Sha256 %s differs from the expected %s' % (hdrs['x-sha256'], expected))
    if got != expected:
        raise Fail('sha256 mismatch')
    c.phase = 'FIN after the body'
    await c.expect_eof(a.fin_timeout)
    return a.size


async def do_upload(c, a, expected):
    extra = ['Connection: close', 'Content-Type: application/octet-stream']
    if a.chunked:
        extra.append('Transfer-Encoding: chunked')
    elif not a.half_close:
        extra.append('Content-Length: %d' % a.size)
    c.phase = 'request body'
    await c.send(request('PUT', '/upload', a.host, extra))
    for v in bulkserver.stream(a.size):
        if a.chunked:
            await c.send(b'%x\r\n' % len(v))
            await c.send(v)
            await c.send(b'\r\n')
        else:
            await c.send(v)
        c.moved += len(v)
        await asyncio.sleep(0)  # the same for sending (1 MiB per block)
    if a.chunked:
        await c.send(b'0\r\n\r\n')
    if a.half_close:
        c.sock.shutdown(socket.SHUT_WR)
    c.phase = 'response head'
    st, hdrs = await c.read_head()
    if st != 200:
        raise Fail('status %d' % st)
    c.phase = 'response body'
    h = _Collect()
    await c.read_body(int(hdrs.get('content-length', '65')), h)
    got = h.data.decode().strip()
    if got != expected:
        raise Fail('server received a body with sha256 %s, sent %s' % (got, expected))
    if hdrs.get('x-bytes') not in (None, str(a.size)):
        raise Fail('server received %s bytes, sent %d' % (hdrs.get('x-bytes'), a.size))
    c.phase = 'FIN after the response'
    await c.expect_eof(a.fin_timeout)
    return a.size


async def run(a):
    loop = asyncio.get_running_loop()
    res = {'mode': a.mode, 'host': a.host, 'port': a.port, 'conns': a.conns,
           'size': a.size if a.mode != 'hold' else 0, 'ok': 0, 'failed': 0, 'bytes': 0,
           'seconds': 0.0, 'connect_seconds': 0.0, 'mbit_s': 0.0, 'sha256_match': False,
           'expected': None, 'errors': {}, 'failures': []}
    errors = res['errors']

    def err(e):
        msg = str(e) or type(e).__name__
        if isinstance(e, OSError) and e.errno:
            msg = '%s (errno %s)' % (os.strerror(e.errno), e.errno)
        if isinstance(e, asyncio.TimeoutError):
            msg = 'timeout'
        errors[msg] = errors.get(msg, 0) + 1
        res['failed'] += 1

    expected = None
    if a.mode in ('download', 'upload'):
        try:
            expected = await fetch_expected(loop, a)
        except (OSError, Fail, asyncio.TimeoutError) as e:
            err(e)
            res['errors'] = {'expected sha256: ' + k: v for k, v in errors.items()}
            res['failed'] = a.conns
            return res
        res['expected'] = expected

    # Phase 1: every connection opened before any request.
    sem = asyncio.Semaphore(a.parallel)
    conns = []

    async def open_one():
        async with sem:
            try:
                conns.append(Conn(loop, await connect(loop, a.host, a.port, a.connect_timeout)))
            except (OSError, asyncio.TimeoutError) as e:
                err(e)

    t0 = time.monotonic()
    await asyncio.gather(*(open_one() for _ in range(a.conns)))
    res['connect_seconds'] = round(time.monotonic() - t0, 3)
    print('bulkclient: %d of %d connections open in %.2fs' % (len(conns), a.conns, res['connect_seconds']),
          file=sys.stderr, flush=True)

    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)

    if a.mode == 'hold':
        closed = []

        async def hold_one(c):
            try:
                await c.send(request('GET', '/hold', a.host))
            except OSError as e:
                closed.append(c)
                err(e)
                return
            try:
                n = await c.recv_into()
                err(Fail('the connection was closed during the hold' if n == 0
                         else 'unexpected data during the hold'))
            except OSError as e:
                err(e)
            closed.append(c)

        tasks = [asyncio.ensure_future(hold_one(c)) for c in conns]
        await asyncio.sleep(0.2)
        if a.ready_file:
            open(a.ready_file, 'w').write('%d\n' % len(conns))
        print('bulkclient: holding %d connections' % len(conns), file=sys.stderr, flush=True)
        t1 = time.monotonic()
        try:
            await asyncio.wait_for(stop.wait(), a.seconds if a.seconds > 0 else None)
        except asyncio.TimeoutError:
            pass
        res['seconds'] = round(time.monotonic() - t1, 3)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        res['ok'] = len(conns) - len(closed)
        for c in conns:
            c.sock.close()
        res['sha256_match'] = None
        return res

    if a.ready_file:
        open(a.ready_file, 'w').write('%d\n' % len(conns))
    if a.pause:
        try:
            await asyncio.wait_for(stop.wait(), a.pause)
        except asyncio.TimeoutError:
            pass

    work = do_download if a.mode == 'download' else do_upload
    inflight = asyncio.Semaphore(a.inflight or len(conns) or 1)

    async def one(c):
        try:
            async with inflight:
                n = await asyncio.wait_for(work(c, a, expected), a.timeout)
            res['bytes'] += n
            res['ok'] += 1
        except (OSError, Fail, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            err(e)
            if len(res['failures']) < 10:
                try:
                    lport = c.sock.getsockname()[1]
                except OSError:
                    lport = None
                f = {'local_port': lport, 'phase': c.phase, 'body_bytes': c.moved,
                     'error': str(e) or type(e).__name__}
                f.update(kernel_view(c.sock))
                res['failures'].append(f)
        finally:
            c.sock.close()

    t1 = time.monotonic()
    await asyncio.gather(*(one(c) for c in conns))
    dt = time.monotonic() - t1
    res['seconds'] = round(dt, 3)
    res['mbit_s'] = round(res['bytes'] * 8 / dt / 1e6, 1) if dt > 0 else 0.0
    res['sha256_match'] = res['ok'] == a.conns and res['failed'] == 0
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split('\n\n', 1)[1])
    ap.add_argument('mode', choices=('download', 'upload', 'hold'))
    ap.add_argument('--host', default='198.19.0.10')
    ap.add_argument('--source', help='local address to connect from (default: the kernel\'s choice)')
    ap.add_argument('--port', type=int, default=9000)
    ap.add_argument('--size', default='1M', help='bytes, optional K/M/G suffix (powers of 1024)')
    ap.add_argument('--conns', type=int, default=1)
    ap.add_argument('--parallel', type=int, default=256, help='connects in flight at once')
    ap.add_argument('--inflight', type=int, default=0,
                    help='transfers in progress at once (0: all); the other connections wait open')
    ap.add_argument('--chunked', action='store_true')
    ap.add_argument('--half-close', action='store_true')
    ap.add_argument('--expect-local', action='store_true', help='compute the expected sha256 here')
    ap.add_argument('--pause', type=float, default=0, help='seconds between all-connected and the requests')
    ap.add_argument('--stall', type=float, default=0, help='download: seconds before reading anything')
    ap.add_argument('--seconds', type=float, default=0, help='hold: how long (0: until a signal)')
    ap.add_argument('--timeout', type=float, default=600, help='per transfer')
    ap.add_argument('--connect-timeout', type=float, default=30)
    ap.add_argument('--fin-timeout', type=float, default=10)
    ap.add_argument('--ready-file')
    ap.add_argument('--json-out')
    a = ap.parse_args()
    global SOURCE
    SOURCE = a.source
    n = bulkserver.parse_size(a.size)
    if n is None:
        ap.error('bad --size %r' % a.size)
    a.size = n
    if a.chunked and a.half_close:
        ap.error('--chunked and --half-close exclude each other')
    raise_nofile(a.conns + 64)
    res = asyncio.run(run(a))
    out = json.dumps(res, sort_keys=True)
    print(out, flush=True)
    if a.json_out:
        with open(a.json_out + '.tmp', 'w') as f:
            f.write(out + '\n')
        os.rename(a.json_out + '.tmp', a.json_out)
    return 0 if res['failed'] == 0 and res['ok'] == a.conns else 1


if __name__ == '__main__':
    sys.exit(main())
