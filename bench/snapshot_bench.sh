#!/usr/bin/env bash
# Snapshot benchmark: `cairn snapshot create` against `git add -A && git commit` and
# `restic backup` on the same synthetic release, in the same run — first the full tree,
# then again after 1% of the documents changed. Reports wall time, peak memory and store
# size, and the ratios against the peers (these machines are noisy; ratios are what count).
#
#   bash bench/snapshot_bench.sh [--files N] [--mb M] [--workdir DIR] [--runs R]
#
# Every tool runs with a warm page cache (the tree is read once before each measurement).
# With --runs R each phase keeps its fastest of R repetitions.
# Results: a table on stdout and WORKDIR/results.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
files=10000
mb=650
workdir=/tmp/cairn-bench
runs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --files) files=$2; shift 2 ;;
    --mb) mb=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done

source "$root/bench/common.sh"
bench_tools git restic /usr/bin/time bc
bench_build cairn cairn-gen-release
CAIRN=${CAIRN:-$root/build/bin/cairn}
GEN=$root/build/bin/cairn-gen-release

bench_workdir "$workdir" .cairn-snapshot-bench
tree=$workdir/tree
echo "generating $files files, $mb MB into $tree ..."
"$GEN" "$tree" --files "$files" --mb "$mb" --seed 1
cp -a "$tree" "$workdir/tree.orig"
# The files are brand new; let them age past cairn's racy-clean window (2 s), as the files
# of any real tree have, so the second snapshot may trust the unchanged ones.
sleep 3

warm() { sync; find "$tree" -type f -exec cat {} + >/dev/null; }

declare -A secs rss bestsecs bestrss
# measure NAME CMD...: runs CMD with a warm cache, records wall seconds and peak KB.
measure() {
  local name=$1; shift
  warm
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$workdir/rss" "$@" >/dev/null 2>"$workdir/err" || {
    echo "FAILED: $*" >&2; tail -20 "$workdir/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  secs[$name]=$(echo "$t1 - $t0" | bc -l)
  rss[$name]=$(tail -1 "$workdir/rss")
  if [ -z "${bestsecs[$name]:-}" ] || (( $(echo "${secs[$name]} < ${bestsecs[$name]}" | bc -l) )); then
    bestsecs[$name]=${secs[$name]}; bestrss[$name]=${rss[$name]}
  fi
}

export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$workdir/restic-cache
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
gitc() { git --git-dir="$workdir/git/.git" --work-tree="$tree" "$@"; }
export -f gitc
export workdir tree

for run in $(seq 1 "$runs"); do
  rm -rf "$workdir/cairn" "$workdir/git" "$workdir/restic" "$workdir/restic-cache"
  if [ "$run" -gt 1 ]; then rm -rf "$tree"; cp -a "$workdir/tree.orig" "$tree"; sleep 3; fi
  "$CAIRN" --store "$workdir/cairn" init >/dev/null
  git init -q "$workdir/git"
  # No background auto-gc or maintenance: it would run during the other measurements.
  git -C "$workdir/git" config gc.auto 0
  git -C "$workdir/git" config maintenance.auto false
  restic init -q --repository-version 2 -r "$workdir/restic" >/dev/null

  measure cairn1 "$CAIRN" --store "$workdir/cairn" snapshot create "$tree" -m "bench 1" -q
  measure git1 bash -c 'gitc add -A && gitc commit -q -m "bench 1"'
  measure restic1 restic -q -r "$workdir/restic" backup --compression auto "$tree"

  echo "run $run: changing 1% of the documents ..."
  "$GEN" "$tree" --mutate 1 --seed 2 >/dev/null
  measure cairn2 "$CAIRN" --store "$workdir/cairn" snapshot create "$tree" -m "bench 2" -q
  measure git2 bash -c 'gitc add -A && gitc commit -q -m "bench 2"'
  measure restic2 restic -q -r "$workdir/restic" backup --compression auto "$tree"
done

size_cairn=$(du -sb "$workdir/cairn" | cut -f1)
size_git=$(du -sb "$workdir/git/.git" | cut -f1)
size_restic=$(du -sb "$workdir/restic" | cut -f1)
git --git-dir="$workdir/git/.git" gc -q
size_git_gc=$(du -sb "$workdir/git/.git" | cut -f1)
"$CAIRN" --store "$workdir/cairn" fsck >/dev/null || { echo "cairn fsck failed after the benchmark" >&2; exit 1; }

mib() { echo "scale=1; $1 / 1048576" | bc -l; }
r1=$(ratio "${bestsecs[cairn1]}" "${bestsecs[git1]}")
r2=$(ratio "${bestsecs[cairn2]}" "${bestsecs[git2]}")
rs=$(ratio "$size_cairn" "$size_restic")
rg=$(ratio "$size_cairn" "$size_git_gc")
peak=$(( (bestrss[cairn1] > bestrss[cairn2] ? bestrss[cairn1] : bestrss[cairn2]) / 1024 ))

printf '\n%-30s %10s %10s %10s\n' "(warm page cache, best of $runs)" cairn git restic
printf '%-30s %9.2fs %9.2fs %9.2fs\n' "first snapshot (wall)" "${bestsecs[cairn1]}" "${bestsecs[git1]}" "${bestsecs[restic1]}"
printf '%-30s %9.2fs %9.2fs %9.2fs\n' "second snapshot, 1% changed" "${bestsecs[cairn2]}" "${bestsecs[git2]}" "${bestsecs[restic2]}"
printf '%-30s %8sMB %8sMB %8sMB\n' "peak memory (first)" "$((bestrss[cairn1] / 1024))" "$((bestrss[git1] / 1024))" "$((bestrss[restic1] / 1024))"
printf '%-30s %8sMB %8sMB %8sMB\n' "peak memory (second)" "$((bestrss[cairn2] / 1024))" "$((bestrss[git2] / 1024))" "$((bestrss[restic2] / 1024))"
printf '%-30s %7sMiB %7sMiB %7sMiB   (git after gc: %s MiB)\n' "store size after both" "$(mib "$size_cairn")" "$(mib "$size_git")" "$(mib "$size_restic")" "$(mib "$size_git_gc")"
echo
echo "ratios (cairn / peer)                 target"
echo "  first snapshot  vs git     $r1      <= 0.2   $(verdict "$r1" 0.2)"
echo "  second snapshot vs git     $r2      <= 1.0   $(verdict "$r2" 1.0)"
echo "  store size      vs restic  $rs      <= 1.0   $(verdict "$rs" 1.0)"
echo "  store size      vs git gc  $rg      <= 1.0   $(verdict "$rg" 1.0) (stretch)"
echo "  first snapshot  vs restic  $(ratio "${bestsecs[cairn1]}" "${bestsecs[restic1]}")"
echo "  second snapshot vs restic  $(ratio "${bestsecs[cairn2]}" "${bestsecs[restic2]}")"
echo "  peak memory of cairn       ${peak} MB   < 300 MB $( [ "$peak" -lt 300 ] && echo PASS || echo FAIL)"

cat > "$workdir/results.json" <<JSON
{"files": $files, "mb": $mb, "runs": $runs,
 "seconds": {"cairn_first": ${bestsecs[cairn1]}, "git_first": ${bestsecs[git1]}, "restic_first": ${bestsecs[restic1]},
             "cairn_second": ${bestsecs[cairn2]}, "git_second": ${bestsecs[git2]}, "restic_second": ${bestsecs[restic2]}},
 "peak_kb": {"cairn_first": ${bestrss[cairn1]}, "git_first": ${bestrss[git1]}, "restic_first": ${bestrss[restic1]},
             "cairn_second": ${bestrss[cairn2]}, "git_second": ${bestrss[git2]}, "restic_second": ${bestrss[restic2]}},
 "bytes": {"cairn": $size_cairn, "git": $size_git, "git_gc": $size_git_gc, "restic": $size_restic},
 "ratios": {"first_vs_git": $r1, "second_vs_git": $r2, "size_vs_restic": $rs, "size_vs_git_gc": $rg}}
JSON
echo "results: $workdir/results.json"
