#!/usr/bin/env python3
"""Summarises `perf script -F comm,tid,ip,sym` output (DWARF call graphs) of errgate.

Prints where the CPU goes: kernel vs user, inclusive shares of the things worth optimising
(syscalls, access log, allocation, copies, hyper, tokio, errgate's own code) and the user-space
self time by crate. Used by bench/run.sh with PROFILE=1.
"""

import collections
import re
import sys

# (label, regex on any frame of the stack): a sample counts once per bucket; buckets overlap.
BUCKETS = [
    ("writev: response to client + request to upstream (kernel send path incl. loopback)",
     r"__GI___writev"),
    ("recv: request from client + response from upstream", r"__libc_recv"),
    ("write: access log line to stdout", r"__GI___libc_write"),
    ("epoll_wait", r"epoll_wait"),
    ("access log total (AccessLog::drop -> tracing JSON -> write)", r"AccessLog"),
    ("  tracing-subscriber JSON formatting", r"FormatEvent"),
    ("  timestamp formatting", r"FormatTime"),
    ("malloc/free/realloc", r"malloc|_int_free|cfree|__libc_free|realloc|unlink_chunk|consolidate"),
    ("memset (ClientIo::poll_read zeroes the read buffer)", r"memset"),
    ("memcpy/memmove", r"memmove|memcpy"),
    ("hyper server: parse request head", r"role::Server as hyper::proto::h1::Http1Transaction>::parse"),
    ("hyper server: encode response head", r"role::Server as hyper::proto::h1::Http1Transaction>::encode"),
    ("hyper client: parse response head", r"role::Client as hyper::proto::h1::Http1Transaction>::parse"),
    ("hyper client: encode request head", r"role::Client as hyper::proto::h1::Http1Transaction>::encode"),
    ("hyper-util legacy client send_request", r"Client<C,B>::send_request"),
    ("hyper-util pool checkout/return", r"legacy::pool::"),
    ("http::Extensions::insert (connection extras copied into each response)", r"Extensions::insert"),
    ("errgate::headers (hop-by-hop, X-Forwarded-*, request id)", r"errgate::headers"),
    ("errgate::routing", r"errgate::routing"),
    ("errgate normalize/envelope/detect", r"errgate::(normalize|envelope|detect|decide|catalog|locale)"),
    ("metrics recording", r"metrics::|metrics_util|errgate::metrics"),
    ("tokio timers (register/fire)", r"time::entry|TimerEntry|time::wheel|sleep::Sleep|sleep_until"),
    ("tokio io driver (epoll dispatch)", r"io::driver::Driver::turn"),
]
CRATES = ["tracing_subscriber", "tracing_core", "tracing_serde", "serde_json", "hyper_util",
          "hyper::", "tokio::", "http::", "httparse", "bytes::", "errgate::", "metrics",
          "core::fmt", "alloc::", "core::", "std::", "futures", "h2::", "rustls"]


def read(path):
    samples, cur = [], None
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if cur is not None:
                    samples.append(cur)
                cur = None
                continue
            if not line[0].isspace():
                cur = []
                continue
            if cur is None:
                continue
            parts = line.strip().split(None, 1)
            cur.append((parts[0], parts[1] if len(parts) > 1 else "?"))
    if cur:
        samples.append(cur)
    return [s for s in samples if s]


def main():
    samples = read(sys.argv[1])
    n = len(samples)
    if not n:
        print("no samples")
        return
    kernel = sum(1 for s in samples if s[0][0].startswith("ffffffff"))
    print(f"{n} samples; leaf in kernel {100 * kernel / n:.1f}%, in user space "
          f"{100 * (n - kernel) / n:.1f}%\n")
    print("Inclusive share of errgate's CPU (overlapping buckets):")
    for label, pat in BUCKETS:
        r = re.compile(pat)
        hits = sum(1 for s in samples if any(r.search(f) for _, f in s))
        print(f"  {100 * hits / n:5.1f}%  {label}")
    selfc = collections.Counter()
    for s in samples:
        ip, f = s[0]
        if ip.startswith("ffffffff"):
            continue
        g = f.lstrip("<")
        for pre in CRATES:
            if g.startswith(pre):
                g = pre.rstrip(":")
                break
        else:
            if re.search(r"malloc|free|_int_|consolidate|unlink_chunk|realloc|tcache", f):
                g = "libc malloc/free"
            elif re.search(r"mem(set|move|cpy)", f):
                g = "libc memset/memcpy"
            else:
                g = "other: " + f[:70]
        selfc[g] += 1
    print("\nUser-space self time by crate (share of all samples):")
    for k, v in selfc.most_common(18):
        print(f"  {100 * v / n:5.1f}%  {k}")


if __name__ == "__main__":
    main()
