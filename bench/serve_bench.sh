#!/usr/bin/env bash
# cairn serve at scale: N concurrent long-poll watchers (default 1000) on one cairn-serve;
# after a promote (then a rollback), how long each waited for the event — p50/p99/max from
# the moment the move command returned — and the server's resident memory (idle, with every
# watcher waiting, peak), for three moves: promote v2, rollback, promote v3. Target (issue
# 19): every watcher within 1 s, RSS < 300 MB.
#   bash bench/serve_bench.sh [--watchers N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/common.sh"
watchers=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --watchers) watchers=$2; shift 2 ;;
    *) echo "usage: $0 [--watchers N]" >&2; exit 2 ;;
  esac
done
bench_build cairn cairn-serve cairn-watch-bench
bin="$root/build/bin"
work="$root/out/serve-bench"
bench_workdir "$work" .serve-bench
store="$work/store"
export CAIRN_ACTOR="bench@serve"
"$bin/cairn" --store "$store" init >/dev/null
v1=$("$bin/cairn" --store "$store" snapshot create "$root/fixtures/releases/v1" -m v1 -q | cut -c1-64)
v2=$("$bin/cairn" --store "$store" snapshot create "$root/fixtures/releases/v2" -m v2 -q | cut -c1-64)
v3=$("$bin/cairn" --store "$store" snapshot create "$root/fixtures/releases/v3" -m v3 -q | cut -c1-64)
"$bin/cairn" --store "$store" promote "$v1" --to prod --reason start >/dev/null

"$bin/cairn-serve" --store "$store" --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.out")
echo "cairn-serve pid $server on port $port; $watchers watchers"
moves=("promote $v2 --to prod --reason bench" "rollback prod --reason bench"
       "promote $v3 --to prod --reason bench")
seq=1
for m in "${moves[@]}"; do
  echo "${m%% *}:"
  # shellcheck disable=SC2086  # the move's words
  "$bin/cairn-watch-bench" --port "$port" --after "$seq" --watchers "$watchers" \
    --server-pid "$server" -- "$bin/cairn" --store "$store" $m
  seq=$((seq + 1))
  sleep 1
done
