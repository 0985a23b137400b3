// Policy evaluation: turns a deployment's policy into checks with their numbers before a
// move. A pure read: it decides nothing and writes nothing — the caller (promote, rollback,
// through gates.h) decides what a failed check means. Works on read-only stores; safe to
// call from several threads.
#pragma once

#include <optional>
#include <vector>

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

}  // namespace cairn
