#!/usr/bin/env bash
# Configures and builds cairn (and its tests) into build/. Warnings are errors.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_WERROR=ON >/dev/null
cmake --build "$root/build" -j "$(nproc)"
