#!/usr/bin/env bash
# Configures and builds the sanitized tree in build-asan/: clang, AddressSanitizer and
# UndefinedBehaviorSanitizer everywhere, libraries linked dynamically, and the fuzz targets
# as libFuzzer binaries. scripts/fuzz.sh and scripts/sanitize.sh share it, so the library is
# compiled once for both.
#   bash scripts/asan-build.sh [TARGET...]     (default: everything)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh"
bash "$root/scripts/deps.sh" --fuzz
build="$root/build-asan"
CXX=clang++ CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCAIRN_WERROR=ON -DCAIRN_SANITIZE=ON -DCAIRN_STATIC_ROCKSDB=OFF -DCAIRN_BUILD_BENCH=OFF \
  >/dev/null
if ! cmake --build "$build" -j "$(nproc)" ${1:+--target "$@"} >"$build/build.log" 2>&1; then
  tail -40 "$build/build.log"
  exit 1
fi
