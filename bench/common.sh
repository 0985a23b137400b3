# Shared by the benchmark scripts (sourced, not run): tools, the build, the work directory
# and the ratio arithmetic. Expects $root (the source tree) to be set.

# bench_tools TOOL... : installs git, restic, time and bc when one of TOOL is missing.
bench_tools() {
  bash "$root/scripts/deps.sh"
  for tool in "$@"; do
    command -v "$tool" >/dev/null || {
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git restic time bc >/dev/null
      return
    }
  done
}

# bench_build TARGET... : configures with the benchmarks on and builds TARGETs.
bench_build() {
  cmake -S "$root" -B "$root/build" -DCAIRN_BUILD_BENCH=ON >/dev/null
  cmake --build "$root/build" -j "$(nproc)" --target "$@" >/dev/null
}

# bench_workdir DIR MARKER : empties DIR for a new run — only if this benchmark made it
# (MARKER is the file it leaves there) or it is empty.
bench_workdir() {
  local dir=$1 marker=$2
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ] && [ ! -e "$dir/$marker" ]; then
    echo "$(basename "$0"): $dir is not empty and was not made by this benchmark" >&2
    exit 1
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  touch "$dir/$marker"
}

ratio() { echo "scale=3; $1 / $2" | bc -l | sed 's/^\./0./'; }
verdict() { if (( $(echo "$1 <= $2" | bc -l) )); then echo PASS; else echo FAIL; fi; }
