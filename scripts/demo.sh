#!/usr/bin/env bash
# The main job, end to end, on the sample releases in fixtures/: builds cairn, creates a
# fresh store in out/demo, commits the support bot's v1, v2 and v3 to a git repository and
# snapshots each tag straight from it (v1 also from a directory: the same content), shows
# what a release engineer would look at, makes a 2-of-3 root of trust (a trust change is refused with one
# root signature and accepted with two), trusts two test keys, signs and attests the releases,
# compares them case by case (paired: pass, fail, inconclusive), sets prod's gates, promotes
# v1, starts `cairn serve` with a serving host (web-1, no store) following prod over HTTP,
# promotes v2 (signed events), checks prod out into a serving directory, rolls back — web-1
# switching on the promote and the rollback, and its receipts in `status` and `receipts` —
# then stops the server, shows the audit log, shows v3 blocked by the eval gate, what gc
# would delete, and a damaged copy of the store refused and salvaged by `recover`; finally a second store cloned
# through a git daemon on 127.0.0.1 moves prod, the first loses the race, pulls, rolls back.
# Safe to run again: out/demo is recreated each time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# Only the binaries the demo runs: the tests and benchmarks are built by scripts/test.sh.
bash "$root/scripts/build.sh" cairn cairn-serve >/dev/null
cairn="$root/build/bin/cairn"
work="$root/out/demo"
rm -rf "$work"
mkdir -p "$work"
# Fixtures are read-only: work on copies.
cp -r "$root/fixtures/releases" "$work/releases"
cp -r "$root/fixtures/evals" "$work/evals"
# Test-only keys (their private halves are public: fixtures/keys/README.md).
cp -r "$root/fixtures/keys" "$work/keys"
chmod 600 "$work"/keys/*-ONLY-FOR-TESTS.pem
release_key="$work/keys/test-release-ONLY-FOR-TESTS.pem"
ci_key="$work/keys/test-ci-ONLY-FOR-TESTS.pem"
root1="$work/keys/test-root1-ONLY-FOR-TESTS"
root2="$work/keys/test-root2-ONLY-FOR-TESTS"
root3="$work/keys/test-root3-ONLY-FOR-TESTS"
export CAIRN_STORE="$work/store"
export CAIRN_ACTOR="release-bot@demo"

run() {
  printf '\n$ cairn'
  for a in "$@"; do
    case "$a" in *[\ \{\"]*) printf " '%s'" "$a" ;; *) printf ' %s' "$a" ;; esac
  done
  printf '\n'
  "$cairn" "$@"
}

run init "$work"
export CAIRN_STORE="$work/.cairn"
# The releases live in git, as in a real project: support-bot/ in a repository, one tagged
# commit per release. CI snapshots the tag, not a working tree.
export GIT_AUTHOR_NAME="Release Lead" GIT_AUTHOR_EMAIL="lead@example.com"
export GIT_COMMITTER_NAME="Release Lead" GIT_COMMITTER_EMAIL="lead@example.com"
git init -q -b main "$work/repo"
for v in v1 v2 v3; do
  rm -rf "$work/repo/support-bot"
  cp -r "$work/releases/$v" "$work/repo/support-bot"
  git -C "$work/repo" add -A
  git -C "$work/repo" commit -q -m "support-bot $v"
  git -C "$work/repo" tag "$v"
done
cd "$work"
run validate --git repo --rev v1 --subdir support-bot
# snap VERSION MESSAGE: snapshot tag VERSION of repo/support-bot, print the id, keep it in $id.
snap() {
  printf '\n$ cairn snapshot create --git repo --rev %s --subdir support-bot -m "%s"\n' "$1" "$2"
  "$cairn" snapshot create --git repo --rev "$1" --subdir support-bot -m "$2" | tee "$work/created"
  id=$(sed -n 's/^Created snapshot \([0-9a-f]*\) .*/\1/p' "$work/created")
}
snap v1 "v1: first support-bot release"; v1=$id
snap v2 "v2: reworded system prompt, refund KB refresh"; v2=$id
snap v3 "v3: more concise answers"; v3=$id
# The same files from a directory: another snapshot, the same content digest.
run snapshot create releases/v1 -m "v1 from a directory"
run snapshot list
run show "${v2:0:12}"
run diff --stat "${v1:0:12}" "${v2:0:12}"
run diff "${v2:0:12}" "${v3:0:12}"
run cat "${v3:0:12}:models/primary.json"
# The root of trust: three release-board keys (kept offline), any two of which must approve
# every trust and policy change from now on.
run trust init --root "$root1.pub.pem" --root "$root2.pub.pem" --root "$root3.pub.pem" \
  --threshold 2 --key "$root1.pem" --key "$root2.pem" --reason "demo: release board root"
# Trust: a release engineer's key and the CI system's key; both sign v1 and v2. One root
# signature is not enough to trust a key; two are.
run trust add release-lead "$work/keys/test-release-ONLY-FOR-TESTS.pub.pem" --role release \
  --reason "demo: release lead" --key "$root1.pem" ||
  printf '(exit %s: refused, one root signature of two; nothing changed)\n' "$?"
run trust add release-lead "$work/keys/test-release-ONLY-FOR-TESTS.pub.pem" --role release \
  --reason "demo: release lead" --key "$root1.pem" --key "$root3.pem"
run trust add ci "$work/keys/test-ci-ONLY-FOR-TESTS.pub.pem" --role ci --key "$root2.pem" \
  --key "$root3.pem"
for v in "$v1" "$v2"; do
  run sign "${v:0:12}" --key "$release_key"
  run sign "${v:0:12}" --key "$ci_key"
done
run sign "${v3:0:12}" --key "$release_key"
run sign "${v3:0:12}" --key "$ci_key"
run verify "${v2:0:12}" --deep
run trust list
# Evals: CI scored every release on the same golden set and signed the results.
run attest "${v1:0:12}" --eval golden-v3 --score 0.87 --n 10 --dataset "$work/evals/golden-v3.jsonl" \
  --judge "gpt-4o-2024-08-06 + rubric" --report "$work/evals/report-v1.json" --key "$ci_key"
run attest "${v2:0:12}" --eval golden-v3 --score 0.88 --n 10 --dataset "$work/evals/golden-v3.jsonl" \
  --judge "gpt-4o-2024-08-06 + rubric" --report "$work/evals/report-v2.json" --key "$ci_key"
run attest "${v3:0:12}" --eval golden-v3 --score 0.79 --n 10 --dataset "$work/evals/golden-v3.jsonl" \
  --judge "gpt-4o-2024-08-06 + rubric" --report "$work/evals/report-v3.json" --key "$ci_key"
# Quality is a distribution: CI also scored every release case by case on the 320-case
# golden set golden-v4 (3 judge samples per case, 16 topic clusters) and on a 12-case smoke
# set; cairn computes n and the mean from the case files and binds them into the signature.
g4="$work/evals/golden-v4"
for v in v1 v2 v3; do
  eval "id=\$$v"
  run attest "${id:0:12}" --eval golden-v4 --cases "$g4/$v.jsonl" --dataset "$g4/dataset.jsonl" \
    --judge-model gpt-4o-2024-08-06 --judge-prompt "$g4/judge-prompt.txt" --key "$ci_key"
done
for v in v1 v2; do
  eval "id=\$$v"
  run attest "${id:0:12}" --eval golden-v4-smoke --cases "$g4/$v-12.jsonl" \
    --dataset "$g4/dataset-12.jsonl" --judge-model gpt-4o-2024-08-06 \
    --judge-prompt "$g4/judge-prompt.txt" --key "$ci_key"
done
# The paired comparison, case by case: v2 is non-inferior to v1 at D = 0.02, v3 is a clear
# fail, and 12 cases cannot tell (inconclusive blocks: the burden of proof is on the change).
run compare "${v1:0:12}" "${v2:0:12}" --eval golden-v4 --margin 0.02
run compare "${v1:0:12}" "${v3:0:12}" --eval golden-v4 --margin 0.02 ||
  printf '(exit %s: v3 is worse than v1 by more than the margin)\n' "$?"
run compare "${v1:0:12}" "${v2:0:12}" --eval golden-v4-smoke --margin 0.02 ||
  printf '(exit %s: 12 cases cannot show non-inferiority at 0.02)\n' "$?"
# Gates for prod: signed by release and CI, golden-v3 at least 0.85 and at most 0.02 below
# what is live, golden-v4 non-inferior to what is live at D = 0.02 (paired, 95%), no
# overrides; every promotion reason must name a ticket (a sample hook).
run policy set prod --require-signatures 1 --signer-role release \
  --require-signatures 1 --signer-role ci --min-eval golden-v3=0.85 \
  --max-eval-drop golden-v3=0.02 --non-inferior golden-v4=0.02 --attester-role ci --no-overrides \
  --reason "CX-100: prod gates" --key "$root1.pem" --key "$root2.pem"
printf '\n$ cp hooks/require-ticket .cairn/hooks/pre-promote.d/10-require-ticket\n'
cp "$root/hooks/require-ticket" "$work/.cairn/hooks/pre-promote.d/10-require-ticket"
chmod 755 "$work/.cairn/hooks/pre-promote.d/10-require-ticket"
# Deployments: promote v1 and then v2 to prod (signed moves), find out v2 is bad, roll back.
run promote "${v1:0:12}" --to prod --reason "CX-101: launch support-bot v1" --key "$release_key"
# cairn serve: the store over HTTP (read-only; never the writer lock). A serving host with no
# store, web-1, follows prod through it and reports what it loaded (receipts) with its token.
token=$(openssl rand -hex 32)
printf '%s\n' "$token" >"$work/web-1.token"
printf 'sha256:%s web-1 read,receipt\n' "$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)" \
  >"$work/serve-tokens"
printf '\n$ cairn serve --listen 127.0.0.1:0 --token-file serve-tokens &\n'
"$cairn" serve --listen 127.0.0.1:0 --token-file "$work/serve-tokens" >"$work/serve.out" 2>&1 &
server=$!
stop_demo_processes() { kill "${follower:-}" "$server" 2>/dev/null || true; }
trap stop_demo_processes EXIT
for _ in $(seq 100); do grep -q listening "$work/serve.out" && break; sleep 0.05; done
cat "$work/serve.out"
url=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$work/serve.out")
printf '\n$ cairn checkout prod --into web-1 --follow --from %s --token-file web-1.token &\n' "$url"
"$cairn" checkout prod --into "$work/web-1" --follow --from "$url" \
  --token-file "$work/web-1.token" >"$work/web-1.log" 2>&1 &
follower=$!
# follower_lines N: waits (up to 10 s) until the follower printed N lines, shows the last.
follower_lines() {
  for _ in $(seq 200); do [ "$(wc -l <"$work/web-1.log")" -ge "$1" ] && break; sleep 0.05; done
  tail -1 "$work/web-1.log" | sed "s|$work/||; s|^|[web-1] |"
}
follower_lines 1
run promote "${v2:0:12}" --to prod --reason "v2: refreshed refund KB (CX-142)" --key "$release_key"
follower_lines 2
# A serving host loads what is live from plain files: DIR/current -> .versions/<id>.
run checkout prod --into "$work/serve"
t_v2=$("$cairn" log prod --json | sed -n 's/.*"time": "\(.*\)".*/\1/p' | tail -1)
sleep 0.3  # web-1's receipt
run status
run rollback prod --reason "INC-7: refund answers wrong since v2" --key "$release_key"
follower_lines 3
sleep 0.3
run status
run receipts prod
# The API answers with the documents every --json prints (here: prod's newest event).
printf '\n$ curl -s -H "Authorization: Bearer $(cat web-1.token)" %s/v1/deployments/prod\n' "$url"
curl -s -H "Authorization: Bearer $token" "$url/v1/deployments/prod" | head -5
printf '  ...\n'
printf '\n$ kill %%1 %%2   # stop the follower and the server\n'
stop_demo_processes
wait "$follower" "$server" 2>/dev/null || true
trap - EXIT
run log prod
# The serving host follows the rollback: DIR/current switches back with one rename
# (`checkout prod --into DIR --follow` does this by itself within 500 ms).
run checkout prod --into "$work/serve"
printf '\n$ ls -l serve/current\n'
ls -l "$work/serve/current" | sed "s|$work/||"
run live prod --at "$t_v2"
# v3 scores 0.79 on the same golden set: the gate blocks it, with the numbers.
run promote "${v3:0:12}" --to prod --reason "CX-160: more concise answers" --key "$release_key" ||
  printf '(exit %s: blocked by the gate; nothing changed)\n' "$?"
# Nor is "rollback" a side door: v3 was never live on prod, so a rollback to it passes every
# gate of a promotion, and under --no-overrides not even --force lifts them.
run rollback prod --to "${v3:0:12}" --force --reason "INC-8: try v3" --key "$release_key" ||
  printf '(exit %s: refused; --force cannot lift the gates of prod; nothing changed)\n' "$?"
# The refund KB fixed upstream, v2 goes out again: every gate passes, no override.
run promote "${v2:0:12}" --to prod --reason "CX-150: v2 again, KB fixed" --key "$release_key"
run diff --stat prod "prod@{1}"
# Auditors pin the root they were given out of band: a trust chain grown from any other root
# fails here.
run audit verify --root sha256:9ea7074c546e014951434902170201a9641a3821eab55945f0d7830ef6fc14b0 \
  --root sha256:259a8c5ee1aab8f97c0ebd6fb3f0f37dbb32b999b5c75231e1b73ca0e749e4db \
  --root sha256:14c86c6b5c5df38508651191fa9cedecefc4e9bf363b98332c95380a4b754d0d
run fsck
# Retention: a dry run of gc with no grace period at all says what it would delete and why
# everything else stays (ever live, vouched for by a trusted key, the newest of its app).
run gc --dry-run --grace 0 --yes
# Damage is never silent: a copy of the store with one byte flipped in its newest log is
# refused by every command (exit 5, naming the file), and `recover` salvages the rest.
mkdir -p "$work/damaged"
cp -a "$work/.cairn" "$work/damaged/.cairn"
log=$(for f in "$work"/damaged/.cairn/db2/*.log; do [ -s "$f" ] && echo "$f"; done | sort | tail -1)
off=$(($(stat -c %s "$log") / 2))
byte=$(od -An -tu1 -j "$off" -N1 "$log" | tr -d ' ')
printf '\n$ cp -a .cairn damaged/.cairn  # then flip byte %s of damaged/.cairn/db2/%s\n' "$off" \
  "$(basename "$log")"
printf "\\$(printf %03o $((byte ^ 0x5a)))" | dd of="$log" bs=1 seek="$off" conv=notrunc 2>/dev/null
export CAIRN_STORE="$work/damaged/.cairn"
run status || printf '(exit %s: the store is damaged; nothing was changed)\n' "$?"
run recover --into "$work/recovered" || printf '(exit %s: something was lost, and it is listed)\n' "$?"
export CAIRN_STORE="$work/recovered/.cairn"
run audit verify
export CAIRN_STORE="$work/.cairn"
# Team mode: the on-call engineer's store shares prod with this one through a git server
# (git daemon on 127.0.0.1, stopped when the demo ends). prod moves only through it.
git init -q --bare "$work/server/cairn.git"
daemon=""
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null' EXIT
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 20000))
  git daemon --reuseaddr --export-all --enable=receive-pack --listen=127.0.0.1 --port="$port" \
    --base-path="$work/server" "$work/server" 2>/dev/null &
  daemon=$!
  for _ in $(seq 50); do
    git ls-remote "git://127.0.0.1:$port/cairn.git" >/dev/null 2>&1 && break 2
    kill -0 "$daemon" 2>/dev/null || break
    sleep 0.1
  done
  kill "$daemon" 2>/dev/null; daemon=""
done
[ -n "$daemon" ] || { echo "demo: could not start git daemon on 127.0.0.1" >&2; exit 1; }
url="git://127.0.0.1:$port/cairn.git"
printf '\n$ git daemon --export-all --enable=receive-pack --listen=127.0.0.1 --port=%s …\n' "$port"
run remote add origin "$url"
run push origin prod --snapshot "${v3:0:12}"
run clone "$url" "$work/oncall" --root sha256:9ea7074c546e014951434902170201a9641a3821eab55945f0d7830ef6fc14b0 \
  --root sha256:259a8c5ee1aab8f97c0ebd6fb3f0f37dbb32b999b5c75231e1b73ca0e749e4db \
  --root sha256:14c86c6b5c5df38508651191fa9cedecefc4e9bf363b98332c95380a4b754d0d
# The on-call engineer moves prod from the second store...
export CAIRN_STORE="$work/oncall/.cairn" CAIRN_ACTOR="oncall@demo"
run promote "${v1:0:12}" --to prod --reason "INC-9: v1 while the KB is re-indexed (CX-170)" \
  --key "$release_key"
# ...while the release lead, on the first store, still sees v2 live: the server's ref update
# decides, and the loser is told who moved prod, when and to what.
export CAIRN_STORE="$work/.cairn" CAIRN_ACTOR="release-bot@demo"
run rollback prod --reason "INC-9: roll back v2" --key "$release_key" ||
  printf '(exit %s: lost the race; nothing changed here)\n' "$?"
run pull
run status
run rollback prod --reason "INC-9 over: KB re-indexed, back to v2" --key "$release_key"
printf '\n$ git --git-dir server/cairn.git log --first-parent --format="%%h %%an: %%s" refs/cairn/deployments/prod\n'
git --git-dir "$work/server/cairn.git" log --first-parent --format="%h %an: %s" \
  refs/cairn/deployments/prod
printf '\nDone. The store is in %s (set CAIRN_STORE=%s to explore it).\n' "$work/.cairn" "$work/.cairn"
