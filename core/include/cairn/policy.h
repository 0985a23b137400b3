// Policy: per-deployment rules a snapshot must meet before it is promoted there — required
// signers, eval thresholds, the largest eval drop against what is live, soak time on an
// earlier tier, pinned models, agent limits (docs/policy.md).
//
// Policies change through SetPolicy only; every change is a PolicyEvent in one hash chain
// for the store, written with the deployment's policy record in one synced RocksDB batch.
// Changing needs a Store opened read-write; reading and evaluating work on read-only stores.
// Evaluation is a pure read: it decides nothing and writes nothing — the caller (promote,
// rollback) acts on the checks. Functions are safe to call from several threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/canonical_json.h"
#include "cairn/deployment.h"
#include "cairn/digest.h"
#include "cairn/score.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"

namespace cairn {

// Rule ids, as used in checks, `promote --override RULE` and the docs.
inline constexpr std::string_view kRuleRequireSignatures = "require-signatures";
inline constexpr std::string_view kRuleMinEval = "min-eval";
inline constexpr std::string_view kRuleMaxEvalDrop = "max-eval-drop";
inline constexpr std::string_view kRuleSoak = "soak";
inline constexpr std::string_view kRuleRequirePinnedModels = "require-pinned-models";
inline constexpr std::string_view kRuleRequireAgentLimits = "require-agent-limits";

// OK for one of the six rule ids above; kUsage naming them all otherwise.
Status ValidateRuleName(std::string_view rule);

// `count` distinct trusted keys holding `role` must have signed ("" = any trusted key).
struct SignatureRequirement {
  uint32_t count = 0;
  std::string role;
  friend bool operator==(const SignatureRequirement&, const SignatureRequirement&) = default;
};

// The rules of one deployment. Every rule is optional; a Policy with none is empty.
struct Policy {
  std::string deployment;
  std::vector<SignatureRequirement> signatures;  // at most one per role, sorted by role
  std::map<std::string, Score> min_eval;         // eval name -> lowest score accepted
  std::map<std::string, Score> max_eval_drop;    // eval name -> largest drop below live
  std::map<std::string, int64_t> soak_micros;    // earlier deployment -> time live there
  bool require_pinned_models = false;
  bool require_agent_limits = false;
  bool no_overrides = false;

  // Canonical-JSON friendly (scores as decimal strings, durations in integer µs);
  // docs/format.md "Policy".
  Json ToJson() const;
  // Strict: exactly the fields ToJson writes, each valid (ValidatePolicy); kCorruption
  // naming `what` otherwise.
  static Result<Policy> FromJson(const Json& json, std::string_view what);
  bool empty() const;  // no rule at all (no_overrides alone is no rule)
};

// Every rule well-formed: a valid deployment name; counts >= 1 and one requirement per role
// (valid role words); valid eval names; soak tiers that are valid deployment names other
// than the deployment itself, with durations of 1 s to 3650 d. kUsage naming the flag.
Status ValidatePolicy(const Policy& policy);

// Durations as typed for --soak: one or more <digits><unit> groups, units s, m, h, d
// ("24h", "90m", "1d12h"); 1 s to 3650 d. kUsage naming `what` otherwise.
Result<int64_t> ParseDuration(std::string_view text, std::string_view what);
// "25h", "1h30m", "45s", "0s": hours, minutes and seconds, zero parts left out.
std::string FormatDuration(int64_t micros);

// The outcome of one rule for one subject.
struct PolicyCheck {
  std::string rule;     // a rule id
  std::string subject;  // "golden-v3", "role release", "beta", a component path
  bool passed = false;
  bool overridden = false;  // set by the caller (promote) — EvaluatePolicy never sets it
  std::string detail;       // the numbers: "0.79 < 0.87", "live on beta 25h (needs 24h)"
  // {"rule","subject","passed","overridden","detail"}: canonical-JSON friendly.
  Json ToJson() const;
};

// One change of a deployment's policy. `hash` is the SHA-256 of the canonical JSON without
// `hash`; `prev` is the previous policy event's hash (one chain for the whole store).
struct PolicyEvent {
  uint64_t seq = 0;  // 1, 2, 3, ...
  int64_t time_micros = 0;
  std::string actor;
  std::string deployment;
  Json policy;  // Policy::ToJson() of the policy set; an empty policy clears
  std::string reason;
  std::optional<Digest> prev;
  Digest hash;

  Json ToJson(bool with_hash = true) const;
  static Result<PolicyEvent> FromJson(const Json& json);
  Result<Digest> ComputeHash() const;
  // "set", or "clear" when the policy it records is empty.
  const char* action() const;
};

// Replaces `policy.deployment`'s policy with `policy` (an empty one clears it), as one
// PolicyEvent: the event, the chain head and the deployment's record in one synced batch.
// The event's time never goes backwards, even if the clock does.
// Errors: kUsage (ValidatePolicy fails, no reason), kConflict (the policy is already
// exactly this — no event is written).
Result<PolicyEvent> SetPolicy(Store& store, const Policy& policy, const std::string& actor,
                              const std::string& reason);

// The deployment's policy; nullopt when it has none. kUsage for a bad name.
Result<std::optional<Policy>> GetPolicy(const Store& store, const std::string& deployment);
// The event that set the deployment's current policy; nullopt when it has none.
Result<std::optional<PolicyEvent>> GetPolicyEvent(const Store& store,
                                                  const std::string& deployment);
// Every deployment's policy, by deployment name.
Result<std::vector<Policy>> ListPolicies(const Store& store);
// Every policy event, oldest first.
Result<std::vector<PolicyEvent>> ReadPolicyEvents(const Store& store);

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

// `audit verify`: the replay of the policy chain.
struct PolicyChainAudit {
  uint64_t events = 0;
  std::optional<AuditProblem> problem;  // the first broken link (chain kPolicy)
};
// Replays every policy event — hash, prev link, seq, time order, a valid policy, no event
// that changes nothing — then requires the head and every deployment's record to be
// byte-identical to the event that wrote them.
Result<PolicyChainAudit> AuditPolicyChain(const Store& store);

}  // namespace cairn
