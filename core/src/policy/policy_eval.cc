// Evaluating a policy for one snapshot (cairn/policy.h): one PolicyCheck per rule and
// subject, with the numbers that decided it. Reads only; the caller acts on the result.
#include "cairn/policy_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "cairn/attestation.h"
#include "cairn/clock.h"
#include "cairn/deployment.h"
#include "cairn/object.h"
#include "cairn/policy.h"
#include "cairn/signature.h"
#include "cairn/trust.h"

namespace cairn {
namespace {

std::string ShortDigest(const Digest& d) { return "sha256:" + d.Hex().substr(0, 12); }

// "; not counted: 1 revoked, 2 unknown key" — the non-valid entries, by status.
std::string NotCounted(const std::map<std::string, size_t>& by_status) {
  std::string out;
  for (const auto& [status, n] : by_status) {
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, status);
  }
  return out.empty() ? out : "; not counted: " + out;
}

bool HasRole(const std::vector<std::string>& roles, std::string_view role) {
  return role.empty() || std::find(roles.begin(), roles.end(), role) != roles.end();
}

// Each trusted key counts toward one signature requirement only (a key holding release and
// ci meets "1 release" or "1 ci", never both): a maximum bipartite matching of keys to the
// requirements' slots (Kuhn's augmenting paths; a few keys and slots). Returns, per
// requirement, the keys counted for it.
std::vector<std::vector<KeyId>> AssignSigners(const std::vector<SignatureRequirement>& reqs,
                                              const std::vector<SignatureCheck>& checks) {
  std::vector<KeyId> keys;
  std::vector<std::vector<std::string>> roles;
  for (const auto& s : checks) {
    if (s.status != SignatureStatus::kValid) continue;
    if (std::find(keys.begin(), keys.end(), s.key_id) != keys.end()) continue;
    keys.push_back(s.key_id);
    roles.push_back(s.roles);
  }
  std::vector<size_t> slot_req;  // slot -> requirement
  for (size_t r = 0; r < reqs.size(); ++r) {
    for (uint32_t i = 0; i < reqs[r].count && slot_req.size() < 4096; ++i) slot_req.push_back(r);
  }
  std::vector<int> slot_key(slot_req.size(), -1);
  std::function<bool(size_t, std::vector<bool>&)> place = [&](size_t k, std::vector<bool>& seen) {
    for (size_t s = 0; s < slot_req.size(); ++s) {
      if (seen[s] || !HasRole(roles[k], reqs[slot_req[s]].role)) continue;
      seen[s] = true;
      if (slot_key[s] < 0 || place(static_cast<size_t>(slot_key[s]), seen)) {
        slot_key[s] = static_cast<int>(k);
        return true;
      }
    }
    return false;
  };
  for (size_t k = 0; k < keys.size(); ++k) {
    std::vector<bool> seen(slot_req.size(), false);
    place(k, seen);
  }
  std::vector<std::vector<KeyId>> out(reqs.size());
  for (size_t s = 0; s < slot_req.size(); ++s) {
    if (slot_key[s] >= 0) out[slot_req[s]].push_back(keys[static_cast<size_t>(slot_key[s])]);
  }
  return out;
}

PolicyCheck CheckSignatureRequirement(const SignatureRequirement& r,
                                      const std::vector<SignatureCheck>& checks,
                                      const std::vector<KeyId>& assigned) {
  PolicyCheck c;
  c.rule = std::string(kRuleRequireSignatures);
  c.subject = r.role.empty() ? "any trusted key" : "role " + r.role;
  size_t have = assigned.size();
  c.passed = have >= r.count;
  // Who counted (one name per key), and what did not and why.
  std::set<KeyId> seen;
  std::vector<std::string> names;
  std::map<std::string, size_t> not_counted;
  for (const auto& s : checks) {
    if (!seen.insert(s.key_id).second) continue;
    bool mine = std::find(assigned.begin(), assigned.end(), s.key_id) != assigned.end();
    if (mine) {
      names.push_back(s.names.empty() ? s.key_id.Short() : s.names.front().name);
    } else if (s.status == SignatureStatus::kValid && HasRole(s.roles, r.role)) {
      ++not_counted["counted for another requirement"];
    } else if (s.status == SignatureStatus::kValid) {
      ++not_counted["without role " + r.role];
    } else {
      ++not_counted[SignatureStatusName(s.status)];
    }
  }
  std::sort(names.begin(), names.end());
  std::string who;
  for (const auto& n : names) who += (who.empty() ? ": " : ", ") + n;
  c.detail = fmt::format("{} of {} {}{}{}", have, r.count,
                         r.role.empty() ? "trusted signers" : "signers with role " + r.role, who,
                         NotCounted(not_counted));
  return c;
}

// What an eval rule may count (policy.h: eval_dataset, attester_role, min_n).
struct EvalBinding {
  std::optional<Digest> dataset;
  std::string role;
  uint64_t min_n = 0;
  // ", counting only dataset sha256:…, attester role ci, n >= 100", or "".
  std::string Describe() const {
    std::string out;
    auto add = [&](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
    if (dataset) add("dataset " + ShortDigest(*dataset));
    if (!role.empty()) add("attester role " + role);
    if (min_n != 0) add(fmt::format("n >= {}", min_n));
    return out.empty() ? out : ", counting only " + out;
  }
};

EvalBinding BindingFor(const Policy& policy, const std::string& eval) {
  EvalBinding b;
  if (auto it = policy.eval_dataset.find(eval); it != policy.eval_dataset.end()) {
    b.dataset = it->second;
  }
  b.role = policy.attester_role;
  b.min_n = policy.min_n;
  return b;
}

// The roles the attesting key held under its names (also when it was revoked since).
bool AttesterHolds(const AttestationCheck& a, std::string_view role) {
  if (role.empty()) return true;
  for (const auto& n : a.names) {
    if (std::find(n.roles.begin(), n.roles.end(), role) != n.roles.end()) return true;
  }
  return false;
}

// The attestation that decides an eval rule: the newest in store order on `eval` that meets
// the binding (and, for a baseline, is on `same_dataset`), among those by trusted keys and
// by keys revoked since — a revoked attester's newer result must block ("re-run the eval"),
// not vanish and let an older passing score decide. Attestations by unknown keys and bad
// ones never counted; `not_counted` tallies everything skipped, by why.
const AttestationCheck* DecidingEval(const std::vector<AttestationCheck>& atts,
                                     std::string_view eval, const EvalBinding& b,
                                     const std::optional<Digest>* same_dataset,
                                     std::map<std::string, size_t>* not_counted) {
  const AttestationCheck* best = nullptr;
  for (const auto& a : atts) {
    const EvalStatement& s = a.attestation.statement;
    if (s.eval != eval) continue;
    if (a.status != SignatureStatus::kValid && a.status != SignatureStatus::kRevoked) {
      ++(*not_counted)[SignatureStatusName(a.status)];
      continue;
    }
    if (b.dataset && s.dataset != b.dataset) {
      ++(*not_counted)["on another dataset"];
      continue;
    }
    if (same_dataset != nullptr && s.dataset != *same_dataset) {
      ++(*not_counted)["on another dataset"];
      continue;
    }
    if (!AttesterHolds(a, b.role)) {
      ++(*not_counted)["by a key without role " + b.role];
      continue;
    }
    if (b.min_n != 0 && (!s.n || *s.n < b.min_n)) {
      ++(*not_counted)[fmt::format("over fewer than {} cases", b.min_n)];
      continue;
    }
    if (best == nullptr || !StoreOrderBefore(s, best->attestation.statement)) best = &a;
  }
  return best;
}

std::string AttestationNote(const AttestationCheck& a) {
  const EvalStatement& s = a.attestation.statement;
  std::string signer = a.names.empty() ? a.attestation.key_id.Short() : a.names.front().name;
  return fmt::format("attestation {} by {}{}{}", a.attestation.id.Hex().substr(0, 12), signer,
                     s.n ? fmt::format(", n {}", *s.n) : "",
                     s.dataset ? ", dataset " + ShortDigest(*s.dataset) : "");
}

// The detail of a rule decided by a result whose key was revoked since.
std::string RevokedResult(const AttestationCheck& a, std::string_view eval, std::string_view of) {
  return fmt::format(
      "the newest result on {} for {} ({}) is by a key revoked since: re-run the eval and attest "
      "with a trusted key (an older result does not stand in for it)",
      eval, of, AttestationNote(a));
}

PolicyCheck CheckMinEval(const std::string& eval, const Score& min, const SnapshotId& candidate,
                         const std::vector<AttestationCheck>& atts, const EvalBinding& binding) {
  PolicyCheck c;
  c.rule = std::string(kRuleMinEval);
  c.subject = eval;
  std::map<std::string, size_t> skipped;
  const AttestationCheck* a = DecidingEval(atts, eval, binding, nullptr, &skipped);
  if (a == nullptr) {
    c.detail =
        fmt::format("no trusted attestation on {} for {} (needs >= {}{}){}", eval,
                    candidate.Short(), min.ToString(), binding.Describe(), NotCounted(skipped));
    return c;
  }
  if (a->status == SignatureStatus::kRevoked) {
    c.detail = RevokedResult(*a, eval, candidate.Short());
    return c;
  }
  Score got = a->attestation.statement.score;
  c.passed = got >= min;
  c.detail = fmt::format("{} {} {} ({}{})", got.ToString(), c.passed ? ">=" : "<", min.ToString(),
                         AttestationNote(*a), binding.Describe());
  return c;
}

// Reads the live snapshot's attestations once, on first use.
class LiveAttestations {
 public:
  LiveAttestations(const Store& store, const TrustState& trust, const SnapshotId& live)
      : store_(store), trust_(trust), live_(live) {}
  Result<const std::vector<AttestationCheck>*> Get() {
    if (!loaded_) {
      CAIRN_ASSIGN_OR_RETURN(checks_, CheckAttestations(store_, live_, trust_));
      loaded_ = true;
    }
    return &checks_;
  }

 private:
  const Store& store_;
  const TrustState& trust_;
  SnapshotId live_;
  bool loaded_ = false;
  std::vector<AttestationCheck> checks_;
};

Result<PolicyCheck> CheckMaxEvalDrop(const std::string& eval, const Score& max_drop,
                                     const Policy& policy, const SnapshotId& candidate,
                                     const std::vector<AttestationCheck>& atts,
                                     const std::optional<SnapshotId>& live,
                                     LiveAttestations* live_atts) {
  PolicyCheck c;
  c.rule = std::string(kRuleMaxEvalDrop);
  c.subject = eval;
  EvalBinding binding = BindingFor(policy, eval);
  std::map<std::string, size_t> skipped;
  const AttestationCheck* mine = DecidingEval(atts, eval, binding, nullptr, &skipped);
  if (mine == nullptr) {
    c.detail = fmt::format("no trusted attestation on {} for {}{}{}", eval, candidate.Short(),
                           binding.Describe(), NotCounted(skipped));
    return c;
  }
  if (mine->status == SignatureStatus::kRevoked) {
    c.detail = RevokedResult(*mine, eval, candidate.Short());
    return c;
  }
  const EvalStatement& s = mine->attestation.statement;
  if (!s.dataset) {
    c.detail = fmt::format(
        "the newest trusted attestation on {} for {} names no dataset: scores are compared only "
        "on the same dataset digest (attest with --dataset)",
        eval, candidate.Short());
    return c;
  }
  if (!live) {
    c.passed = true;
    c.detail = fmt::format("nothing live on {} to compare with ({} = {})", policy.deployment,
                           candidate.Short(), s.score.ToString());
    return c;
  }
  CAIRN_ASSIGN_OR_RETURN(const std::vector<AttestationCheck>* theirs, live_atts->Get());
  std::map<std::string, size_t> skipped_live;
  const AttestationCheck* before = DecidingEval(*theirs, eval, binding, &s.dataset, &skipped_live);
  if (before == nullptr) {
    c.detail = fmt::format("no comparable score for the live snapshot {} on {} with dataset {}{}",
                           live->Short(), eval, s.dataset->ToString(), binding.Describe());
    return c;
  }
  if (before->status == SignatureStatus::kRevoked) {
    c.detail = RevokedResult(*before, eval, "the live snapshot " + live->Short());
    return c;
  }
  int64_t drop = before->attestation.statement.score.billionths() - s.score.billionths();
  c.passed = drop <= max_drop.billionths();
  c.detail = fmt::format("{} -> {}: drop {} {} {} (live {}, dataset {}{})",
                         before->attestation.statement.score.ToString(), s.score.ToString(),
                         FormatScoreDelta(drop), c.passed ? "<=" : ">", max_drop.ToString(),
                         live->Short(), ShortDigest(*s.dataset), binding.Describe());
  return c;
}

Result<PolicyCheck> CheckSoak(const Store& store, const std::string& from_text, int64_t need,
                              const SnapshotId& candidate, int64_t created_micros,
                              int64_t now_micros) {
  PolicyCheck c;
  c.rule = std::string(kRuleSoak);
  c.subject = from_text;
  // A stored policy's tiers were names when it was set (ValidatePolicy).
  CAIRN_ASSIGN_OR_RETURN(DeploymentName from, DeploymentName::Parse(from_text));
  CAIRN_ASSIGN_OR_RETURN(LiveHistory h, GetLiveHistory(store, from, candidate));
  if (!h.was_live) {
    c.detail = fmt::format("{} was never live on {} (needs {} there)", candidate.Short(), from_text,
                           FormatDuration(need));
    return c;
  }
  if (h.rolled_back_seq != 0) {
    CAIRN_ASSIGN_OR_RETURN(Event rb, GetEvent(store, from, h.rolled_back_seq));
    c.detail = fmt::format("{} was rolled back on {} at {} (event #{}: \"{}\")", candidate.Short(),
                           from_text, FormatTime(rb.time_micros), rb.seq, rb.reason);
    return c;
  }
  CAIRN_ASSIGN_OR_RETURN(Event first, GetEvent(store, from, h.first_seq));
  // Its first stay there ends with the next move of `from`, or lasts until now.
  int64_t end = now_micros;
  std::string until = "still live";
  auto next = GetEvent(store, from, h.first_seq + 1);
  if (next.ok()) {
    end = next->time_micros;
    until = fmt::format("until event #{}", next->seq);
  } else if (!next.status().IsNotFound()) {
    return next.status();
  }
  // Soak counts from no earlier than the snapshot's own creation: an event dated before the
  // snapshot existed cannot lend it time.
  int64_t start = std::max(first.time_micros, created_micros);
  int64_t live_for = std::max<int64_t>(0, end - start);
  c.passed = live_for >= need;
  c.detail =
      fmt::format("live on {} {} (needs {}): since {} (event #{}{}), {}", from_text,
                  FormatDuration(live_for), FormatDuration(need), FormatTime(start), first.seq,
                  start > first.time_micros ? "; counted from the snapshot's creation" : "", until);
  return c;
}

void CheckPinnedModels(const Snapshot& snapshot, std::vector<PolicyCheck>* out) {
  size_t models = 0;
  for (const auto& comp : snapshot.components) {
    if (comp.kind != ComponentKind::kModel) continue;
    ++models;
    PolicyCheck c;
    c.rule = std::string(kRuleRequirePinnedModels);
    c.subject = comp.path;
    const Json& f = comp.facts;
    std::string model =
        f.contains("model") && f["model"].is_string() ? f["model"].get<std::string>() : "?";
    c.passed = f.contains("pinned") && f["pinned"].is_boolean() && f["pinned"].get<bool>();
    if (c.passed) {
      std::string pin = f.contains("revision") ? "revision " + f["revision"].get<std::string>()
                                               : "digest " + f.value("digest", std::string("?"));
      c.detail = fmt::format("{} pinned to {}", model, pin);
    } else {
      c.detail = fmt::format("{} floats (\"pinned\": false): pin a revision or digest", model);
    }
    out->push_back(std::move(c));
  }
  if (models == 0) {
    out->push_back({std::string(kRuleRequirePinnedModels), "(no model components)", true, false,
                    "nothing to pin"});
  }
}

Status CheckAgentLimits(const Store& store, const Snapshot& snapshot,
                        std::vector<PolicyCheck>* out) {
  size_t models = 0;
  for (const auto& comp : snapshot.components) {
    if (comp.kind != ComponentKind::kModel) continue;
    ++models;
    PolicyCheck c;
    c.rule = std::string(kRuleRequireAgentLimits);
    c.subject = comp.path;
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, ReadObject(store, comp.digest));
    Json m = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
    if (!m.is_object() || !m.contains("limits") || !m["limits"].is_object()) {
      c.detail = "declares no \"limits\": add {\"max_steps\": N, \"max_cost_usd\": X}";
      out->push_back(std::move(c));
      continue;
    }
    const Json& limits = m["limits"];
    std::vector<std::string> missing;
    for (const char* field : {"max_steps", "max_cost_usd"}) {
      if (!limits.contains(field) || !limits[field].is_number()) missing.push_back(field);
    }
    c.passed = missing.empty();
    if (c.passed) {
      c.detail = fmt::format("max_steps {}, max_cost_usd {}", limits["max_steps"].dump(),
                             limits["max_cost_usd"].dump());
    } else {
      c.detail = fmt::format("\"limits\" lacks a numeric {}",
                             missing.size() == 2 ? "max_steps and max_cost_usd" : missing[0]);
    }
    out->push_back(std::move(c));
  }
  if (models == 0) {
    out->push_back({std::string(kRuleRequireAgentLimits), "(no model components)", true, false,
                    "no agent to limit"});
  }
  return Status::OK();
}

void AppendSignatureChecks(const Policy& policy, const std::vector<SignatureCheck>& sigs,
                           std::vector<PolicyCheck>* out) {
  auto assigned = AssignSigners(policy.signatures, sigs);
  for (size_t i = 0; i < policy.signatures.size(); ++i) {
    out->push_back(CheckSignatureRequirement(policy.signatures[i], sigs, assigned[i]));
  }
}

}  // namespace

Result<std::vector<PolicyCheck>> EvaluatePolicy(const Store& store, const Policy& policy,
                                                const SnapshotId& candidate,
                                                const std::optional<SnapshotId>& live,
                                                int64_t now_micros) {
  CAIRN_ASSIGN_OR_RETURN(Snapshot snapshot, LoadSnapshot(store, candidate));
  CAIRN_ASSIGN_OR_RETURN(TrustState trust, TrustState::Load(store));
  std::vector<PolicyCheck> out;
  if (!policy.signatures.empty()) {
    CAIRN_ASSIGN_OR_RETURN(auto sigs, CheckSnapshotSignatures(store, candidate, trust));
    AppendSignatureChecks(policy, sigs, &out);
  }
  std::vector<AttestationCheck> atts;
  if (!policy.min_eval.empty() || !policy.max_eval_drop.empty()) {
    CAIRN_ASSIGN_OR_RETURN(atts, CheckAttestations(store, candidate, trust));
  }
  for (const auto& [eval, min] : policy.min_eval) {
    out.push_back(CheckMinEval(eval, min, candidate, atts, BindingFor(policy, eval)));
  }
  std::optional<LiveAttestations> live_atts;
  if (live) live_atts.emplace(store, trust, *live);
  for (const auto& [eval, drop] : policy.max_eval_drop) {
    CAIRN_ASSIGN_OR_RETURN(PolicyCheck c,
                           CheckMaxEvalDrop(eval, drop, policy, candidate, atts, live,
                                            live_atts ? &*live_atts : nullptr));
    out.push_back(std::move(c));
  }
  for (const auto& [from, need] : policy.soak_micros) {
    CAIRN_ASSIGN_OR_RETURN(PolicyCheck c, CheckSoak(store, from, need, candidate,
                                                    snapshot.created_micros, now_micros));
    out.push_back(std::move(c));
  }
  if (policy.require_pinned_models) CheckPinnedModels(snapshot, &out);
  if (policy.require_agent_limits) CAIRN_RETURN_IF_ERROR(CheckAgentLimits(store, snapshot, &out));
  return out;
}

Result<std::vector<PolicyCheck>> EvaluateSignatureRules(const Store& store, const Policy& policy,
                                                        const SnapshotId& target) {
  CAIRN_ASSIGN_OR_RETURN(bool exists, HasSnapshot(store, target));
  if (!exists) return Status::NotFound(fmt::format("no snapshot {}", target.Hex()));
  std::vector<PolicyCheck> out;
  if (policy.signatures.empty()) return out;
  CAIRN_ASSIGN_OR_RETURN(TrustState trust, TrustState::Load(store));
  CAIRN_ASSIGN_OR_RETURN(auto sigs, CheckSnapshotSignatures(store, target, trust));
  AppendSignatureChecks(policy, sigs, &out);
  return out;
}

}  // namespace cairn
