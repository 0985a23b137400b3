#!/usr/bin/env bash
# Before/after on large manifests: two cairn binaries (OLD and NEW) on byte-identical copies of
# one store (made by OLD, so both can read it) holding two snapshots of a 10,000-file release
# (cairn-gen-release, 1% of documents changed between them), promoted back and forth;
# interleaved with durable git in one run. Copies, because how much of the store's log is
# still unflushed (replayed by every open) depends on background flush timing.
#   bash bench/promote_big_ab.sh OLD_CAIRN [NEW_CAIRN] [FILES]   (prints cairn-timed-runs JSON)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
old=${1:?usage: promote_big_ab.sh OLD_CAIRN [NEW_CAIRN] [FILES]}; new=${2:-$root/build/bin/cairn}
files=${3:-10000}
T=$root/build/bin/cairn-timed-runs; G=$root/build/bin/cairn-gen-release
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
$G "$w/rel" --files "$files" --mb 20 >/dev/null
cp -a "$w/rel" "$w/rel2"; $G "$w/rel2" --mutate 1 >/dev/null
$old --store $w/old init >/dev/null
a=$($old --store $w/old snapshot create "$w/rel" -m a -q)
c=$($old --store $w/old snapshot create "$w/rel2" -m b -q)
$old --store $w/old promote $a --to prod --reason r >/dev/null
cp -a $w/old $w/new
old_a=$a; old_c=$c; new_a=$a; new_c=$c
g=$w/git; git init -q $g; git -C $g -c user.name=b -c user.email=b@e commit -q --allow-empty -m a; git -C $g -c user.name=b -c user.email=b@e commit -q --allow-empty -m b
c1=$(git -C $g rev-parse HEAD~1); c2=$(git -C $g rev-parse HEAD)
$T --runs 30 --warmup 3 \
  --bench old_promote --alt $old_c --alt $old_a -- $old --store $w/old promote "{}" --to prod --reason r ';' \
  --bench new_promote --alt $new_c --alt $new_a -- $new --store $w/new promote "{}" --to prod --reason r ';' \
  --bench git_fsync --alt $c1 --alt $c2 -- git -C $g -c core.fsync=reference update-ref refs/heads/x "{}" ';'
