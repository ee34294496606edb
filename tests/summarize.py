#!/usr/bin/env python3
"""Prints one line per test from meson's test log and a closing
"N passed, N failed" that adds up the individual checks every test program
reports (each prints such a line), so the total counts checks, not programs.

usage: summarize.py BUILD_DIR
"""
import json
import os
import re
import sys


def main():
    log = os.path.join(sys.argv[1], "meson-logs", "testlog.json")
    passed = failed = 0
    programs_failed = 0
    with open(log) as f:
        for line in f:
            t = json.loads(line)
            ok = t["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
            counts = re.findall(r"^(\d+) passed, (\d+) failed$", t.get("stdout", ""), re.M)
            p, fl = (int(counts[-1][0]), int(counts[-1][1])) if counts else (0, 0)
            if not ok:
                programs_failed += 1
                fl = max(fl, 1)
            passed += p
            failed += fl
            print(f"  {t['name']:<28} {t['result']:<6} {p} passed, {fl} failed")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or programs_failed else 0


if __name__ == "__main__":
    sys.exit(main())
