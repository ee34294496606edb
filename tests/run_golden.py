#!/usr/bin/env python3
"""Golden whole-folder reports: for every tests/golden/<case>/, scans
<case>/model with the JSON output and compares it with <case>/expected.json
after normalising what legitimately changes between runs (scan_timestamp,
model_path, scanner version). With --update, writes expected.json instead.
A <case>/args file adds command-line arguments; "{case}" in them stands for
the case folder (e.g. "--manifest {case}/SHA256SUMS").

usage: run_golden.py SCANNER GOLDEN_DIR [--update]
"""
import difflib
import json
import os
import subprocess
import sys


def normalise(report):
    report["scan_timestamp"] = "<timestamp>"
    report["model_path"] = "<model_path>"
    report["scanner"]["version"] = "<version>"
    return report


def main():
    scanner, golden = sys.argv[1], sys.argv[2]
    update = "--update" in sys.argv[3:]
    passed = failed = 0
    for case in sorted(os.listdir(golden)):
        model = os.path.join(golden, case, "model")
        if not os.path.isdir(model):
            continue
        extra = []
        args_file = os.path.join(golden, case, "args")
        if os.path.exists(args_file):
            extra = [a.replace("{case}", os.path.join(golden, case))
                     for a in open(args_file).read().split()]
        proc = subprocess.run(
            [scanner, "--model-path", model, "--output-format", "json", "--quiet"] + extra,
            capture_output=True,
        )
        if proc.returncode not in (0, 1):
            print(f"FAIL {case}: exit {proc.returncode}: {proc.stderr.decode(errors='replace')}")
            failed += 1
            continue
        got = json.dumps(normalise(json.loads(proc.stdout)), indent=2, ensure_ascii=False) + "\n"
        exp_path = os.path.join(golden, case, "expected.json")
        if update:
            with open(exp_path, "w") as f:
                f.write(got)
            print(f"updated {exp_path}")
            passed += 1
            continue
        want = open(exp_path).read() if os.path.exists(exp_path) else ""
        if got == want:
            print(f"ok   {case}")
            passed += 1
        else:
            failed += 1
            print(f"FAIL {case}: report differs from {exp_path}")
            sys.stdout.writelines(
                difflib.unified_diff(want.splitlines(True), got.splitlines(True), "expected", "got")
            )
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
