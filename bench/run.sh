#!/usr/bin/env bash
# Benchmark: model-scanner vs. a pickletools.genops walk on a large,
# opcode-dense pickle.  See bench/README.md.
#
#   MODEL_SCANNER=./build/model-scanner bench/run.sh
#
# Knobs (environment):
#   MODEL_SCANNER      scanner binary            (default ./build/model-scanner)
#   BENCH_DIR          cache dir for the files   (default /tmp/model-scanner-bench)
#   BENCH_CKPT_MB      size of the PyTorch checkpoint cases (default 2048; needs python3-torch)
#   BENCH_SKIP_CKPT    1 to skip the checkpoint cases (and the convert rows)
#   BENCH_SIZE_MB      size of the big files     (default 256; MB = MiB)
#   BENCH_SMALL_MB     size of the small memo-free file (default BENCH_SIZE_MB/8)
#   BENCH_RUNS         scanner runs per case, best taken (default 3)
#   BENCH_SKIP_PYTHON  1 = skip the (slow) Python walk   (default 0)
#   BENCH_PYTHON       python for generator and walk     (default /usr/bin/python3)
#   BENCH_TARGET_MBS   throughput target, MB/s           (default 500)
#
# Exit status: 0 unless something is missing or the scanner exits with a
# status other than 0/1 (2 = error) or is killed by a signal (crash).  Missing
# the throughput target is reported, not an error.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scanner=${MODEL_SCANNER:-./build/model-scanner}
py=${BENCH_PYTHON:-/usr/bin/python3}
dir=${BENCH_DIR:-/tmp/model-scanner-bench}
size_mb=${BENCH_SIZE_MB:-256}
runs=${BENCH_RUNS:-3}
skip_py=${BENCH_SKIP_PYTHON:-0}
target=${BENCH_TARGET_MBS:-500}
gnu_time=/usr/bin/time

die() { echo "bench: $*" >&2; exit 1; }

is_uint() { [[ $1 =~ ^[0-9]+$ ]] && (( $1 > 0 )); }
is_uint "$size_mb" || die "BENCH_SIZE_MB must be a positive integer (MiB), got '$size_mb'"
small_mb=${BENCH_SMALL_MB:-$(( size_mb / 8 > 0 ? size_mb / 8 : 1 ))}
is_uint "$small_mb" || die "BENCH_SMALL_MB must be a positive integer (MiB), got '$small_mb'"
is_uint "$runs" || die "BENCH_RUNS must be a positive integer, got '$runs'"

# --- prerequisites -----------------------------------------------------------
if [[ ! -x $gnu_time ]] || ! "$gnu_time" --version 2>&1 | grep -q GNU; then
    die "GNU time is needed at $gnu_time to measure peak RSS.
       Install it with:  apt-get install time     (Debian package 'time')"
fi
[[ -x $py ]] || die "python not found: $py (set BENCH_PYTHON)"
if [[ ! -f $scanner || ! -x $scanner ]]; then
    die "scanner binary not found or not executable: $scanner
       Build it first (make), or set MODEL_SCANNER=/path/to/model-scanner."
fi
case $scanner in */*) ;; *) scanner=./$scanner ;; esac

mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# --- the input files (cached) ------------------------------------------------
# The generator's hash is in the file name, so a changed generator means new
# files; stale ones of ours are removed.
gen="$here/gen_big_pickle.py"
gen_id=$(sha256sum "$gen" | cut -c1-10)

ensure_file() {  # variant(memo|nomemo) size_mb -> prints path
    local variant=$1 mb=$2 f bytes args=()
    f="$dir/big-$variant-$mb""M-$gen_id.pkl"
    bytes=$(( mb * 1048576 ))
    [[ $variant == nomemo ]] && args+=(--no-memo)
    if [[ -f $f && -f $f.json && $(stat -c %s "$f") == "$bytes" ]]; then
        echo "reusing $f" >&2
    else
        echo "generating $f ($mb MB, $variant) ..." >&2
        local t0=$EPOCHREALTIME
        "$py" "$gen" "$f" "${mb}M" -q "${args[@]}"
        awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "  done in %.1f s\n", b - a }' >&2
    fi
    printf '%s\n' "$f"
}

for old in "$dir"/big-*M-*.pkl; do
    [[ -e $old && $old != *"-$gen_id.pkl" ]] || continue
    echo "removing stale $old" >&2
    rm -f -- "$old" "$old.json"
done

f_memo=$(ensure_file memo "$size_mb")
f_nomemo=$(ensure_file nomemo "$size_mb")
f_small=$(ensure_file nomemo "$small_mb")

json_field() { "$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# --- measuring ---------------------------------------------------------------
# measure NAME CMD...: runs CMD under GNU time; sets m_sec (wall, from bash's
# clock, µs resolution), m_rss (peak RSS, KB), m_rc.  Output goes to
# $tmp/NAME.out / $tmp/NAME.err.
measure() {
    local name=$1; shift
    local t0 t1
    t0=$EPOCHREALTIME
    set +e
    "$gnu_time" -f '%e %M' -o "$tmp/$name.time" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    m_rc=$?
    set -e
    t1=$EPOCHREALTIME
    m_sec=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    m_rss=$(tail -n 1 "$tmp/$name.time" | awk '{ print $2 }')
    [[ $m_rss =~ ^[0-9]+$ ]] || m_rss=0
}

check_scanner_rc() {  # measure-name label
    local name=$1 label=$2
    if (( m_rc == 0 )); then
        return 0
    elif (( m_rc == 1 )); then
        notes+=("note: scanner exited 1 (findings) on a benign file in case '$label'")
        return 0
    fi
    {
        echo "bench: FAILED: scanner exited with status $m_rc in case '$label'"
        (( m_rc > 128 )) && echo "       (killed by signal $(( m_rc - 128 )): crash)"
        grep -h 'terminated by signal' "$tmp/$name.time" | sed 's/^/       /' || true
        echo "       command: $scanner ${scanner_args[*]}"
        echo "       last lines of its stderr:"
        tail -n 20 "$tmp/$name.err" | sed 's/^/         /'
    } >&2
    exit 1
}

# rows: label|bytes|sec|rss_kb
rows=()
notes=()

best_of_runs() {  # label bytes scanner-args... : best time, highest RSS of $runs runs -> a row
    local label=$1 bytes=$2 best="" rss=0 r
    shift 2
    for (( r = 1; r <= runs; r++ )); do
        measure scan "$scanner" "$@"
        check_scanner_rc scan "$label"
        if [[ -z $best ]] || awk -v a="$m_sec" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$m_sec
        fi
        (( m_rss > rss )) && rss=$m_rss
    done
    rows+=("$label|$bytes|$best|$rss")
    c_sec=$best c_rss=$rss
}

scanner_case() {  # label file hash(0|1)
    local label=$1 file=$2 hash=$3
    if (( hash )); then
        scanner_args=(--model-path "$file" --output-format json --output-file /dev/null --quiet)
    else
        scanner_args=(--model-path "$file" --output-format json --output-file /dev/null --no-hash --quiet)
    fi
    cat -- "$file" >/dev/null          # warm the page cache
    best_of_runs "$label" "$(stat -c %s "$file")" "${scanner_args[@]}"
}

echo "bench: scanner $scanner, $runs run(s) per scanner case (best time, max RSS)" >&2
scanner_case "scanner --no-hash"              "$f_memo"   0
scan_sec=$c_sec scan_rss=$c_rss
scanner_case "scanner (sha256 on)"            "$f_memo"   1
scanner_case "scanner --no-hash, memo-free"   "$f_nomemo" 0
scanner_case "scanner --no-hash, memo-free"   "$f_small"  0

# --- a folder of 8 files: --jobs 1 against every processor (same report) ----
jobs_dir=$tmp/jobs-folder
mkdir -p "$jobs_dir"
for i in 1 2 3 4 5 6 7 8; do ln -f -- "$f_small" "$jobs_dir/part-$i.pkl"; done
jobs_case() {  # label jobs
    cat -- "$f_small" >/dev/null
    best_of_runs "$1" "$(( 8 * $(stat -c %s "$f_small") ))" --model-path "$jobs_dir" \
        --output-format json --output-file "$tmp/jobs-$2.json" --no-hash --quiet --jobs "$2"
}
jobs_case "8 files, --jobs 1" 1
jobs_case "8 files, --jobs $(nproc)" "$(nproc)"
if ! "$py" - "$tmp/jobs-1.json" "$tmp/jobs-$(nproc).json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for d in (a, b):
    d.pop("scan_timestamp")
sys.exit(a != b)
PY
then
    notes+=("warning: --jobs 1 and --jobs $(nproc) gave different reports")
fi

# --- a folder of 64 Keras HDF5 files: each is read by libhdf5 in a child
# process started for it (the sandbox's cost per file, serial and parallel)
h5_dir=$tmp/h5-folder
mkdir -p "$h5_dir"
h5_src=$here/../tests/fixtures/keras/benign-sequential-dense.h5
[[ -f $h5_src ]] || die "missing $h5_src"
for i in $(seq 1 64); do cp -- "$h5_src" "$h5_dir/model-$i.h5"; done
best_of_runs "64 HDF5 files, --jobs 1" "$(( 64 * $(stat -c %s "$h5_src") ))" \
    --model-path "$h5_dir" --output-format json --output-file "$tmp/h5-1.json" --no-hash \
    --quiet --jobs 1
best_of_runs "64 HDF5 files, --jobs $(nproc)" "$(( 64 * $(stat -c %s "$h5_src") ))" \
    --model-path "$h5_dir" --output-format json --output-file "$tmp/h5-n.json" --no-hash \
    --quiet --jobs "$(nproc)"
if ! "$py" - "$tmp/h5-1.json" "$tmp/h5-n.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for d in (a, b):
    d.pop("scan_timestamp")
    if any(f["rule_id"] == "HDF5-PARSER-FAILURE" for f in d["vulnerabilities"]):
        sys.exit(1)
sys.exit(a != b)
PY
then
    notes+=("warning: the HDF5 folder gave a reader failure or differed between --jobs 1 and $(nproc)")
fi

# --- PyTorch checkpoints: time must not grow with the weights without hashing
ckpt_mb=${BENCH_CKPT_MB:-2048}
if [[ ${BENCH_SKIP_CKPT:-0} == 1 ]]; then
    notes+=("checkpoint cases skipped (BENCH_SKIP_CKPT=1)")
elif ! "$py" -c "import torch" 2>/dev/null; then
    notes+=("checkpoint cases skipped: $py cannot import torch (apt-get install python3-torch)")
else
    echo "bench: PyTorch checkpoints of ${ckpt_mb} MB and 16 MB (zip and legacy) ..." >&2
    "$py" "$here/gen_checkpoint.py" "$dir" "$ckpt_mb" >&2
    "$py" "$here/gen_checkpoint.py" "$dir" 16 >&2
    for kind in zip legacy; do
        big=$dir/ckpt-$kind-${ckpt_mb}M.pt small=$dir/ckpt-$kind-16M.pt
        scanner_case "checkpoint $kind --no-hash"     "$big"   0
        scanner_case "checkpoint $kind --no-hash"     "$small" 0
        scanner_case "checkpoint $kind (sha256 on)"   "$big"   1
    done
    # the machine's SHA-256 speed (OpenSSL, as the scanner uses), for the hashing rows
    measure sha openssl dgst -sha256 "$dir/ckpt-zip-${ckpt_mb}M.pt"
    rows+=("openssl dgst -sha256 (reference)|$(stat -c %s "$dir/ckpt-zip-${ckpt_mb}M.pt")|$m_sec|$m_rss")
    # convert: tensor bytes are copied in bounded chunks, so peak RSS must stay
    # far below the checkpoint's size (one run each; the output is deleted)
    for kind in zip legacy; do
        big=$dir/ckpt-$kind-${ckpt_mb}M.pt conv=$tmp/convert-$kind.safetensors
        cat -- "$big" >/dev/null
        scanner_args=(convert --quiet "$big" "$conv")
        measure convert "$scanner" "${scanner_args[@]}"
        if (( m_rc == 1 )); then
            notes+=("warning: convert refused $big: $(tail -n 1 "$tmp/convert.err")")
        elif (( m_rc != 0 )); then
            check_scanner_rc convert "convert $kind"   # 2 or a signal: fails the bench
        fi
        rows+=("convert $kind -> safetensors|$(stat -c %s "$big")|$m_sec|$m_rss")
        rm -f -- "$conv"
    done
fi

py_sec="" py_rss=""
if [[ $skip_py == 1 ]]; then
    notes+=("python walk skipped (BENCH_SKIP_PYTHON=1)")
else
    echo "bench: python pickletools walk (slow: ~1 min per 256 MB) ..." >&2
    measure pywalk "$py" "$here/pickletools_walk.py" "$f_memo"
    if (( m_rc != 0 )); then
        notes+=("warning: pickletools_walk.py exited $m_rc: $(tail -n 1 "$tmp/pywalk.err")")
    fi
    py_ops=$(awk '$1 == "opcodes" { print $2 }' "$tmp/pywalk.out")
    gen_ops=$(json_field "$f_memo.json" opcodes)
    if [[ $py_ops != "$gen_ops" ]]; then
        notes+=("warning: python walk counted ${py_ops:-?} opcodes, generator wrote $gen_ops")
    fi
    rows+=("python pickletools.genops walk|$(stat -c %s "$f_memo")|$m_sec|$m_rss")
    py_sec=$m_sec py_rss=$m_rss
fi

# --- report ------------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo
echo "model-scanner benchmark  ($(nproc) CPU(s)${cpu:+, $cpu}; MB = 2^20 bytes)"
for f in "$f_memo" "$f_nomemo" "$f_small"; do
    printf '  %-52s %9d opcodes, %9d memo entries\n' "$(basename "$f")" \
        "$(json_field "$f.json" opcodes)" "$(json_field "$f.json" memo_entries)"
done
echo
printf '%-32s %9s %9s %9s %12s\n' "case" "size MB" "seconds" "MB/s" "peak RSS MB"
printf '%-32s %9s %9s %9s %12s\n' "--------------------------------" "-------" "-------" "------" "-----------"
for row in "${rows[@]}"; do
    IFS='|' read -r label bytes sec rss <<<"$row"
    awk -v l="$label" -v b="$bytes" -v s="$sec" -v r="$rss" 'BEGIN {
        mb = b / 1048576
        printf "%-32s %9.1f %9.3f %9.1f %12.1f\n", l, mb, s, (s > 0 ? mb / s : 0), r / 1024 }'
done
echo
if [[ -n $py_sec ]]; then
    awk -v p="$py_sec" -v s="$scan_sec" -v pr="$py_rss" -v sr="$scan_rss" 'BEGIN {
        printf "speed-up vs python walk (scanner --no-hash):  %.1fx faster\n", p / s
        if (sr > 0) printf "RSS ratio (python walk / scanner --no-hash): %.1fx\n", pr / sr }'
else
    echo "speed-up / RSS ratio vs python walk: n/a (walk skipped)"
fi
scan_mbs=$(awk -v b="$(stat -c %s "$f_memo")" -v s="$scan_sec" 'BEGIN { printf "%.1f", b / 1048576 / s }')
if awk -v x="$scan_mbs" -v t="$target" 'BEGIN { exit !(x > t) }'; then
    verdict="MET"
else
    verdict="NOT MET"
fi
echo "target: > $target MB/s  ->  $verdict  (scanner --no-hash: $scan_mbs MB/s)"
for n in "${notes[@]+"${notes[@]}"}"; do
    echo "$n"
done
exit 0
