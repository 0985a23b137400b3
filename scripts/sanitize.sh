#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer (scripts/asan-build.sh:
# clang, build-asan/, libraries linked dynamically) and runs every test there. Any report
# fails the test that triggered it: ASan exits non-zero, UBSan stops at the first finding.
# The child processes the end-to-end tests start inherit these options (tests/support).
#   bash scripts/sanitize.sh [--skip-slow]
# --skip-slow (CI) leaves out the loops that repeat one path many times — the random-SIGKILL
# loops, the 4 GiB file, the named crash points (20 kills each), the 8-process promote and
# team-mode races, the full-disk fill levels, the 100-switch checkout reader and the
# damaged-block recover: sanitized they are 5-10x their ordinary time (the crash points
# alone 3.5 of the 5.5 minutes of a whole sanitized run), and what they prove — crash
# safety, one winner per race, bounded memory — is checked by the ordinary run of the same
# tests (scripts/test.sh). Every other test, team mode's and the server's included, runs
# sanitized.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exclude='^fuzz_replay'
if [ "${1:-}" = "--skip-slow" ]; then
  exclude='^fuzz_replay|Sigkill|FourGibFile|^CrashPointE2E|^TeamTest.Racing|TeamTest.KilledAt'
  exclude+='|EightProcessesFiftyPromotes|^FullDiskTest|ReaderNeverSeesAMix|ADamagedTableBlockCosts'
fi
bash "$root/scripts/asan-build.sh" cairn unit_tests e2e_tests
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Leaks inside third-party libraries, each explained in the file.
export LSAN_OPTIONS="suppressions=$root/scripts/lsan-suppressions.txt:print_suppressions=0"
cd "$root/build-asan"
ctest --output-on-failure -j 2 --timeout 1800 -E "$exclude"
