#!/usr/bin/env bash
# install-deps.sh - installs the Debian packages model-scanner needs to build
# and test, and nothing when they are already there (idempotent).
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --fuzz   also clang and libFuzzer (fuzz targets)
set -euo pipefail

packages=(
    build-essential meson ninja-build pkg-config
    libjansson-dev libssl-dev zlib1g-dev libyaml-dev libhyperscan-dev
    libhdf5-dev libarchive-dev liblzma-dev libzstd-dev libbz2-dev
    python3 bsdutils time git pre-commit groff-base
)
# validating SARIF and CycloneDX reports (tests/test_sarif_cyclonedx.py)
packages+=(python3-jsonschema nodejs)
if [ "${1:-}" = "--fuzz" ]; then
    packages+=(clang libclang-rt-dev)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
# the SARIF and CycloneDX schemas the tests validate against (npm, pinned)
fetch_schemas() { "$(dirname "$0")/../tests/schemas/fetch.sh"; }
[ ${#missing[@]} -eq 0 ] && { fetch_schemas; exit 0; }

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fetch_schemas
