#!/usr/bin/env bash
# Builds the libFuzzer targets under fuzz/ (clang, ASan + UBSan, in build-asan/) and runs
# each for SECONDS (default 60) from its seeds: fixtures/, fuzz/seeds/, the conformance data
# beside the repository when it is there, and fuzz/regressions/<target>/. A crash stops the
# run with the input saved in build-asan/crashes/<target>/ and exit 1: copy that file into
# fuzz/regressions/<target>/ and fix the bug (every test run then replays it).
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
build="$root/build-asan"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$root"/fuzz/*_fuzzer.cc; do
    targets+=("$(basename "$f" _fuzzer.cc)")
  done
fi
bash "$root/scripts/asan-build.sh" "${targets[@]/%/_fuzzer}"

# A target's seeds, as fuzz/CMakeLists.txt lists them (FUZZ_SEEDS_<target>).
seeds_of() {
  sed -n "s|^set(FUZZ_SEEDS_$1 \(.*\)|\1|p" "$root/fuzz/CMakeLists.txt" | head -1 |
    sed -e "s|\${CMAKE_SOURCE_DIR}|$root|g" -e "s|\${CMAKE_CURRENT_SOURCE_DIR}|$root/fuzz|g" \
        -e "s|\${CAIRN_CONFORMANCE}|$root/../shared/conformance|g" -e 's|)$||'
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  crashes="$build/crashes/$t"
  mkdir -p "$corpus" "$crashes" "$root/fuzz/regressions/$t"
  dirs=()
  for d in $(seeds_of "$t") "$root/fuzz/regressions/$t"; do
    [ -e "$d" ] && dirs+=("$d")
  done
  log="$build/$t.log"
  if "$build/bin/${t}_fuzzer" "$corpus" "${dirs[@]}" -max_total_time="$seconds" \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$crashes/" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "fuzz $t: ${execs:-?} execs in ${seconds}s, no crash"
  else
    echo "fuzz $t: FAILED (input in $crashes/, log $log)"
    grep -m 20 -E "ERROR|SUMMARY|runtime error|==[0-9]+==" "$log" || tail -20 "$log"
    status=1
  fi
done
exit $status
