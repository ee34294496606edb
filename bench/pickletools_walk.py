#!/usr/bin/python3
"""Baseline: walk a pickle file the way the Python scanners do.

Usage:
    pickletools_walk.py FILE [--materialize]

picklescan's and modelscan's pickle scanners feed the file to
pickletools.genops() and look at every opcode: GLOBAL/INST arguments are
imports; for STACK_GLOBAL they take the two nearest string values pushed
before it (looking through BINGET/LONG_BINGET into a memo that records, for
every MEMOIZE/PUT, the argument of the opcode just before it, and skipping
MEMOIZE/PUT themselves; anything else counts as "unknown").  This script does
the same, streaming: it keeps the memo like they do, but not the list of
every opcode -- picklescan and modelscan build that list first
(`ops = list(genops(...))`), which costs far more memory; pass
--materialize to do that too.

It walks every pickle in the file (they continue after STOP as picklescan
does) and prints:
    opcodes N
    pickles N
    global MODULE NAME          (one line per distinct import, sorted)
Exit status 0, or 1 if the data could not be parsed to the end.
Stdlib only; runs with Debian's /usr/bin/python3.
"""

import argparse
import pickletools
import sys

STRING_OPS = frozenset(("SHORT_BINUNICODE", "UNICODE", "BINUNICODE", "BINUNICODE8"))
PUT_OPS = frozenset(("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"))
GET_OPS = frozenset(("GET", "BINGET", "LONG_BINGET"))


def walk(f, materialize=False):
    nops = 0
    npickles = 0
    found = set()
    memo = {}
    kept = [] if materialize else None
    error = None
    while True:
        prev_arg = None         # argument of the previous opcode (what MEMOIZE stores)
        last = [None, None]     # the two most recent values for STACK_GLOBAL
        nvals = 0
        try:
            for op, arg, pos in pickletools.genops(f):
                nops += 1
                if kept is not None:
                    kept.append((op, arg, pos))
                name = op.name
                if name in PUT_OPS:
                    if name == "MEMOIZE":
                        memo[len(memo)] = prev_arg
                    else:
                        memo[arg] = prev_arg
                    # picklescan skips MEMOIZE/PUT when it looks back
                    prev_arg = arg
                    continue
                if name in GET_OPS:
                    value = memo.get(arg, "unknown")
                elif name in STRING_OPS:
                    value = arg
                else:
                    value = "unknown"
                if name in ("GLOBAL", "INST"):
                    found.add(tuple(arg.split(" ", 1)))
                elif name == "STACK_GLOBAL":
                    if nvals < 2:
                        error = "STACK_GLOBAL at %d with %d values before it" % (pos, nvals)
                    else:
                        found.add((last[0], last[1]))
                last[0] = last[1]
                last[1] = value
                nvals += 1
                prev_arg = arg
            npickles += 1
        except Exception as e:          # like picklescan: note it and stop
            error = "%s: %s" % (type(e).__name__, e)
            break
        # more pickles after STOP?
        if not f.read(1):
            break
        f.seek(-1, 1)
    return nops, npickles, found, error


def main(argv=None):
    ap = argparse.ArgumentParser(description="walk a pickle with pickletools.genops")
    ap.add_argument("file")
    ap.add_argument("--materialize", action="store_true",
                    help="also keep every (opcode, arg, pos) in a list, as "
                         "picklescan/modelscan do (uses a lot of memory)")
    a = ap.parse_args(argv)
    with open(a.file, "rb") as f:
        nops, npickles, found, error = walk(f, a.materialize)
    out = sys.stdout
    out.write("opcodes %d\n" % nops)
    out.write("pickles %d\n" % npickles)
    for mod_name in sorted(found, key=lambda t: tuple(map(str, t))):
        out.write("global %s\n" % " ".join(map(str, mod_name)))
    if error:
        sys.stderr.write("pickletools_walk: %s\n" % error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
