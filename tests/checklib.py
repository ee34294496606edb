"""Pass/fail counting for the test scripts: check() records one check and
prints what failed; finish() prints the "N passed, M failed" line that
tests/summarize.py reads and exits 1 when anything failed."""
import sys

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {name}" + (f"\n      {detail}" if detail else ""))
    return bool(cond)


def finish():
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
