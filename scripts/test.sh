#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and end-to-end) with CTest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure -j 2 --timeout 900
