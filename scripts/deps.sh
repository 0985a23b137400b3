#!/usr/bin/env bash
# Installs the Debian 12 packages cairn needs to build and test, if any is missing.
# `--fuzz`: the packages scripts/fuzz.sh needs (clang and its libFuzzer and sanitizer runtimes).
set -euo pipefail
packages=(
  build-essential cmake pkg-config git
  librocksdb-dev libsnappy-dev liblz4-dev libbz2-dev zlib1g-dev libzstd-dev libssl-dev libgit2-dev libutf8proc-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libcpp-httplib-dev
  libgtest-dev libbenchmark-dev faketime curl openssl iproute2
  python3-scipy  # the t-table generator and the scipy cross-check test
)
if [ "${1:-}" = "--fuzz" ]; then
  packages=(clang libclang-rt-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
