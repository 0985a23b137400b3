#!/usr/bin/env bash
# Configures and builds into build/ — everything (cairn, its tests and benchmarks), or only
# the targets named: `bash scripts/build.sh cairn` builds just the binary. Warnings are errors.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_WERROR=ON >/dev/null
cmake --build "$root/build" -j "$(nproc)" ${1:+--target "$@"}
