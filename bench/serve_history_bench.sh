#!/usr/bin/env bash
# cairn serve's reads against the CLI's on a deployment with 10^6 events: `GET /v1/status`
# against `cairn status --json`, and `GET /v1/deployments/prod/live?at=T` against `cairn live
# prod --at T --json` (T in the middle of the history), interleaved in one run. A server
# request is timed as a whole `curl` process (start, connect, request, answer, exit), the
# CLI as a whole `cairn` process: the server pays curl's start-up, so the ratio is, if
# anything, against it. Target (issue 19): each server read <= 2x the CLI command's time.
#
#   bash bench/serve_history_bench.sh [--events N] [--runs R] [--workdir DIR]
#
# Results: a table on stdout and WORKDIR/results.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
events=1000000
runs=30
workdir=/tmp/cairn-serve-history-bench
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
source "$root/bench/common.sh"
bash "$root/scripts/deps.sh"
command -v curl >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
bench_build cairn cairn-serve cairn-build-history cairn-timed-runs
bin=$root/build/bin
bench_workdir "$workdir" .serve-history-bench
s=$workdir/store
"$bin/cairn" --store "$s" init >/dev/null
# The history ends before now, one event a minute, and no move may be dated before its
# snapshot was created: the snapshots are made under a clock far enough in the past.
past=(env LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
  FAKETIME="-$((events / 1440 + 2))d" FAKETIME_DONT_FAKE_MONOTONIC=1)
a=$("${past[@]}" "$bin/cairn" --store "$s" snapshot create "$root/fixtures/releases/v1" -m v1 -q)
b=$("${past[@]}" "$bin/cairn" --store "$s" snapshot create "$root/fixtures/releases/v2" -m v2 -q)
echo "building a history of $events events ..."
line=$("$bin/cairn-build-history" "$s" --events "$events" --snapshot "$a" --snapshot "$b")
echo "  $line"
middle=$(sed 's/.*middle=\([^ ]*\).*/\1/' <<<"$line")

"$bin/cairn" --store "$s" serve --listen 127.0.0.1:0 >"$workdir/serve.out" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$workdir/serve.out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$workdir/serve.out")
url=http://127.0.0.1:$port/v1
# Both answer the same question: check once that they agree before timing.
curl -sf "$url/deployments/prod/live?at=$middle" | grep -q '"live"' ||
  { echo "the server did not answer live?at=$middle" >&2; exit 1; }

echo "timing ($runs runs, interleaved) ..."
"$bin/cairn-timed-runs" --runs "$runs" --warmup 3 \
  --bench cli_status -- "$bin/cairn" --store "$s" status --json ';' \
  --bench serve_status -- curl -sf "$url/status" ';' \
  --bench cli_live_at -- "$bin/cairn" --store "$s" live prod --at "$middle" --json ';' \
  --bench serve_live_at -- curl -sf "$url/deployments/prod/live?at=$middle" ';' \
  --bench curl_alone -- curl -s -o /dev/null "$url/no-such-route" ';' \
  >"$workdir/timed.json"

/usr/bin/python3 - "$workdir" "$events" <<'PY'
import json, sys
workdir, events = sys.argv[1], int(sys.argv[2])
r = json.load(open(f"{workdir}/timed.json"))
ms = lambda x: x * 1000
print(f"\n{'(whole process, ms)':24} {'median':>8} {'p90':>8}")
for name, v in r.items():
    print(f"{name:24} {ms(v['median']):8.2f} {ms(v['p90']):8.2f}")
out = {"events": events, "seconds": r, "ratios": {}}
print(f"\nratios at {events} events              value   target")
for what in ("status", "live_at"):
    ratio = r[f"serve_{what}"]["median"] / r[f"cli_{what}"]["median"]
    out["ratios"][f"serve_{what}_vs_cli"] = round(ratio, 3)
    print(f"  serve {what:8} / cairn {what:8} {ratio:7.2f}   <= 2.0 {'PASS' if ratio <= 2.0 else 'FAIL'}")
json.dump(out, open(f"{workdir}/results.json", "w"), indent=1)
print(f"results: {workdir}/results.json")
PY
