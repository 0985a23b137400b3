#!/usr/bin/env bash
# Deployment benchmark: whole-process wall time of `cairn promote`, `cairn rollback`,
# `cairn status` and `cairn live --at` on a deployment with 10^2, 10^4 and 10^6 events,
# against git on a git repository, interleaved in the same run (these machines are noisy;
# ratios are what count): moves against a durable `git -c core.fsync=reference update-ref`
# (and the default, unsynced one), reads against `git rev-parse` of a ref.
#
#   bash bench/deploy_bench.sh [--runs R] [--warmup W] [--workdir DIR] [--max-events N]
#
# Every promote and rollback really moves the pointer (two snapshots alternate; rollbacks
# pop a deep stack); every git run moves the ref between two commits. Medians and p90 of R
# runs (default 30) after W warm-ups (default 3). --max-events 10000 skips the 10^6 store.
# Builds into $CAIRN_BUILD_DIR (default build/). Results: a table and WORKDIR/results.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=30
warmup=3
workdir=/tmp/cairn-deploy-bench
max_events=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --max-events) max_events=$2; shift 2 ;;
    *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done

bash "$root/scripts/deps.sh"
command -v git >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git >/dev/null
command -v python3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null
build=${CAIRN_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCAIRN_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target cairn cairn-build-history cairn-timed-runs \
  cairn-move-floor >/dev/null
CAIRN=${CAIRN:-$build/bin/cairn}
HISTORY=$build/bin/cairn-build-history
TIMED=$build/bin/cairn-timed-runs
FLOOR=$build/bin/cairn-move-floor

# Only ever empty a directory this script made.
marker=.cairn-deploy-bench
if [ -e "$workdir" ] && [ -n "$(ls -A "$workdir")" ] && [ ! -e "$workdir/$marker" ]; then
  echo "deploy_bench: $workdir is not empty and was not made by this benchmark" >&2
  exit 1
fi
rm -rf "$workdir"
mkdir -p "$workdir"
touch "$workdir/$marker"

# One store per history length, each with the same two snapshots.
sizes=()
for n in 100 10000 1000000; do [ "$n" -le "$max_events" ] && sizes+=("$n"); done
declare -A middle first_snap second_snap rollback_targets
for n in "${sizes[@]}"; do
  s=$workdir/store-$n
  "$CAIRN" --store "$s" init >/dev/null
  # The history ends before now, one event a minute, and no move may be dated before its
  # snapshot was created: create the two snapshots under a clock far enough in the past
  # (libfaketime, installed by scripts/deps.sh).
  past=(env LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
    FAKETIME="-$((n / 1440 + 2))d" FAKETIME_DONT_FAKE_MONOTONIC=1)
  snap_a=$("${past[@]}" "$CAIRN" --store "$s" snapshot create "$root/fixtures/releases/v1" -m v1 -q)
  snap_b=$("${past[@]}" "$CAIRN" --store "$s" snapshot create "$root/fixtures/releases/v2" -m v2 -q)
  echo "building a history of $n events in $s ..."
  t0=$(date +%s.%N)
  line=$("$HISTORY" "$s" --events "$n" --snapshot "$snap_a" --snapshot "$snap_b")
  printf '  %s (%.1f s)\n' "$line" "$(echo "$(date +%s.%N) - $t0" | bc -l)"
  middle[$n]=$(sed 's/.*middle=\([^ ]*\).*/\1/' <<<"$line")
  first_snap[$n]=$snap_a
  second_snap[$n]=$snap_b
  # Distinct snapshots for the rollback group to walk down through (below).
  extra=$workdir/extra-release
  rm -rf "$extra" && cp -r "$root/fixtures/releases/v1" "$extra"
  ids=()
  for i in $(seq 1 $((runs + warmup + 1))); do
    echo "bench rollback target $i" >"$extra/config/bench-target.txt"
    ids+=("$("${past[@]}" "$CAIRN" --store "$s" snapshot create "$extra" -m "target $i" -q)")
  done
  rollback_targets[$n]="${ids[*]}"
done
# Every history has an even number of events, so snap_b is live and the first timed
# promote (warm-ups included) moves to snap_a, the next back to snap_b, and so on.

# The peer: a ref in a git repository moved between two commits. Git does not fsync refs
# by default (core.fsync leaves them out); git_fsync is the same with core.fsync=reference.
g=$workdir/git
git init -q "$g"
git -C "$g" -c user.name=bench -c user.email=bench@example.com commit -q --allow-empty -m a
git -C "$g" -c user.name=bench -c user.email=bench@example.com commit -q --allow-empty -m b
c1=$(git -C "$g" rev-parse HEAD~1)
c2=$(git -C "$g" rev-parse HEAD)
git -C "$g" update-ref refs/heads/bench "$c2"
git -C "$g" update-ref refs/heads/bench-fsync "$c2"
git_bench=(--bench git --alt "$c1" --alt "$c2" -- git -C "$g" update-ref refs/heads/bench "{}" ';'
  --bench git_fsync --alt "$c1" --alt "$c2" --
  git -C "$g" -c core.fsync=reference update-ref refs/heads/bench-fsync "{}" ';')

git_read=(--bench git_rev_parse -- git -C "$g" rev-parse refs/heads/bench ';')
# Two floors, timed with the promotes: starting cairn at all (`cairn --version`: loading,
# static initialisers, CLI11), and a bare move in cairn's database (bench/move_floor.cc:
# read-write open, one synced and acknowledged three-key batch, close) on a scratch store.
"$CAIRN" --store "$workdir/floor-store" init >/dev/null
floors=(--bench floor_process -- "$CAIRN" --version ';'
  --bench floor_db_move -- "$FLOOR" "$workdir/floor-store" ';')
promote=() rollback=() live=() status=()
for n in "${sizes[@]}"; do
  s=$workdir/store-$n
  promote+=(--bench "promote_$n" --alt "${first_snap[$n]}" --alt "${second_snap[$n]}" --
    "$CAIRN" --store "$s" promote "{}" --to prod --reason bench ';')
  rollback+=(--bench "rollback_$n" -- "$CAIRN" --store "$s" rollback prod --reason bench ';')
  live+=(--bench "live_at_$n" -- "$CAIRN" --store "$s" live prod --at "${middle[$n]}" ';')
  status+=(--bench "status_$n" -- "$CAIRN" --store "$s" status ';')
done

echo "timing promote ($warmup warm-ups, $runs runs, interleaved with git) ..."
"$TIMED" --runs "$runs" --warmup "$warmup" "${promote[@]}" "${floors[@]}" "${git_bench[@]}" \
  >"$workdir/promote.json"
# Rollback walks down the stack, and a snapshot rolled back from prod is judged bad there: a
# walk back into another stay of it needs --force. So each rollback must return to a
# distinct snapshot: push that many distinct ones first (untimed), then time the walk down.
for n in "${sizes[@]}"; do
  for id in ${rollback_targets[$n]}; do
    "$CAIRN" --store "$workdir/store-$n" promote "$id" --to prod --reason "bench setup" >/dev/null
  done
done
echo "timing rollback ..."
"$TIMED" --runs "$runs" --warmup "$warmup" "${rollback[@]}" "${git_bench[@]}" >"$workdir/rollback.json"
echo "timing live --at ..."
"$TIMED" --runs "$runs" --warmup "$warmup" "${live[@]}" "${git_read[@]}" >"$workdir/live.json"
echo "timing status ..."
"$TIMED" --runs "$runs" --warmup "$warmup" "${status[@]}" "${git_read[@]}" >"$workdir/status.json"

for n in "${sizes[@]}"; do
  "$CAIRN" --store "$workdir/store-$n" audit verify >/dev/null ||
    { echo "audit verify failed on store-$n after the benchmark" >&2; exit 1; }
done

python3 - "$workdir" "$runs" "$warmup" "${sizes[@]}" <<'PY'
import json, sys
workdir, runs, warmup, sizes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
groups = {g: json.load(open(f"{workdir}/{g}.json")) for g in ("promote", "rollback", "live", "status")}
peer = {"promote": "git_fsync", "rollback": "git_fsync", "live": "git_rev_parse", "status": "git_rev_parse"}
ms = lambda s: s * 1000
print(f"\n{'(whole process, ms)':34} {'median':>8} {'p90':>8} {'peer med':>8} {'ratio':>7}")
results = {"runs": runs, "warmup": warmup, "seconds": {}, "ratios": {}, "targets": {}}
for g, rows in groups.items():
    base = rows[peer[g]]
    for name, r in rows.items():
        if name.startswith("git"):
            continue
        ratio = r["median"] / base["median"]
        results["seconds"][name] = r
        results["ratios"][f"{name}_vs_{peer[g]}"] = round(ratio, 3)
        print(f"{name:34} {ms(r['median']):8.2f} {ms(r['p90']):8.2f} {ms(base['median']):8.2f} {ratio:7.2f}")
    for name in [n for n in rows if n.startswith("git")]:
        results["seconds"][f"{name}_{g}"] = rows[name]
        print(f"{name + ' (' + g + ' run)':34} {ms(rows[name]['median']):8.2f} {ms(rows[name]['p90']):8.2f}")

def target(label, value, limit):
    ok = value <= limit
    results["targets"][label] = {"value": round(value, 3), "limit": limit, "pass": ok}
    print(f"  {label:52} {value:6.2f}  <= {limit:<4} {'PASS' if ok else 'FAIL'}")

print("\nratios                                               value     target")
for g in ("promote", "rollback"):
    for n in sizes:
        target(f"{g} {n} events / durable git update-ref", groups[g][f"{g}_{n}"]["median"] / groups[g]["git_fsync"]["median"], 2.0)
    if len(sizes) > 1:
        big, small = sizes[-1], sizes[0]
        target(f"{g} {big} / {small} events", groups[g][f"{g}_{big}"]["median"] / groups[g][f"{g}_{small}"]["median"], 1.2)
big = sizes[-1]
for g, name in (("live", "live_at"), ("status", "status")):
    target(f"{name} {big} events / git rev-parse", groups[g][f"{name}_{big}"]["median"] / groups[g]["git_rev_parse"]["median"], 1.5)
for name, what in (("floor_process", "cairn --version"), ("floor_db_move", "bare move in cairn's database")):
    ratio = groups["promote"][name]["median"] / groups["promote"]["git_fsync"]["median"]
    results["ratios"][f"{name}_vs_git_fsync"] = round(ratio, 3)
    print(f"  (floor) {what} / durable git update-ref: {ratio:.2f}")
for g in ("promote", "rollback"):
    ratio = groups[g][f"{g}_{big}"]["median"] / groups[g]["git"]["median"]
    results["ratios"][f"{g}_{big}_vs_git_unsynced"] = round(ratio, 3)
    print(f"  (for reference) {g} {big} / git update-ref without fsync: {ratio:.2f}")
json.dump(results, open(f"{workdir}/results.json", "w"), indent=1)
print(f"results: {workdir}/results.json")
PY
