#!/bin/sh
# pre-commit-hook.sh - the pre-commit hook (.pre-commit-hooks.yaml): scans the
# files being committed with model-scanner, which must be on PATH (or named
# by $MODEL_SCANNER).
#
#   pre-commit runs:  pre-commit-hook.sh [OPTIONS... --] FILE...
#   OPTIONS:          scanner options from the hook's `args`, ended by "--";
#                     --fail-on high unless they set --fail-on
#
# Exit status is the scanner's: 0 nothing at or above the threshold, 1 such a
# finding (the commit is stopped), 2 the scan could not run (stopped too).
set -u
scanner=${MODEL_SCANNER:-model-scanner}
if ! command -v "$scanner" >/dev/null 2>&1; then
    echo "model-scanner pre-commit hook: '$scanner' is not on PATH; build and install" \
         "it (see its README) or set MODEL_SCANNER to its path" >&2
    exit 2
fi

in_opts=0
for a in "$@"; do
    [ "$a" = "--" ] && in_opts=1
done
fail_on="--fail-on high"
nfiles=0
first=1
for a in "$@"; do # the list is expanded once, so "$@" can be rebuilt inside
    if [ "$first" -eq 1 ]; then
        set --
        first=0
    fi
    if [ "$in_opts" -eq 1 ]; then
        case "$a" in
        --) in_opts=0 ;;
        --fail-on | --fail-on=*) fail_on="" ; set -- "$@" "$a" ;;
        *) set -- "$@" "$a" ;;
        esac
        continue
    fi
    set -- "$@" --model-path "$a"
    nfiles=$((nfiles + 1))
done
[ "$nfiles" -eq 0 ] && exit 0
# shellcheck disable=SC2086 # fail_on is two words or empty
exec "$scanner" --output-format text --no-progress $fail_on "$@"
