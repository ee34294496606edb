#!/usr/bin/env bash
# fetch.sh - installs, from the npm registry and pinned by package-lock.json,
# what tests/test_sarif_cyclonedx.py validates reports with:
#   @cyclonedx/cyclonedx-library   res/schema/bom-1.6.SNAPSHOT.schema.json and
#                                  the spdx and jsf schemas it references
#   @microsoft/sarif-multitool-linux  sarif-2.1.0.json (the SARIF 2.1.0 schema
#                                  of Microsoft's SARIF SDK) and Sarif.Multitool,
#                                  the validator GitHub's docs point to, whose
#                                  GitHub rules (GH1001...) check what code
#                                  scanning ingests
# Idempotent: does nothing when node_modules matches package-lock.json.
# Package scripts are not run (--ignore-scripts); the one the multitool
# declares (chmod u+x) is done here.
set -euo pipefail
cd "$(dirname "$0")"

stamp=node_modules/.model-scanner-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    [ -f node_modules/@cyclonedx/cyclonedx-library/res/schema/bom-1.6.SNAPSHOT.schema.json ] &&
    [ -x node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool ]; then
    exit 0
fi
command -v npm >/dev/null 2>&1 || {
    echo "tests/schemas/fetch.sh: npm is needed to install the SARIF and CycloneDX schemas" >&2
    exit 1
}
echo "tests/schemas/fetch.sh: npm ci (schemas and the SARIF validator)" >&2
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
chmod u+x node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
echo "$want" >"$stamp"
