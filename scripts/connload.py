#!/usr/bin/python3
"""Connection-rate load: short HTTP/1.0 requests, N at a time, for T seconds.

usage: connload.py --host ADDR --port PORT [--concurrency 32] [--seconds 10]
                   [--warmup 1] [--path /] [--expect TEXT] [--timeout 5]
                   [--json-out FILE]

Each of --concurrency workers (asyncio, one thread) loops: connect, send
`GET PATH HTTP/1.0`, read the whole answer until the server closes, close.
A request counts when the status line says 200 and, with --expect, the body
contains TEXT.  Requests completed during the first --warmup seconds are not
counted; then the count runs for --seconds.  The result (one JSON object,
also printed): ok, errors (by kind), seconds, per_s, and connect+request
latency percentiles in ms.  Exit status 0 when at least one request
succeeded and none failed.
"""
import argparse
import asyncio
import json
import sys
import time


async def one(host, port, req, expect, timeout):
    t0 = time.monotonic()
    w = None
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        w.write(req)
        data = await asyncio.wait_for(r.read(), timeout)
    finally:
        if w is not None:
            w.close()
    if not data.startswith(b"HTTP/1.") or data.split(b" ", 2)[1:2] != [b"200"]:
        raise ValueError("status " + data[:32].decode("latin-1", "replace"))
    if expect and expect not in data:
        raise ValueError("body without the expected text")
    return time.monotonic() - t0


async def worker(a, req, expect, st):
    while not st["stop"]:
        try:
            lat = await one(a.host, a.port, req, expect, a.timeout)
        except (OSError, asyncio.TimeoutError, ValueError) as e:
            if st["counting"]:
                k = type(e).__name__ if not isinstance(e, ValueError) else str(e)
                st["errors"][k] = st["errors"].get(k, 0) + 1
            continue
        if st["counting"]:
            st["ok"] += 1
            st["lat"].append(lat)


async def run(a):
    req = ("GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: connload\r\n\r\n" % (a.path, a.host)).encode()
    expect = a.expect.encode() if a.expect else None
    st = {"stop": False, "counting": False, "ok": 0, "errors": {}, "lat": []}
    tasks = [asyncio.create_task(worker(a, req, expect, st)) for _ in range(a.concurrency)]
    await asyncio.sleep(a.warmup)
    st["counting"] = True
    t0 = time.monotonic()
    await asyncio.sleep(a.seconds)
    st["counting"] = False
    t1 = time.monotonic()
    st["stop"] = True
    await asyncio.wait(tasks, timeout=a.timeout + 1)
    for t in tasks:
        t.cancel()
    lat = sorted(st["lat"])

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2) if lat else None

    return {
        "host": a.host, "port": a.port, "concurrency": a.concurrency,
        "ok": st["ok"], "errors": st["errors"], "failed": sum(st["errors"].values()),
        "seconds": round(t1 - t0, 3), "per_s": round(st["ok"] / (t1 - t0), 1),
        "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "max": pct(1.0)},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--path", default="/")
    ap.add_argument("--expect")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--json-out")
    a = ap.parse_args()
    res = asyncio.run(run(a))
    out = json.dumps(res)
    print(out)
    if a.json_out:
        with open(a.json_out, "w") as f:
            f.write(out + "\n")
    return 0 if res["ok"] > 0 and res["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
