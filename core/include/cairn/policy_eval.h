// Policy evaluation: turns a deployment's policy into checks with their numbers before a
// move. A pure read: it decides nothing and writes nothing — the caller (promote, rollback,
// through gates.h) decides what a failed check means. Works on read-only stores; safe to
// call from several threads.
#pragma once

#include <optional>
#include <vector>

#include "cairn/attestation.h"
#include "cairn/non_inferiority.h"
#include "cairn/policy.h"
#include "cairn/policy_check.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"

namespace cairn {

// Evaluates every rule of `policy` for promoting `candidate` to policy.deployment, where
// `live` is what is live there now (nullopt: nothing). `now_micros` ends an unfinished soak.
// One check per signature requirement, eval, soak tier and model component; failures are
// checks, not errors. Errors: kNotFound (no such snapshot), storage errors.
Result<std::vector<PolicyCheck>> EvaluatePolicy(const Store& store, const Policy& policy,
                                                const SnapshotId& candidate,
                                                const std::optional<SnapshotId>& live,
                                                int64_t now_micros);

// Only the require-signatures rules — what a rollback still enforces: a target whose signer
// was revoked since fails.
Result<std::vector<PolicyCheck>> EvaluateSignatureRules(const Store& store, const Policy& policy,
                                                        const SnapshotId& target);

// `cairn compare`: the paired comparison of two snapshots on one eval, as the non-inferior
// rule would see it, with each side's newest trusted per-case attestation on `eval`.
struct EvalComparison {
  Attestation live;       // the baseline's attestation
  Attestation candidate;  // the candidate's
  EvalCaseSet live_cases;
  EvalCaseSet candidate_cases;
  PairedCases paired;
  BoundTest test;  // at rule.margin (0: no verdict asked; the verdict is then meaningless)
};
// Errors: kNotFound (a side has no trusted per-case attestation on `eval`), kUsage (not
// comparable: another dataset or judge, clusters that disagree, cases on one side only).
Result<EvalComparison> CompareEvals(const Store& store, const SnapshotId& baseline,
                                    const SnapshotId& candidate, const std::string& eval,
                                    const NonInferiorRule& rule);

// `audit verify`: recomputes the numbers stored in a non-inferior or min-eval check
// (PolicyCheck::stats) from the attestations and case files they name — the candidate's
// attestation on `candidate`, the baseline's on `live` — with the margin, alpha and min-n
// stored beside them. Returns "" when every field is reproduced bit for bit, else what
// differs. Errors: storage errors only; a missing or damaged case file is reported as a
// difference.
Result<std::string> RecomputeCheckStats(const Store& store, const PolicyCheck& check,
                                        const SnapshotId& candidate,
                                        const std::optional<SnapshotId>& live);

}  // namespace cairn
