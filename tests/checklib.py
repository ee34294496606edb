"""Pass/fail counting for the test scripts: check() (or expect()) records
one check and prints what failed; finish() prints the "N passed, M failed"
line that tests/summarize.py reads and exits 1 when anything failed."""
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


def expect(cond, what):
    """check() with the condition first, as test_convert and test_integrity
    call it."""
    return check(what, cond)


def finish():
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
