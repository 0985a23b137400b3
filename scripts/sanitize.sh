#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer (scripts/asan-build.sh:
# clang, build-asan/, libraries linked dynamically) and runs every test there. Any report
# fails the test that triggered it: ASan exits non-zero, UBSan stops at the first finding.
# The child processes the end-to-end tests start inherit these options (tests/support).
#   bash scripts/sanitize.sh [--skip-slow]
# --skip-slow (CI) leaves out the random-SIGKILL loops and the 4 GiB file: sanitized they
# took 599 of the 1,071 test-seconds of a whole run (5-10x their ordinary time), and what
# they prove — crash safety, bounded memory — is checked by the ordinary run of the same
# tests (scripts/test.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exclude='^fuzz_replay'
if [ "${1:-}" = "--skip-slow" ]; then
  exclude='^fuzz_replay|Sigkill|FourGibFile'
fi
bash "$root/scripts/asan-build.sh" cairn unit_tests e2e_tests
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$root/build-asan"
ctest --output-on-failure -j 2 --timeout 1800 -E "$exclude"
