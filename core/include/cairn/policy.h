// Policy: per-deployment rules a snapshot must meet before it is promoted there — required
// signers, eval thresholds, the largest eval drop against what is live, soak time on an
// earlier tier, pinned models, agent limits (docs/policy.md).
//
// Policies change through SetPolicy only; every change is a PolicyEvent in one hash chain
// for the store, written with the deployment's policy record in one synced RocksDB batch.
// Changing needs a Store opened read-write; reading works on read-only stores. Evaluating a
// policy into checks is in policy_eval.h; the checks themselves in policy_check.h. Functions
// are safe to call from several threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/audit.h"
#include "cairn/canonical_json.h"
#include "cairn/deployment_name.h"
#include "cairn/digest.h"
#include "cairn/publisher.h"
#include "cairn/score.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"
#include "cairn/trust.h"

namespace cairn {

// `count` distinct trusted keys holding `role` must have signed ("" = any trusted key).
struct SignatureRequirement {
  uint32_t count = 0;
  std::string role;
  friend bool operator==(const SignatureRequirement&, const SignatureRequirement&) = default;
};

// `--non-inferior NAME=D[:alpha=A][:min-n=N]`: the candidate's per-case results, paired with
// the live snapshot's, must show it is no worse than live by more than D with confidence
// 1 − α (non_inferiority.h).
struct NonInferiorRule {
  Score margin;              // D > 0
  int64_t alpha = 50000000;  // billionths: 0.10, 0.05, 0.025 or 0.01
  uint64_t min_n = 100;      // fewer paired cases: inconclusive
  friend bool operator==(const NonInferiorRule&, const NonInferiorRule&) = default;
};

// The rules of one deployment. Every rule is optional; a Policy with none is empty.
struct Policy {
  std::string deployment;
  std::vector<SignatureRequirement> signatures;         // at most one per role, sorted by role
  std::map<std::string, Score> min_eval;                // eval name -> lowest score accepted
  std::map<std::string, Score> max_eval_drop;           // eval name -> largest drop below live
  std::map<std::string, NonInferiorRule> non_inferior;  // eval name -> paired rule
  // `--min-eval NAME=X:alpha=A`: with per-case results, the one-sided (1 − α) lower bound of
  // the mean must be >= X (eval name -> α in billionths; only evals with a min_eval).
  std::map<std::string, int64_t> min_eval_alpha;
  std::map<std::string, int64_t> soak_micros;  // earlier deployment -> time live there
  bool require_pinned_models = false;
  bool require_agent_limits = false;
  bool no_overrides = false;
  // A move (promote or rollback) must be signed by a trusted key holding this role ("": not
  // required). Never overridable.
  std::string require_signed_moves;
  // Bind every eval rule (min-eval, max-eval-drop, non-inferior): only attestations on the named
  // dataset digest, by a key holding `attester_role`, over at least `min_n` cases count.
  std::map<std::string, Digest> eval_dataset;  // eval name -> the one dataset counted
  std::string attester_role;                   // "": any trusted key
  uint64_t min_n = 0;                          // 0: any n (also none)

  // Canonical-JSON friendly (scores as decimal strings, durations in integer µs);
  // docs/format.md "Policy".
  Json ToJson() const;
  // Strict: exactly the fields ToJson writes, each valid (ValidatePolicy); kCorruption
  // naming `what` otherwise.
  static Result<Policy> FromJson(const Json& json, std::string_view what);
  bool empty() const;  // no rule at all (no_overrides alone is no rule)
};

// The rules of `stronger` that `weaker` lacks or loosens, one line each ("min-eval golden-v3
// 0.80 < 0.85", "require-signed-moves release"); empty when `weaker` is at least as strict
// everywhere. What `audit verify` uses to flag a move made in a window of weaker policy.
std::vector<std::string> LoosenedRules(const Policy& weaker, const Policy& stronger);

// Every rule well-formed: a valid deployment name; counts >= 1 and one requirement per role
// (valid role words); valid eval names; soak tiers that are valid deployment names other
// than the deployment itself, with durations of 1 s to 3650 d; evidence bindings only with
// an eval rule to bind (datasets only for evals that have one). kUsage naming the flag.
Status ValidatePolicy(const Policy& policy);

// Durations as typed for --soak: one or more <digits><unit> groups, units s, m, h, d
// ("24h", "90m", "1d12h"); 1 s to 3650 d. kUsage naming `what` otherwise.
Result<int64_t> ParseDuration(std::string_view text, std::string_view what);
// "25h", "1h30m", "45s", "0s": hours, minutes and seconds, zero parts left out.
std::string FormatDuration(int64_t micros);

// One change of a deployment's policy. `hash` is the SHA-256 of the canonical JSON without
// `hash` and `signatures`; `prev` is the previous policy event's hash (one chain for the
// whole store). In a rooted store (trust.h) `trust_seq` names the trust chain's last seq when
// the change was made, and `signatures` carries the root keys' approval of `hash`.
struct PolicyEvent {
  uint64_t seq = 0;  // 1, 2, 3, ...
  int64_t time_micros = 0;
  std::string actor;
  std::string deployment;
  Json policy;  // Policy::ToJson() of the policy set; an empty policy clears
  std::string reason;
  std::optional<uint64_t> trust_seq;  // rooted stores only; covered by the hash
  std::optional<Digest> prev;
  Digest hash;
  std::vector<ChangeSignature> signatures;  // not covered by the hash

  Json ToJson(bool with_hash = true) const;
  static Result<PolicyEvent> FromJson(const Json& json);
  Result<Digest> ComputeHash() const;
  // "set", or "clear" when the policy it records is empty.
  const char* action() const;
};

// Replaces `policy.deployment`'s policy with `policy` (an empty one clears it), as one
// PolicyEvent: the event, the chain head and the deployment's record in one synced batch.
// The event's time never goes backwards, even if the clock does.
// In a rooted store the change needs `threshold` root keys among `keys` (`--key`, repeated);
// an unrooted store takes none.
// Errors: kUsage (ValidatePolicy fails, no reason, a key that is not a root key), kConflict
// (the policy is already exactly this — no event is written), kGateBlocked (too few root
// signatures).
// Team mode: with a `publisher` (publisher.h), the event goes through the remote first.
Result<PolicyEvent> SetPolicy(Store& store, const Policy& policy, const std::string& actor,
                              const std::string& reason,
                              const std::vector<const PrivateKey*>& keys = {},
                              ChainPublisher* publisher = nullptr);

// The seq of the last policy event (0: none).
Result<uint64_t> PolicyHeadSeq(const Store& store);

// The deployment's policy; nullopt when it has none. kUsage for a bad name.
Result<std::optional<Policy>> GetPolicy(const Store& store, const DeploymentName& deployment);
// The event that set the deployment's current policy; nullopt when it has none.
Result<std::optional<PolicyEvent>> GetPolicyEvent(const Store& store,
                                                  const DeploymentName& deployment);
// Every deployment's policy, by deployment name.
Result<std::vector<Policy>> ListPolicies(const Store& store);
// Every policy event, oldest first.
Result<std::vector<PolicyEvent>> ReadPolicyEvents(const Store& store);

// `audit verify`: the replay of the policy chain.
struct PolicyChainAudit {
  uint64_t events = 0;
  std::optional<AuditProblem> problem;  // the first broken link (chain kPolicy)
  // Per deployment, every policy it had: (seq of the event that set it, the policy), in
  // chain order; a clear is an empty policy. Up to the first broken link.
  std::map<std::string, std::vector<std::pair<uint64_t, Policy>>> history;
};
// Replays every policy event — hash, prev link, seq, time order, a valid policy, no event
// that changes nothing, the root signatures every event after a root needs (judged by
// `roots`: the trust chain's root events, oldest first) — then requires the head and every
// deployment's record to be byte-identical to the event that wrote them.
Result<PolicyChainAudit> AuditPolicyChain(const Store& store, const std::vector<Root>& roots,
                                          uint64_t trust_head_seq);

}  // namespace cairn
