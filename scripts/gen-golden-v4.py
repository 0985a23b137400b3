#!/usr/bin/env python3
"""Writes fixtures/evals/golden-v4/: a 320-case golden set for the support bot and the
per-case results of releases v1, v2 and v3 on it (3 judge scores per case, 16 topic
clusters), plus a 12-case smoke run of v1 and v2. Deterministic: every number comes from
SHA-256 of a fixed label, so the files are the same on every machine and Python version.

  python3 scripts/gen-golden-v4.py fixtures/evals/golden-v4

What the data is made to show (docs/policy.md, "non-inferior"): v2 is non-inferior to v1 at
D = 0.02; v3 (its "be concise" prompt dropped the refund-eligibility steps) is a clear fail;
the 12-case smoke run of v2 against v1 is inconclusive at D = 0.02.
"""
import hashlib
import json
import os
import sys

TOPICS = [
    "refund-window", "refund-final-sale", "refund-condition", "refund-reference",
    "shipping-delay", "shipping-address", "shipping-international", "order-status",
    "exchange-size", "exchange-colour", "warranty-claim", "damaged-item",
    "account-email", "payment-declined", "gift-card", "loyalty-points",
]
PER_TOPIC = 20
K = 3


def u(*label):
    """A uniform number in [0, 1) from the label."""
    h = hashlib.sha256("/".join(str(x) for x in label).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2.0**64


def tenth(x):
    """Clamped to [0, 1] and rounded to a tenth, as the rubric scores."""
    return min(10, max(0, int(x * 10 + 0.5)))


def score_text(tenths):
    return "1" if tenths == 10 else "0" if tenths == 0 else "0.%d" % tenths


def case_ids():
    for t in TOPICS:
        for i in range(PER_TOPIC):
            yield t, "%s-%02d" % (t, i + 1)


def quality(release, topic, case):
    """The true quality of a release's answer on a case, before the judge's noise."""
    base = 0.70 + 0.28 * u("base", case)
    if release == "v1":
        return base
    if release == "v2":  # reworded prompt: a wash, a little better on refunds
        return base + 0.01 + 0.10 * (u("v2", case) - 0.5)
    # v3: concise, and refund-eligibility checks gone
    drop = 0.50 if topic.startswith("refund") else 0.02
    return base - drop * u("v3", case) + 0.06 * (u("v3n", case) - 0.5)


def results(release, cases, clustered):
    lines = []
    for topic, case in cases:
        q = quality(release, topic, case)
        scores = [score_text(tenth(q + 0.16 * (u("judge", release, case, j) - 0.5)))
                  for j in range(K)]
        line = {"case": case}
        if clustered:
            line["cluster"] = topic
        line["scores"] = scores
        line["output"] = "sha256:" + hashlib.sha256(
            ("%s answer to %s" % (release, case)).encode()).hexdigest()
        # Two v3 answers timed out: they count as 0 (fail closed).
        line["error"] = "judge timeout" if release == "v3" and case in (
            "order-status-07", "gift-card-13") else None
        lines.append(json.dumps(line, separators=(", ", ": ")))
    return "\n".join(lines) + "\n"


def dataset(cases):
    lines = []
    for topic, case in cases:
        lines.append(json.dumps({
            "case": case, "cluster": topic,
            "input": "A customer asks about %s (%s)." % (topic.replace("-", " "), case),
            "expected": "Follows the %s policy step by step and names what it checked." % topic,
        }))
    return "\n".join(lines) + "\n"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "fixtures/evals/golden-v4"
    os.makedirs(out, exist_ok=True)
    cases = list(case_ids())
    # The smoke run: the first case of 12 topics, no clusters.
    smoke = [(t, "%s-01" % t) for t in TOPICS[4:]]
    files = {"dataset.jsonl": dataset(cases), "dataset-12.jsonl": dataset(smoke)}
    for release in ("v1", "v2", "v3"):
        files["%s.jsonl" % release] = results(release, cases, clustered=True)
    for release in ("v1", "v2"):
        files["%s-12.jsonl" % release] = results(release, smoke, clustered=False)
    files["judge-prompt.txt"] = (
        "You grade a support bot's answer against the expected behaviour.\n"
        "Score 1 for correct and complete; 0.9-0.7 for correct but missing a step the policy\n"
        "asks for; 0.6-0.5 for a wrong decision caught by a guardrail; lower for a wrong refund\n"
        "or an invented policy. Answer with the score only.\n")
    for name, text in files.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
