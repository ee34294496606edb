#!/usr/bin/env bash
# lint.sh - banned functions and library hygiene.
#  - no strcpy/strcat/sprintf/vsprintf/gets/strtok/atoi/atol/alloca anywhere
#  - the library (src/) never prints: no printf/puts/fprintf(stdout|stderr)
set -u
cd "$(dirname "$0")/.."
status=0
banned='(^|[^.a-zA-Z0-9_>])(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|atoll|alloca|system|popen|dlopen)\s*\('
if grep -rnE "$banned" --include='*.c' --include='*.h' src tools fuzz tests/unit | grep -vE '(snprintf|vsnprintf)'; then
    echo "lint: banned function used (see above)"
    status=1
fi
if grep -rnE '\b(printf|puts|putchar|perror)\s*\(|\bf(printf|puts)\s*\(\s*std(out|err)' --include='*.c' src; then
    echo "lint: the library must not print (see above)"
    status=1
fi
if command -v clang-format >/dev/null 2>&1; then
    : # formatting is advisory: clang-format --dry-run src/**/*.c
fi
[ $status -eq 0 ] && echo "lint: ok"
exit $status
