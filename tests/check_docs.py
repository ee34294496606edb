#!/usr/bin/env python3
"""The documentation stays in step with the code: docs/rules.md documents
every rule the scanner can report (id, type, default severity), README.md
documents every command-line flag --help lists, and docs/report-format.md
names every top-level key of a real JSON report.

usage: check_docs.py SCANNER SOURCE_ROOT
"""
import json
import os
import re
import subprocess
import sys


def main():
    scanner, root = sys.argv[1], sys.argv[2]
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {what}")

    rules_md = open(os.path.join(root, "docs", "rules.md")).read()
    out = subprocess.run([scanner, "--list-rules"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.match(r"(\S+)\s+(Critical|High|Medium|Low|Informational)\s+(.+)$", line)
        check(m is not None, f"--list-rules line parses: {line!r}")
        if not m:
            continue
        rule, sev, typ = m.group(1), m.group(2), m.group(3).strip()
        row = re.search(r"^\|\s*`" + re.escape(rule) + r"`\s*\|([^\n]*)$", rules_md, re.M)
        check(row is not None, f"docs/rules.md has a row for {rule}")
        if row:
            check(typ in row.group(1) and sev in row.group(1),
                  f"docs/rules.md row for {rule} names '{typ}' and '{sev}'")

    readme = open(os.path.join(root, "README.md")).read()
    help_text = subprocess.run([scanner, "--help"], capture_output=True, text=True).stdout
    for flag in sorted(set(re.findall(r"(--[a-z][a-z-]+)", help_text))):
        check(flag in readme, f"README.md documents {flag}")

    # the man page says what --help says: the same flags, the same subcommands
    man_path = os.path.join(root, "docs", "model-scanner.1")
    man = open(man_path).read().replace("\\-", "-")
    help_flags = set(re.findall(r"(--[a-z][a-z-]+)", help_text))
    man_flags = set(re.findall(r"(--[a-z][a-z-]+)", man))
    for flag in sorted(help_flags):
        check(flag in man_flags, f"docs/model-scanner.1 documents {flag}")
    for flag in sorted(man_flags - help_flags):
        check(False, f"docs/model-scanner.1 names {flag}, which --help does not list")
    subcommands = re.findall(r"^  ([a-z]+) [A-Z]+ ", help_text.split("Subcommands:")[1], re.M)
    check(len(subcommands) >= 1, "--help lists subcommands")
    for sub in subcommands:
        check(re.search(r"^\.BI " + sub + r" ", man, re.M) is not None,
              f"docs/model-scanner.1 documents the {sub} subcommand")
    groff = subprocess.run(["groff", "-man", "-ww", "-z", man_path], capture_output=True,
                           text=True)
    check(groff.returncode == 0 and not groff.stderr.strip(),
          f"docs/model-scanner.1 renders without warnings: {groff.stderr.strip()}")

    fmt = open(os.path.join(root, "docs", "report-format.md")).read()
    fixture = os.path.join(root, "tests", "fixtures", "pickle", "reduce-os-system-protocol-2.pkl")
    report = json.loads(
        subprocess.run([scanner, "--model-path", fixture], capture_output=True).stdout
    )
    for key in report:
        check(f"`{key}`" in fmt, f"docs/report-format.md documents `{key}`")
    for key in report["summary"]:
        check(f"`{key}`" in fmt, f"docs/report-format.md documents summary `{key}`")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
