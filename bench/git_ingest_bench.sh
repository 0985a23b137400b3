#!/usr/bin/env bash
# Git ingest benchmark: `cairn snapshot create --git REPO --rev REV` against `cairn
# snapshot create DIR` on the same synthetic release (the commit's tree and the directory
# hold the same files), in the same run, with the commit's objects loose (as `git commit`
# writes them) and packed (as in a clone): first into a fresh store, then the second
# snapshot after 1% of the documents changed (a store holding the first).
#
#   bash bench/git_ingest_bench.sh [--files N] [--mb M] [--workdir DIR] [--runs R]
#
# The measurements alternate (directory, loose, packed) and each keeps its fastest of R;
# page caches are warm (the tree and the repository are read before each measurement).
# Results: a table on stdout and WORKDIR/results.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
files=10000
mb=650
workdir=/tmp/cairn-git-bench
runs=3
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
bench_tools git /usr/bin/time bc
bench_build cairn cairn-gen-release
CAIRN=${CAIRN:-$root/build/bin/cairn}
GEN=$root/build/bin/cairn-gen-release

bench_workdir "$workdir" .cairn-git-ingest-bench
tree=$workdir/tree
echo "generating $files files, $mb MB into $tree and committing them ..."
"$GEN" "$tree" --files "$files" --mb "$mb" --seed 1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
loose=$workdir/loose.git
packed=$workdir/packed.git
git init -q --bare -b main "$loose"
git -C "$loose" config gc.auto 0
git --git-dir="$loose" --work-tree="$tree" add -A
git --git-dir="$loose" --work-tree="$tree" commit -q -m bench
git -C "$loose" tag v1
cp -a "$tree" "$workdir/tree.orig"
"$GEN" "$workdir/tree.v2" --files "$files" --mb "$mb" --seed 1 >/dev/null
"$GEN" "$workdir/tree.v2" --mutate 1 --seed 2 >/dev/null
git --git-dir="$loose" --work-tree="$workdir/tree.v2" add -A
git --git-dir="$loose" --work-tree="$workdir/tree.v2" commit -q -m "1% changed"
git -C "$loose" tag v2
rm -rf "$workdir/tree.v2"
git clone -q --bare --no-local "$loose" "$packed"  # one pack, as a clone has
git -C "$packed" config gc.auto 0
# The files are brand new; let them age past the stat cache's racy-clean window (2 s).
sleep 3

warm() { sync; find "$tree" "$loose" "$packed" -type f -exec cat {} + >/dev/null; }

declare -A secs rss bestsecs bestrss content
snap() { "$CAIRN" --store "$workdir/store" snapshot create "$@" -m first -q >/dev/null; }
# measure NAME PREP ARGS...: a fresh store, then PREP (untimed), then `snapshot create ARGS`.
measure() {
  local name=$1 prep=$2; shift 2
  rm -rf "$workdir/store"
  "$CAIRN" --store "$workdir/store" init >/dev/null
  eval "$prep"
  warm
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$workdir/rss" "$CAIRN" --store "$workdir/store" snapshot create \
    "$@" -m bench --json >"$workdir/out.json" 2>"$workdir/err" || {
    echo "FAILED: $*" >&2; tail -20 "$workdir/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  content[$name]=$(grep -o '"content": *"[^"]*"' "$workdir/out.json")
  secs[$name]=$(echo "$t1 - $t0" | bc -l)
  rss[$name]=$(tail -1 "$workdir/rss")
  if [ -z "${bestsecs[$name]:-}" ] || (( $(echo "${secs[$name]} < ${bestsecs[$name]}" | bc -l) )); then
    bestsecs[$name]=${secs[$name]}; bestrss[$name]=${rss[$name]}
  fi
}

# The directory's second snapshot: the first of the original tree, then 1% changed in place
# (the same change as v2), so the stat cache can work as it does for a real tree.
second_dir_prep='rm -rf "$tree"; cp -a "$workdir/tree.orig" "$tree"; sleep 3; snap "$tree";
  "$GEN" "$tree" --mutate 1 --seed 2 >/dev/null'
for run in $(seq 1 "$runs"); do
  echo "run $run of $runs ..."
  measure dir ":" "$tree"
  measure loose ":" --git "$loose" --rev v1
  measure packed ":" --git "$packed" --rev v1
  measure dir2 "$second_dir_prep" "$tree"
  measure loose2 'snap --git "$loose" --rev v1' --git "$loose" --rev v2
  measure packed2 'snap --git "$packed" --rev v1' --git "$packed" --rev v2
  rm -rf "$tree"; cp -a "$workdir/tree.orig" "$tree"; sleep 3
done
rm -rf "$workdir/store"
for pair in "dir loose packed" "dir2 loose2 packed2"; do
  set -- $pair
  if [ "${content[$1]}" != "${content[$2]}" ] || [ "${content[$1]}" != "${content[$3]}" ]; then
    echo "git_ingest_bench: the snapshots differ in content: ${content[$1]} ${content[$2]} ${content[$3]}" >&2
    exit 1
  fi
done

rl=$(ratio "${bestsecs[loose]}" "${bestsecs[dir]}")
rp=$(ratio "${bestsecs[packed]}" "${bestsecs[dir]}")
rl2=$(ratio "${bestsecs[loose2]}" "${bestsecs[dir2]}")
rp2=$(ratio "${bestsecs[packed2]}" "${bestsecs[dir2]}")
printf '\n%-34s %10s %10s %10s\n' "($files files, $mb MB; best of $runs)" directory "git loose" "git packed"
printf '%-34s %9.2fs %9.2fs %9.2fs\n' "first snapshot (wall)" "${bestsecs[dir]}" "${bestsecs[loose]}" "${bestsecs[packed]}"
printf '%-34s %9.2fs %9.2fs %9.2fs\n' "second, 1% changed (wall)" "${bestsecs[dir2]}" "${bestsecs[loose2]}" "${bestsecs[packed2]}"
printf '%-34s %8sMB %8sMB %8sMB\n' "peak memory (first)" "$((bestrss[dir] / 1024))" "$((bestrss[loose] / 1024))" "$((bestrss[packed] / 1024))"
echo
echo "ratios (git / directory)          target"
echo "  first,  loose objects     $rl    <= 1.2   $(verdict "$rl" 1.2)"
echo "  first,  packed objects    $rp    <= 1.2   $(verdict "$rp" 1.2)"
echo "  second, loose objects     $rl2"
echo "  second, packed objects    $rp2"
echo "  same content digests      yes"

cat > "$workdir/results.json" <<JSON
{"files": $files, "mb": $mb, "runs": $runs,
 "seconds": {"directory": ${bestsecs[dir]}, "git_loose": ${bestsecs[loose]}, "git_packed": ${bestsecs[packed]},
             "directory_second": ${bestsecs[dir2]}, "git_loose_second": ${bestsecs[loose2]}, "git_packed_second": ${bestsecs[packed2]}},
 "peak_kb": {"directory": ${bestrss[dir]}, "git_loose": ${bestrss[loose]}, "git_packed": ${bestrss[packed]}},
 "ratios": {"loose_vs_directory": $rl, "packed_vs_directory": $rp,
            "loose_second_vs_directory": $rl2, "packed_second_vs_directory": $rp2}}
JSON
echo "results: $workdir/results.json"
