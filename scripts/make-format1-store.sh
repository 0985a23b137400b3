#!/usr/bin/env bash
# Builds fixtures/format1-store/ with a cairn binary that writes store format 1 (main at
# 72a41c2, the last format-1 release). Kept for the record: a format-2 cairn cannot make
# this store, which is why the result is checked in. Usage:
#   scripts/make-format1-store.sh PATH/TO/FORMAT-1/cairn
# The store holds everything format 1 can hold: three snapshots of fixtures/releases, their
# stat-cache entries, signatures by two keys, three signed eval attestations with reports, a
# trust chain (add, add, add, revoke), a policy chain (set, change, set on beta, clear),
# promotions and rollbacks on prod and beta (signed and unsigned, a forced rollback), and
# a pre-promote hook. tests/e2e/migration_test.cc checks that all of it survives.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cairn=${1:?usage: make-format1-store.sh FORMAT-1-CAIRN-BINARY}
out="$root/fixtures/format1-store"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/fixtures/releases" "$root/fixtures/evals" "$root/fixtures/keys" "$work/"
chmod 600 "$work"/keys/*-ONLY-FOR-TESTS.pem
release_key="$work/keys/test-release-ONLY-FOR-TESTS.pem"
ci_key="$work/keys/test-ci-ONLY-FOR-TESTS.pem"
security_key="$work/keys/test-security-ONLY-FOR-TESTS.pem"
export CAIRN_STORE="$work/.cairn" CAIRN_ACTOR="fixture-bot@format1"
c() { "$cairn" "$@"; }

c init "$work" >/dev/null
v1=$(c snapshot create "$work/releases/v1" -m "v1: first support-bot release" -q)
v2=$(c snapshot create "$work/releases/v2" -m "v2: reworded system prompt" -q)
v3=$(c snapshot create "$work/releases/v3" -m "v3: more concise answers" -q)
c trust add release-lead "$work/keys/test-release-ONLY-FOR-TESTS.pub.pem" --role release \
  --reason "fixture: release lead" >/dev/null
c trust add ci "$work/keys/test-ci-ONLY-FOR-TESTS.pub.pem" --role ci >/dev/null
c trust add security "$work/keys/test-security-ONLY-FOR-TESTS.pub.pem" --role security >/dev/null
for v in "$v1" "$v2" "$v3"; do
  c sign "$v" --key "$release_key" >/dev/null
  c sign "$v" --key "$ci_key" >/dev/null
done
c sign "$v1" --key "$security_key" >/dev/null
i=1
for pair in "$v1:0.87" "$v2:0.88" "$v3:0.79"; do
  c attest "${pair%%:*}" --eval golden-v3 --score "${pair#*:}" --n 10 \
    --dataset "$work/evals/golden-v3.jsonl" --judge "gpt-4o-2024-08-06 + rubric" \
    --report "$work/evals/report-v$i.json" --key "$ci_key" >/dev/null
  i=$((i + 1))
done
c trust revoke security --reason "SEC-1: fixture revocation" >/dev/null
c policy set prod --require-signatures 1 --signer-role release --min-eval golden-v3=0.80 \
  --reason "CX-100: prod gates" >/dev/null
c policy set prod --require-signatures 1 --signer-role release --require-signatures 1 \
  --signer-role ci --min-eval golden-v3=0.85 --max-eval-drop golden-v3=0.02 \
  --reason "CX-101: stricter prod gates" >/dev/null
c policy set beta --min-eval golden-v3=0.50 --reason "CX-102: beta gate" >/dev/null
cp "$root/hooks/require-ticket" "$work/.cairn/hooks/pre-promote.d/10-require-ticket"
chmod 755 "$work/.cairn/hooks/pre-promote.d/10-require-ticket"
c promote "$v1" --to beta --reason "CX-103: v1 to beta" >/dev/null
c promote "$v2" --to beta --reason "CX-104: v2 to beta" >/dev/null
c promote "$v3" --to beta --reason "CX-105: v3 to beta" >/dev/null
c rollback beta --reason "INC-1: v3 too terse" >/dev/null
c promote "$v1" --to prod --reason "CX-106: launch v1" --key "$release_key" >/dev/null
c promote "$v2" --to prod --reason "CX-107: v2" --key "$release_key" >/dev/null
c rollback prod --reason "INC-2: refunds wrong" --key "$release_key" >/dev/null
c rollback prod --to "$v2" --reason "INC-2: v2 was fine after all" >/dev/null
c policy set beta --clear --reason "CX-108: beta ungated" >/dev/null
c rollback beta --to "$v3" --force --reason "INC-3: force v3 back for a test" >/dev/null
c audit verify >/dev/null
c fsck >/dev/null

rm -rf "$out"
mkdir -p "$out"
cp -a "$work/.cairn" "$out/.cairn"
rm -f "$out"/.cairn/db/LOG "$out"/.cairn/db/LOG.old.*
{
  echo "# made by scripts/make-format1-store.sh with $("$cairn" --version)"
  echo "v1=$v1"
  echo "v2=$v2"
  echo "v3=$v3"
  echo
  echo "# cairn status"
  c status
  echo
  echo "# cairn log prod"
  c log prod
  echo
  echo "# cairn log beta"
  c log beta
} >"$out/CONTENTS.txt"
echo "wrote $out"
