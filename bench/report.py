#!/usr/bin/env python3
"""Turns bench/run.sh's raw runs into the results table, the issue's targets and the notes.

Input: one JSON object per run (layout, scenario, target, rep, proxy CPU ticks, VmHWM, new
origin connections, and wrk's summary). Output: markdown on stdout and in --out.
"""

import argparse
import json
import os
import statistics
from collections import defaultdict

CLK_TCK = os.sysconf("SC_CLK_TCK")
# A core this busy over a run (median) had no room left: the run measured it as much as the proxy.
LOAD_BOUND = 97.0
SCENARIO_TEXT = {
    "small50": "100 B, 50 conns",
    "small200": "100 B, 200 conns",
    "large50": "10 KiB, 50 conns",
    "err50": "500 → JSON, 50 conns",
    "post50": "POST 1 KiB → 100 B, 50 conns",
}
TARGET_TEXT = {
    "direct": "direct (origin)",
    "errgate": "errgate (access log, the default)",
    "errgate-warn": "errgate, ERRGATE_LOG=warn (no access log)",
    "errgate-raw": "errgate, normalize=false",
    "nginx": "nginx (no access log)",
    "nginx-log": "nginx, JSON access log",
    "haproxy": "HAProxy",
}


def per_run(r):
    w = r["wrk"]
    secs = w["duration_us"] / 1e6
    reqs = w["requests"]
    fig = {
        "rps": reqs / secs if secs else 0.0,
        "p50": w["p50_us"] / 1000,
        "p99": w["p99_us"] / 1000,
        "conns": r["origin_conns"],
        "sock_err": w["err_connect"] + w["err_read"] + w["err_write"] + w["err_timeout"],
        # wrk counts every status >= 400 as an error; the err scenario is all 500s on purpose.
        "status_err": 0 if r["scenario"].startswith("err") else w["err_status"],
    }
    if r["has_proxy"] and reqs:
        fig["cpu"] = r["cpu_ticks"] * 1e6 / CLK_TCK / reqs
        fig["rss"] = r["hwm_kb"] / 1024
        if "user_ticks" in r:
            fig["user"] = r["user_ticks"] * 1e6 / CLK_TCK / reqs
    # How busy each core was over the run (pinned: core 0 the proxy's, core 1 the load's).
    for i, (busy, total) in enumerate(zip(r.get("core_busy", []), r.get("core_all", []))):
        if total > 0:
            fig[f"core{i}"] = 100.0 * busy / total
    return fig


class Cell:
    def __init__(self, runs, unstable_ratio):
        self.runs = [per_run(r) for r in runs]
        rps = [f["rps"] for f in self.runs]
        self.spread = max(rps) / min(rps) if min(rps) > 0 else float("inf")
        # With five or more runs the fastest and the slowest are left out of the stability
        # check (the median ignores them anyway): one run caught by a slow spell of the machine
        # does not void the cell, two disagreeing do. `outlier` says one was left out.
        kept = sorted(rps)[1:-1] if len(rps) >= 5 else rps
        self.kept_spread = max(kept) / min(kept) if min(kept) > 0 else float("inf")
        self.unstable = len(rps) > 1 and self.kept_spread > unstable_ratio
        self.outlier = not self.unstable and self.spread > unstable_ratio
        self.rps_list = rps
        # Each repetition's figures, to pair a run with the other target's run of the same
        # repetition (run a few seconds apart; see `paired`).
        self.by_rep = {r["rep"]: f for r, f in zip(runs, self.runs)}

    def med(self, key):
        vals = [f[key] for f in self.runs if key in f]
        return statistics.median(vals) if vals else None

    def total(self, key):
        return sum(f[key] for f in self.runs)


def paired(ca, cb, key):
    """The median over repetitions of a's figure ÷ b's in the same repetition.

    The machine's speed drifts by tens of percent over minutes (a shared VM), and a repetition
    runs every target of a scenario within seconds: a ratio within one repetition cancels the
    drift that a ratio of two medians, each over the whole scenario, keeps."""
    if ca is None or cb is None or ca.unstable or cb.unstable:
        return None
    ratios = [ratio(fa.get(key), cb.by_rep[rep].get(key))
              for rep, fa in ca.by_rep.items() if rep in cb.by_rep]
    ratios = [x for x in ratios if x is not None]
    return Paired(ratios) if ratios else None


class Paired(float):
    """A paired ratio (the median), with the lowest and highest of the repetitions' ratios: a
    target inside that range is not settled by this run."""

    def __new__(cls, ratios):
        value = super().__new__(cls, statistics.median(ratios))
        value.low, value.high = min(ratios), max(ratios)
        return value

    def spread(self):
        return f" (repetitions {self.low:.2f}–{self.high:.2f})"


def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def build(args):
    raw = [json.loads(line) for line in open(args.runs) if line.strip()]
    groups = defaultdict(list)
    order = []
    for r in raw:
        key = (r["layout"], r["scenario"], r["target"])
        if key not in groups:
            order.append(key)
        groups[key].append(r)
    cells = {k: Cell(v, args.unstable_ratio) for k, v in groups.items()}
    # Rows sorted by layout, scenario, then a fixed target order.
    layout_rank = {"pinned": 0, "unpinned": 1}
    scen_rank = {s: i for i, s in enumerate(SCENARIO_TEXT)}
    tgt_rank = {t: i for i, t in enumerate(TARGET_TEXT)}
    keys = sorted(cells, key=lambda k: (layout_rank.get(k[0], 9), scen_rank.get(k[1], 9),
                                        tgt_rank.get(k[2], 9)))
    return cells, keys


def rps_of(cells, layout, scen, target):
    c = cells.get((layout, scen, target))
    if c is None or c.unstable:
        return None
    return c.med("rps")


def busy_text(c):
    b0, b1 = c.med("core0"), c.med("core1")
    return "–" if b0 is None or b1 is None else f"{b0:.0f} / {b1:.0f}"


def table(cells, keys):
    head = ("| layout | scenario | target | req/s | × direct | × nginx | p50 ms | p99 ms "
            "| CPU µs/req | user µs/req | cores busy % (0 / 1) | peak RSS MiB "
            "| new origin conns/run | runs | errors |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for k in keys:
        layout, scen, target = k
        c = cells[k]
        label = [layout, SCENARIO_TEXT.get(scen, scen), TARGET_TEXT.get(target, target)]
        errs = c.total("sock_err") + c.total("status_err")
        err_txt = str(errs) if errs else "0"
        if c.unstable:
            nums = " / ".join(f"{x:.0f}" for x in c.rps_list)
            lines.append("| " + " | ".join(label) +
                         f" | unstable: {nums} req/s (max/min {c.spread:.2f}) | | | | | | | | | | "
                         f"{len(c.runs)} | {err_txt} |")
            continue
        rps = c.med("rps")
        d = rps_of(cells, layout, scen, "direct")
        n = rps_of(cells, layout, scen, "nginx")
        row = label + [
            f"{rps:,.0f}",
            fmt(ratio(rps, d), ".2f"),
            fmt(ratio(rps, n), ".2f"),
            fmt(c.med("p50"), ".2f"),
            fmt(c.med("p99"), ".2f"),
            fmt(c.med("cpu"), ".1f"),
            fmt(c.med("user"), ".2f"),
            busy_text(c),
            fmt(c.med("rss"), ".1f"),
            fmt(c.med("conns"), ".0f"),
            f"{len(c.runs)}{'*' if c.outlier else ''}",
            err_txt,
        ]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def targets(cells, idle):
    out = []

    def check(name, value, bar, ok_when_ge=True, unit="×"):
        if value is None:
            out.append(f"- n/a  {name}: not measured or unstable")
            return
        ok = value >= bar if ok_when_ge else value <= bar
        rel = "≥" if ok_when_ge else "≤"
        spread = value.spread() if isinstance(value, Paired) else ""
        out.append(f"- {'PASS' if ok else 'FAIL'} {name}: {value:.2f}{unit} (target {rel} {bar}{unit})"
                   f"{spread}")

    def info(name, value):
        if value is not None:
            out.append(f"- info {name}: {value:.2f}× (no target; the kernel's share is the rest)")

    def med(layout, scen, target, key):
        c = cells.get((layout, scen, target))
        return None if c is None or c.unstable else c.med(key)

    def r(layout, scen, a, b, key="rps"):
        return paired(cells.get((layout, scen, a)), cells.get((layout, scen, b)), key)

    # Pass-through is compared like for like: both proxies logging every request, and neither.
    pairs = (("access log on both", "errgate", "nginx-log"), ("no access log", "errgate-warn", "nginx"))
    def load_bound(layout, scen, *names):
        busy = [med(layout, scen, t, "core1") for t in names]
        return all(b is not None and b >= LOAD_BOUND for b in busy)

    for what, e, n in pairs:
        check(f"100 B pinned, {what}: errgate req/s vs nginx", r("pinned", "small50", e, n), 1.1)
        if load_bound("pinned", "small50", e, n, "direct"):
            out.append(f"  - the load core (1: wrk and the origin) was ≥ {LOAD_BOUND:.0f} % busy in "
                       "the direct, errgate and nginx runs alike: this req/s is the load side's "
                       "ceiling as much as the proxy's; CPU µs/req and user µs/req are the "
                       "proxy's own")
        info(f"100 B pinned, {what}: errgate user-space µs/req vs nginx",
             r("pinned", "small50", e, n, "user"))
        check(f"100 B pinned, {what}: errgate p99 vs nginx p99", r("pinned", "small50", e, n, "p99"),
              1.0, ok_when_ge=False)
        check(f"100 B pinned, {what}: errgate CPU µs/req vs nginx", r("pinned", "small50", e, n, "cpu"),
              0.9, ok_when_ge=False)
        for scen in ("small50", "small200"):
            check(f"{SCENARIO_TEXT[scen]}, unpinned, {what}: errgate req/s vs nginx",
                  r("unpinned", scen, e, n), 1.0)
    for layout in ("pinned", "unpinned"):
        check(f"error rewrite, {layout}: errgate (access log) req/s vs nginx error_page (none)",
              r(layout, "err50", "errgate", "nginx"), 4.0)
        check(f"error rewrite, {layout}: errgate 500→envelope req/s vs its own 100 B pass-through",
              ratio(med(layout, "err50", "errgate", "rps"), med(layout, "small50", "errgate", "rps")),
              0.8)
    for what, e, n in pairs:
        for layout in ("pinned", "unpinned"):
            check(f"10 KiB, {layout}, {what}: errgate req/s vs nginx", r(layout, "large50", e, n), 1.0)
    # Not in issue 6: the API write path, held to the 10 KiB bar.
    for what, e, n in pairs:
        check(f"POST 1 KiB, pinned, {what}: errgate req/s vs nginx", r("pinned", "post50", e, n), 1.0)
        check(f"POST 1 KiB, pinned, {what}: errgate CPU µs/req vs nginx",
              r("pinned", "post50", e, n, "cpu"), 1.0, ok_when_ge=False)
    if idle:
        check("idle connections: errgate RSS per connection", idle["kib_per_conn"], 16.0,
              ok_when_ge=False, unit=" KiB")
    else:
        out.append("- n/a  idle connections: not measured")
    return out


def overflow_note(i):
    ovf = i.get("listen_overflows", 0)
    lost = i["opened"] - i["accepted"]
    if lost > 0:
        return (f"- {lost:,} connections never reached errgate; the kernel's system-wide "
                f"ListenOverflows counter rose by {ovf} (errgate listens with tokio's default "
                "backlog of 1024; "
                "a handshake completed while the queue is full is dropped on the server side "
                "only, and the client believes it is open).")
    if ovf:
        return (f"- The kernel's system-wide ListenOverflows counter rose by {ovf} while they "
                "were opened (errgate's listen backlog is tokio's default 1024); the client's "
                "retries got every connection in.")
    return "- No accept-queue overflows."


def idle_summary(path):
    if not path or not os.path.exists(path):
        return None, []
    i = json.load(open(path))
    conns = i["accepted"]
    per = (i["rss_with_kb"] - i["rss_before_kb"]) / conns if conns > 0 else None
    i["kib_per_conn"] = per
    lines = [
        f"- {i['opened']:,} of {i['wanted']:,} idle TCP connections opened in {i['open_seconds']} s "
        f"({i['failed']} failed); errgate had accepted {conns:,} of them (its fd count).",
        overflow_note(i),
        f"- errgate RSS {i['rss_before_kb'] / 1024:.1f} MiB before, {i['rss_with_kb'] / 1024:.1f} MiB "
        f"with them open: **{fmt(per, '.1f')} KiB per idle connection** (user space only; the "
        "kernel's socket memory is not in RSS).",
        f"- A request through errgate meanwhile: HTTP {i['request_status']} in {i['request_ms']} ms "
        f"({'ok' if i['request_status'] == 200 else 'FAILED'}).",
        f"- Connections closed by errgate while held ({i['held_seconds']} s): "
        f"{i['closed_by_server']} (expected 0).",
    ]
    return i, lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--notes", required=True)
    ap.add_argument("--idle")
    ap.add_argument("--unstable-ratio", type=float, default=1.5)
    ap.add_argument("--quick", default="0")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    cells, keys = build(args)
    idle, idle_lines = idle_summary(args.idle)
    stamp = os.path.basename(args.out)[: -len(".md")]
    doc = [f"# errgate benchmark, {stamp}", ""]
    if args.quick == "1":
        doc += ["**QUICK smoke run: 1 short repetition, not a result.**", ""]
    doc += ["## Machine and run", "", open(args.notes).read().rstrip(), "", "## Results", ""]
    doc += [
        "Medians over the repetitions. req/s, p50/p99 from wrk --latency; CPU µs/req = the proxy's "
        "utime+stime delta over the run (all nginx workers) ÷ requests, user µs/req its utime "
        "alone (the proxy's own code; the rest is the kernel's TCP work); cores busy = each core's "
        "non-idle share of the run from /proc/stat (pinned: core 0 runs the proxy, core 1 wrk and "
        "the origin); peak RSS = VmHWM, reset "
        "before each run; new origin conns = the origin's stub_status `accepts` delta (for direct: "
        "wrk's own connections). A cell whose runs differ by more than "
        f"{args.unstable_ratio}× in req/s is shown as unstable instead of a median; with five or "
        "more runs the fastest and the slowest are left out of that check, and a `*` after the "
        "run count says they differed by more than that (the median is unaffected).",
        "",
    ]
    doc += table(cells, keys)
    doc += ["", "## Targets (issue 6)", ""]
    doc += [
        "Each ratio is the median over the repetitions of the two targets' ratio within one "
        "repetition (their runs are seconds apart, so a drift of the machine's speed cancels); "
        "the table's × columns divide medians and can differ by a few percent. The range after "
        "a ratio is its lowest and highest repetition: a target inside it is not settled by "
        "this run.",
        "",
    ]
    doc += targets(cells, idle)
    doc += ["", "## Idle connections", ""] + (idle_lines or ["- not measured"])
    text = "\n".join(doc) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
