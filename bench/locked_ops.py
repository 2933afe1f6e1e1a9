#!/usr/bin/env python3
"""Counts the locked (atomic read-modify-write) instructions errgate executes per request.

Callgrind counts instructions but gives a `lock xadd` the weight of an `add`; on this machine a
locked add costs ~6 ns back to back against ~1 ns. This reads a callgrind output file written
with per-instruction counts, finds the locked instructions in the binary's disassembly
(`lock`-prefixed ones and `xchg` with memory, which is locked implicitly), and prints how many
ran per request, by instruction and by function; with debug line tables in the binary
(`CARGO_PROFILE_RELEASE_DEBUG=line-tables-only`), also by source line with the inlining chain.

    valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file=cg.out BINARY ...
    (drive N requests through it; `callgrind_control -z` / `-d` around them)
    bench/locked_ops.py cg.out BINARY N

Needs objdump and addr2line (binutils). bench/README.md, session 13, has what it found.
"""

import collections
import re
import subprocess
import sys

NAME = re.compile(r"\((\d+)\)(?: (.*))?")


def resolve(table, text):
    m = NAME.match(text)
    if not m:
        return text
    if m.group(2):
        table[m.group(1)] = m.group(2)
    return table.get(m.group(1), "?")


def counts(path, binary):
    """Executions per instruction address of `binary`, from a callgrind file."""
    objects, cost, obj, last, skip, ir_col = {}, collections.Counter(), None, 0, False, 1
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("positions:"):
            ir_col = len(line.split()) - 1
        elif line.startswith("ob="):
            obj = resolve(objects, line[3:])
        elif line.startswith("cob="):
            resolve(objects, line[4:])
        elif line.startswith("calls="):
            skip = True
        elif line and (line[0].isdigit() or line[0] in "+-*"):
            parts = line.split()
            tok = parts[0]
            addr = last if tok == "*" else last + int(tok, 0) if tok[0] in "+-" else int(tok, 0)
            last = addr
            if skip:
                skip = False
            elif obj and obj.endswith(binary.split("/")[-1]) and len(parts) > ir_col:
                cost[addr] += int(parts[ir_col])
    return cost


def locked(binary):
    """(address, mnemonic, function) of every locked instruction in `binary`."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C", binary],
                         capture_output=True, text=True, check=True).stdout
    func, found = None, []
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            func = m.group(1)
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(lock\s+\S+|xchg\s+\S+)", line)
        if m and (m.group(2).startswith("lock") or "(" in line):
            found.append((int(m.group(1), 16), m.group(2).split()[0:2], func))
    return found


def chains(binary, addrs):
    """The inlining chain (innermost first) of each address, from addr2line."""
    if not addrs:
        return {}
    out = subprocess.run(["addr2line", "-a", "-i", "-e", binary] + [hex(a) for a in addrs],
                         capture_output=True, text=True, check=True).stdout
    result, cur = {}, None
    for line in out.splitlines():
        if line.startswith("0x"):
            cur = int(line, 16)
            result[cur] = []
        elif cur is not None and "??" not in line:
            loc = re.sub(r"^.*/library/", "", line.split(" ")[0])
            loc = re.sub(r"^.*/([^/]+/src/)", r"\1", loc)
            if "sync/atomic.rs" not in loc and "ptr/mod.rs" not in loc:
                result[cur].append(loc)
    return result


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, binary, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cost = counts(path, binary)
    hits = [(a, op, f, cost[a]) for a, op, f in locked(binary) if cost.get(a)]
    total = sum(n for *_, n in hits)
    print(f"locked instructions per request: {total / requests:.1f}")
    by_func = collections.Counter()
    for _, _, func, n in hits:
        by_func[func] += n
    print("\nby function (inlined code counts in its caller):")
    for func, n in by_func.most_common(20):
        print(f"  {n / requests:6.2f}  {func[:140]}")
    frequent = [h for h in hits if h[3] >= requests / 2]
    where = chains(binary, [a for a, *_ in frequent])
    if any(where.values()):
        print("\nby source line (innermost first, then its inlined callers):")
        for addr, op, _, n in sorted(frequent, key=lambda h: -h[3]):
            print(f"  {n / requests:6.2f}  {' '.join(op):14s} {' <- '.join(where.get(addr, [])[:6])}")


if __name__ == "__main__":
    main()
