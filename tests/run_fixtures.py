#!/usr/bin/env python3
"""Scans every fixture listed in a manifest (expected.json) one file at a time
and checks the findings: every "must" entry matches a finding (type, severity,
rule_id, and where given the resolved global, a description substring and the
exact location), no finding matches a "must_not" entry. Standard library only.

usage: run_fixtures.py SCANNER FIXTURE_DIR [MANIFEST_NAME]   (default expected.json)
"""
import json
import os
import subprocess
import sys


def matches(finding, want):
    for key in ("type", "severity", "rule_id"):
        if key in want and finding.get(key) != want[key]:
            return False
    if "global" in want and finding.get("details", {}).get("global") != want["global"]:
        return False
    if "description_contains" in want and want["description_contains"] not in finding.get(
        "description", ""
    ):
        return False
    if "location" in want and finding.get("location") != want["location"]:
        return False
    return True


def main():
    scanner, fixture_dir = sys.argv[1], sys.argv[2]
    name = sys.argv[3] if len(sys.argv) > 3 else "expected.json"
    manifest = json.load(open(os.path.join(fixture_dir, name)))
    passed = failed = 0
    for name in sorted(manifest):
        case = manifest[name]
        path = os.path.join(fixture_dir, name)
        proc = subprocess.run(
            [scanner, "--model-path", path, "--output-format", "json", "--quiet"],
            capture_output=True,
        )
        if proc.returncode != 0:
            print(f"FAIL {name}: exit {proc.returncode}: {proc.stderr.decode(errors='replace')}")
            failed += 1
            continue
        report = json.loads(proc.stdout)
        findings = report["vulnerabilities"] + report["warnings"]
        problems = []
        for want in case.get("must", []):
            if not any(matches(f, want) for f in findings):
                problems.append(f"missing {want}")
        for bad in case.get("must_not", []):
            hits = [f for f in findings if matches(f, bad)]
            if hits:
                problems.append(
                    f"unexpected {bad}: " + "; ".join(h["description"][:200] for h in hits)
                )
        if problems:
            failed += 1
            print(f"FAIL {name} ({case.get('technique', '')})")
            for p in problems:
                print(f"     {p}")
            for f in findings:
                print(
                    f"     got: {f['severity']} {f['rule_id']} "
                    f"{f.get('details', {}).get('global', '')} @ {f['location']}"
                )
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
