#!/usr/bin/env bash
# Before/after: two cairn binaries (OLD, e.g. the last format-1 build or main before a change,
# and NEW, this build; reported as old_* and new_*), each on a
# 100-event store built through its own CLI, interleaved with durable git in one run.
#   bash bench/format_ab.sh OLD_CAIRN [NEW_CAIRN]   (prints cairn-timed-runs JSON)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
old=${1:?usage: format_ab.sh OLD_CAIRN [NEW_CAIRN]}; new=${2:-$root/build/bin/cairn}; T=$root/build/bin/cairn-timed-runs
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
for v in old new; do
  b=${!v}; s=$w/$v
  $b --store $s init >/dev/null
  a=$($b --store $s snapshot create $root/fixtures/releases/v1 -m a -q)
  c=$($b --store $s snapshot create $root/fixtures/releases/v2 -m b -q)
  for i in $(seq 1 50); do $b --store $s promote $a --to prod --reason r >/dev/null; $b --store $s promote $c --to prod --reason r >/dev/null; done
  eval "${v}_a=$a; ${v}_c=$c"
done
g=$w/git; git init -q $g; git -C $g -c user.name=b -c user.email=b@e commit -q --allow-empty -m a; git -C $g -c user.name=b -c user.email=b@e commit -q --allow-empty -m b
c1=$(git -C $g rev-parse HEAD~1); c2=$(git -C $g rev-parse HEAD)
$T --runs 30 --warmup 3 \
  --bench old_promote --alt $old_a --alt $old_c -- $old --store $w/old promote "{}" --to prod --reason r ';' \
  --bench new_promote --alt $new_a --alt $new_c -- $new --store $w/new promote "{}" --to prod --reason r ';' \
  --bench git_fsync --alt $c1 --alt $c2 -- git -C $g -c core.fsync=reference update-ref refs/heads/x "{}" ';' \
  --bench old_status -- $old --store $w/old status ';' \
  --bench new_status -- $new --store $w/new status ';' \
  --bench git_rev_parse -- git -C $g rev-parse refs/heads/x ';'
