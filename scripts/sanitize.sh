#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer (scripts/asan-build.sh:
# clang, build-asan/, libraries linked dynamically) and runs every test there. Any report
# fails the test that triggered it: ASan exits non-zero, UBSan stops at the first finding.
# The child processes the end-to-end tests start inherit these options (tests/support).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/asan-build.sh" cairn unit_tests e2e_tests
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$root/build-asan"
ctest --output-on-failure -j 2 --timeout 1800 -E '^fuzz_replay'
