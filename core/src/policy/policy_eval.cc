// Evaluating a policy for one snapshot (cairn/policy.h): one PolicyCheck per rule and
// subject, with the numbers that decided it. Reads only; the caller acts on the result.
#include "cairn/policy_eval.h"

#include <fmt/format.h>

#include <algorithm>
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

PolicyCheck CheckSignatureRequirement(const SignatureRequirement& r,
                                      const std::vector<SignatureCheck>& checks) {
  PolicyCheck c;
  c.rule = std::string(kRuleRequireSignatures);
  c.subject = r.role.empty() ? "any trusted key" : "role " + r.role;
  size_t have = CountValidSigners(checks, r.role);
  c.passed = have >= r.count;
  // Who counted (one name per key), and what did not and why.
  std::set<KeyId> counted;
  std::vector<std::string> names;
  std::map<std::string, size_t> not_counted;
  for (const auto& s : checks) {
    bool has_role =
        r.role.empty() || std::find(s.roles.begin(), s.roles.end(), r.role) != s.roles.end();
    if (s.status == SignatureStatus::kValid && has_role) {
      if (counted.insert(s.key_id).second) {
        names.push_back(s.names.empty() ? s.key_id.Short() : s.names.front().name);
      }
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

// Attestations on `eval` that do not count, by status.
std::map<std::string, size_t> UncountedEvals(const std::vector<AttestationCheck>& checks,
                                             std::string_view eval) {
  std::map<std::string, size_t> out;
  for (const auto& a : checks) {
    if (a.status != SignatureStatus::kValid && a.attestation.statement.eval == eval) {
      ++out[SignatureStatusName(a.status)];
    }
  }
  return out;
}

std::string AttestationNote(const AttestationCheck& a) {
  const EvalStatement& s = a.attestation.statement;
  std::string signer = a.names.empty() ? a.attestation.key_id.Short() : a.names.front().name;
  return fmt::format("attestation {} by {}{}", a.attestation.id.Hex().substr(0, 12), signer,
                     s.dataset ? ", dataset " + ShortDigest(*s.dataset) : "");
}

PolicyCheck CheckMinEval(const std::string& eval, const Score& min, const SnapshotId& candidate,
                         const std::vector<AttestationCheck>& atts) {
  PolicyCheck c;
  c.rule = std::string(kRuleMinEval);
  c.subject = eval;
  const AttestationCheck* a = NewestValidEval(atts, eval);
  if (a == nullptr) {
    c.detail =
        fmt::format("no trusted attestation on {} for {} (needs >= {}){}", eval, candidate.Short(),
                    min.ToString(), NotCounted(UncountedEvals(atts, eval)));
    return c;
  }
  Score got = a->attestation.statement.score;
  c.passed = got >= min;
  c.detail = fmt::format("{} {} {} ({})", got.ToString(), c.passed ? ">=" : "<", min.ToString(),
                         AttestationNote(*a));
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
  const AttestationCheck* mine = NewestValidEval(atts, eval);
  if (mine == nullptr) {
    c.detail = fmt::format("no trusted attestation on {} for {}{}", eval, candidate.Short(),
                           NotCounted(UncountedEvals(atts, eval)));
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
  const AttestationCheck* before = NewestValidEval(*theirs, eval, s.dataset, true);
  if (before == nullptr) {
    c.detail = fmt::format("no comparable score for the live snapshot {} on {} with dataset {}",
                           live->Short(), eval, s.dataset->ToString());
    return c;
  }
  int64_t drop = before->attestation.statement.score.billionths() - s.score.billionths();
  c.passed = drop <= max_drop.billionths();
  c.detail = fmt::format("{} -> {}: drop {} {} {} (live {}, dataset {})",
                         before->attestation.statement.score.ToString(), s.score.ToString(),
                         FormatScoreDelta(drop), c.passed ? "<=" : ">", max_drop.ToString(),
                         live->Short(), ShortDigest(*s.dataset));
  return c;
}

Result<PolicyCheck> CheckSoak(const Store& store, const std::string& from_text, int64_t need,
                              const SnapshotId& candidate, int64_t now_micros) {
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
  int64_t live_for = std::max<int64_t>(0, end - first.time_micros);
  c.passed = live_for >= need;
  c.detail = fmt::format("live on {} {} (needs {}): since {} (event #{}), {}", from_text,
                         FormatDuration(live_for), FormatDuration(need),
                         FormatTime(first.time_micros), first.seq, until);
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
  for (const auto& r : policy.signatures) out->push_back(CheckSignatureRequirement(r, sigs));
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
    out.push_back(CheckMinEval(eval, min, candidate, atts));
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
    CAIRN_ASSIGN_OR_RETURN(PolicyCheck c, CheckSoak(store, from, need, candidate, now_micros));
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
