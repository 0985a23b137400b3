#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/
# (its own directory, libraries linked dynamically) and runs every test there. Any report
# fails the test that triggered it: ASan exits non-zero, UBSan aborts on the first finding.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh"
cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_WERROR=ON \
  -DCAIRN_SANITIZE=ON -DCAIRN_STATIC_ROCKSDB=OFF -DCAIRN_BUILD_BENCH=OFF >/dev/null
cmake --build "$root/build-asan" -j "$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$root/build-asan"
ctest --output-on-failure -j 2 --timeout 1800
