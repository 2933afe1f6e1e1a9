#!/usr/bin/env python3
"""Hold many idle TCP connections open against a server, for bench/run.sh's memory scenario.

Each connection is a fresh TCP connection that sends nothing (so errgate's header_read_timeout
is the only thing that would close it). The client opens them (up to --parallel connects in
flight, so one SYN dropped by a full listen backlog does not stall the rest), writes a ready file,
holds them until --release-file appears or --hold seconds pass, then reports how many the server
closed meanwhile and exits. Everything is bounded: connect timeouts, the hold, and a hard
--deadline for the whole process.
"""

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import sys
import time


def raise_nofile(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def open_all(host, port, count, parallel, budget):
    """Opens `count` connections, `parallel` at a time, within `budget` seconds."""
    loop = asyncio.get_running_loop()
    socks, failed = [], 0
    gate = asyncio.Semaphore(parallel)

    async def one():
        nonlocal failed
        async with gate:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                await asyncio.wait_for(loop.sock_connect(s, (host, port)), timeout=5)
            except (OSError, asyncio.TimeoutError):
                failed += 1
                s.close()
                return
            socks.append(s)

    tasks = [asyncio.ensure_future(one()) for _ in range(count)]
    done, pending = await asyncio.wait(tasks, timeout=budget)
    for t in pending:
        t.cancel()
    failed += len(pending)
    return socks, failed


def closed_by_peer(socks):
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass  # still open, nothing to read: what we want
        except OSError:
            closed += 1
    return closed


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--hold", type=float, default=30.0,
                    help="longest hold in seconds (ends sooner when --release-file appears)")
    ap.add_argument("--parallel", type=int, default=256, help="connects in flight at once")
    ap.add_argument("--deadline", type=float, default=90.0, help="hard limit for the process")
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--release-file", help="close the connections as soon as this exists")
    args = ap.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("idle_conns.py only targets loopback")
    # Hard stop whatever happens (SIGALRM's default action ends the process).
    signal.alarm(int(args.deadline))
    start = time.monotonic()
    limit = raise_nofile(args.count + 64)
    socks, failed = asyncio.run(
        open_all(args.host, args.port, args.count, args.parallel, args.deadline / 3))
    opened_in = time.monotonic() - start
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"opened": len(socks), "failed": failed, "seconds": round(opened_in, 2),
                   "nofile": limit}, f)
    os.replace(tmp, args.ready_file)
    hold_until = min(time.monotonic() + args.hold, start + args.deadline - 5)
    while time.monotonic() < hold_until:
        if args.release_file and os.path.exists(args.release_file):
            break
        time.sleep(0.1)
    held = time.monotonic() - start - opened_in
    closed = closed_by_peer(socks)
    for s in socks:
        s.close()
    print(json.dumps({"opened": len(socks), "failed": failed, "closed_by_server": closed,
                      "held_seconds": round(held, 2)}))


if __name__ == "__main__":
    main()
