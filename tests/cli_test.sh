#!/usr/bin/env bash
# cli_test.sh - the command-line contract: flags, exit codes, output files,
# text output and colour rules, explain, errors on stderr.
# usage: cli_test.sh SCANNER TESTS_DIR
set -u
scanner=$1
tests=$2
fixtures=$tests/fixtures/pickle
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

check() { # check NAME CONDITION-EXIT-CODE
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $1"
    fi
}

run() { # run ARGS... ; sets rc, out, err
    "$scanner" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# --help and --version
run --help
check "--help exits 0" $((rc != 0))
grep -q -- "--model-path" "$tmp/out"; check "--help lists --model-path" $?
grep -q "Examples:" "$tmp/out"; check "--help has examples" $?
run --version
check "--version exits 0" $((rc != 0))
grep -qE '^model-scanner [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out"; check "--version prints a version" $?

# bad arguments: one line on stderr, exit 2
run
check "no arguments exits 2" $((rc != 2))
[ "$(wc -l <"$tmp/err")" -eq 1 ]; check "missing --model-path is one line" $?
run --model-path "$tmp/does-not-exist"
check "unreadable path exits 2" $((rc != 2))
grep -q "does-not-exist" "$tmp/err"; check "unreadable path is named" $?
[ "$(wc -l <"$tmp/err")" -eq 1 ]; check "unreadable path is one line" $?
run --model-path "$fixtures" --output-format xml
check "unknown format exits 2" $((rc != 2))
run --model-path "$fixtures" --fail-on severe
check "unknown severity exits 2" $((rc != 2))
run --model-path "$fixtures" --bogus
check "unknown option exits 2" $((rc != 2))
[ "$(wc -l <"$tmp/err")" -eq 1 ]; check "unknown option is one line" $?
run --model-path "$fixtures/trap-plain-dict.pkl" --output-file "$tmp/no/such/dir/r.json"
check "unwritable output exits 2" $((rc != 2))

# exit codes from --fail-on
mal=$fixtures/reduce-os-system-protocol-2.pkl
benign=$fixtures/trap-plain-dict.pkl
readme=$fixtures/README-trap.md
run --model-path "$mal" --quiet
check "no --fail-on exits 0 even with findings" $((rc != 0))
run --model-path "$mal" --fail-on critical --quiet
check "--fail-on critical with a critical finding exits 1" $((rc != 1))
run --model-path "$readme" --fail-on low --quiet
check "--fail-on low on a clean text file exits 0" $((rc != 0))
run --model-path "$readme" --fail-on informational --quiet
check "--fail-on informational counts the provenance warning" $((rc != 1))
run --model-path "$benign" --fail-on high --quiet
check "--fail-on high: insecure pickle is Critical so exits 1" $((rc != 1))

# output file, json validity, quiet
run --model-path "$mal" --output-format json --output-file "$tmp/r.json"
check "json to file exits 0" $((rc != 0))
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['summary']['critical']==2" "$tmp/r.json"
check "json report is valid and counts findings" $?
grep -q "report written to" "$tmp/err"; check "summary line on stderr without --quiet" $?
[ ! -s "$tmp/out" ]; check "nothing on stdout when writing a file" $?
run --model-path "$mal" --output-file "$tmp/r2.json" --quiet
[ ! -s "$tmp/err" ]; check "--quiet prints nothing on stderr" $?

# text output: grouped by severity, no colour when not a terminal or NO_COLOR
run --model-path "$mal" --output-format text
grep -q "^Critical (2)" "$tmp/out"; check "text groups by severity" $?
if grep -q $'\033\[' "$tmp/out"; then check "no colour when stdout is not a terminal" 1; else check "no colour when stdout is not a terminal" 0; fi
if command -v script >/dev/null 2>&1; then
    script -qc "'$scanner' --model-path '$mal' --output-format text" /dev/null >"$tmp/tty" 2>&1
    grep -q $'\033\[' "$tmp/tty"; check "colour on a terminal" $?
    NO_COLOR=1 script -qc "'$scanner' --model-path '$mal' --output-format text" /dev/null >"$tmp/tty2" 2>&1
    if grep -q $'\033\[' "$tmp/tty2"; then check "NO_COLOR disables colour" 1; else check "NO_COLOR disables colour" 0; fi
fi

# a directory scan is deterministic and lists every file with its format
run --model-path "$fixtures" --output-format json --output-file "$tmp/a.json" --quiet
run --model-path "$fixtures" --output-format json --output-file "$tmp/b.json" --quiet
python3 - "$tmp/a.json" "$tmp/b.json" "$fixtures" <<'PY'
import json, os, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b):
    r["scan_timestamp"] = ""
assert a == b, "two scans differ"
paths = [f["path"] for f in a["files"]]
assert paths == sorted(paths), "files not sorted"
assert len(paths) == len(os.listdir(sys.argv[3])), "not every file listed"
assert all(len(f["sha256"]) == 64 for f in a["files"])
sev = {"Critical": 4, "High": 3, "Medium": 2, "Low": 1, "Informational": 0}
keys = [(-sev[f["severity"]], f["location"], f["rule_id"]) for f in a["vulnerabilities"]]
assert keys == sorted(keys), "findings not sorted"
fmt = {f["path"]: f["format"] for f in a["files"]}
assert fmt["README-trap.md"] == "text", fmt["README-trap.md"]
assert fmt["expected.json"] == "json"
PY
check "directory scan: deterministic, sorted, every file listed" $?

# --no-hash leaves sha256 null
run --model-path "$mal" --no-hash
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['files'][0]['sha256'] is None" "$tmp/out"
check "--no-hash" $?

# detection by content, not extension
cp "$mal" "$tmp/model.safetensors"
run --model-path "$tmp/model.safetensors"
grep -q '"format": "pickle"' "$tmp/out"; check "a pickle named .safetensors is detected as pickle" $?
grep -q "posix.system" "$tmp/out"; check "and its payload is reported" $?

# symlinks out of the folder are reported, never followed
mkdir -p "$tmp/repo"
cp "$benign" "$tmp/repo/a.pkl"
ln -s /etc/passwd "$tmp/repo/escape"
ln -s a.pkl "$tmp/repo/inside"
run --model-path "$tmp/repo"
python3 - "$tmp/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
esc = [f for f in r["vulnerabilities"] if f["rule_id"] == "PATH-SYMLINK-ESCAPE"]
assert len(esc) == 1 and esc[0]["location"] == "escape", esc
paths = [f["path"] for f in r["files"]]
assert paths == ["a.pkl", "inside"], paths
PY
check "symlink escape reported, inside link scanned" $?

# explain shows the resolved global, the call and the verdict
run explain "$fixtures/memo-binput-binget-stack-global.pkl"
check "explain exits 0" $((rc != 0))
grep -q "STACK_GLOBAL" "$tmp/out" && grep -q "imports posix.system" "$tmp/out" &&
    grep -q "DANGEROUS" "$tmp/out" && grep -q "would call" "$tmp/out"
check "explain marks import, verdict and call" $?
run explain "$tmp/nope"
check "explain of a missing file exits 2" $((rc != 2))

# --list-rules lists every rule
run --list-rules
grep -q "PICKLE-DANGEROUS-GLOBAL" "$tmp/out"; check "--list-rules" $?

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
