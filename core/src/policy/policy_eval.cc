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
#include "cairn/eval_cases.h"
#include "cairn/non_inferiority.h"
#include "cairn/object.h"
#include "cairn/policy.h"
#include "cairn/signature.h"
#include "cairn/trust.h"

namespace cairn {
namespace {

// A failing check of `rule` on `subject`, its detail still to say why.
PolicyCheck StartCheck(std::string_view rule, const std::string& subject) {
  PolicyCheck c;
  c.rule = std::string(rule);
  c.subject = subject;
  return c;
}

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
  bool per_case = false;  // only attestations with per-case results (non-inferior)
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
    if (b.per_case && !s.cases) {
      ++(*not_counted)["without per-case results"];
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

// "95%" for α = 0.05, "97.5%" for 0.025.
std::string ConfidenceLabel(int64_t alpha) {
  std::string digits = Score::FromBillionths(Score::kOne - alpha).ToString().substr(2);
  if (digits.size() == 1) digits += "0";
  return digits.substr(0, 2) + (digits.size() > 2 ? "." + digits.substr(2) : "") + "%";
}

// "0.861", "-0.020": three decimals, a sign only when negative.
std::string Unsigned3(int64_t v) {
  std::string s = FormatSigned(v, 3);
  return s[0] == '+' ? s.substr(1) : s;
}

// min-eval with :alpha= on per-case results: the one-sided lower bound of the mean >= X.
Result<PolicyCheck> MinEvalBound(const Store& store, const std::string& eval, const Score& min,
                                 int64_t alpha, const AttestationCheck& a,
                                 const EvalBinding& binding) {
  PolicyCheck c = StartCheck(kRuleMinEval, eval);
  CAIRN_ASSIGN_OR_RETURN(EvalCaseSet cases, LoadEvalCases(store, a.attestation.statement));
  BoundTest t = TestMinimum(CaseSums(cases), min.billionths(), alpha);
  c.passed = t.verdict == Verdict::kPass;
  c.stats = t.Fields();
  c.stats["candidate"] = a.attestation.id.ToString();
  c.detail = fmt::format("{} LB {} {} {} (mean {}, n {}{}): {} ({}{})", ConfidenceLabel(alpha),
                         Unsigned3(t.lb), c.passed ? ">=" : "<", min.ToString(), Unsigned3(t.mean),
                         t.n, t.g != 0 ? fmt::format(", G {}", t.g) : "", VerdictName(t.verdict),
                         AttestationNote(a), binding.Describe());
  return c;
}

PolicyCheck CheckMinEval(const std::string& eval, const Score& min, const SnapshotId& candidate,
                         const std::vector<AttestationCheck>& atts, const EvalBinding& binding) {
  PolicyCheck c = StartCheck(kRuleMinEval, eval);
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
  PolicyCheck c = StartCheck(kRuleMaxEvalDrop, eval);
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

// "a, b, c and 4 more".
std::string ListSome(const std::vector<std::string>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < 5; ++i) out += (i ? ", " : "") + ids[i];
  if (ids.size() > 5) out += fmt::format(" and {} more", ids.size() - 5);
  return out;
}

// The paired test between two attestations' case files; the check's numbers and verdict.
Result<PolicyCheck> PairedCheck(const Store& store, const std::string& eval,
                                const NonInferiorRule& rule, const Attestation& mine,
                                const Attestation& before) {
  PolicyCheck c = StartCheck(kRuleNonInferior, eval);
  CAIRN_ASSIGN_OR_RETURN(EvalCaseSet cand, LoadEvalCases(store, mine.statement));
  CAIRN_ASSIGN_OR_RETURN(EvalCaseSet live, LoadEvalCases(store, before.statement));
  auto paired = PairCases(live, cand);
  if (!paired.ok()) {
    c.detail = paired.status().message();
    return c;
  }
  if (!paired->only_candidate.empty() || !paired->only_live.empty()) {
    c.detail = fmt::format(
        "not comparable: cases on one side only ({} only in the candidate{}{}; "
        "{} only live{}{}): pair the same cases",
        paired->only_candidate.size(), paired->only_candidate.empty() ? "" : ": ",
        ListSome(paired->only_candidate), paired->only_live.size(),
        paired->only_live.empty() ? "" : ": ", ListSome(paired->only_live));
    return c;
  }
  BoundTest t =
      TestNonInferiority(paired->sample, rule.margin.billionths(), rule.alpha, rule.min_n);
  c.passed = t.verdict == Verdict::kPass;
  c.stats = t.Fields();
  c.stats["candidate"] = mine.id.ToString();
  c.stats["live"] = before.id.ToString();
  std::string tail;
  if (!t.why_inconclusive.empty()) tail = " (" + t.why_inconclusive + ")";
  if (t.verdict == Verdict::kInconclusive && t.cases_needed) {
    tail += fmt::format(" — about {} cases needed", *t.cases_needed);
  }
  c.detail = fmt::format("mean {} ({} LB {}, UB {}) margin {}, n {}{}: {}{}",
                         FormatSigned(t.mean, 3), ConfidenceLabel(rule.alpha),
                         FormatSigned(t.lb, 3), FormatSigned(t.ub, 3), rule.margin.ToString(), t.n,
                         t.g != 0 ? fmt::format(", G {}", t.g) : "", VerdictName(t.verdict), tail);
  return c;
}

Result<PolicyCheck> CheckNonInferior(const Store& store, const std::string& eval,
                                     const NonInferiorRule& rule, const Policy& policy,
                                     const SnapshotId& candidate,
                                     const std::vector<AttestationCheck>& atts,
                                     const std::optional<SnapshotId>& live,
                                     LiveAttestations* live_atts) {
  PolicyCheck c = StartCheck(kRuleNonInferior, eval);
  EvalBinding binding = BindingFor(policy, eval);
  binding.per_case = true;
  std::map<std::string, size_t> skipped;
  const AttestationCheck* mine = DecidingEval(atts, eval, binding, nullptr, &skipped);
  if (mine == nullptr) {
    c.detail = fmt::format("no per-case results on {} for {}: attest it with --cases{}{}", eval,
                           candidate.Short(), binding.Describe(), NotCounted(skipped));
    return c;
  }
  if (mine->status == SignatureStatus::kRevoked) {
    c.detail = RevokedResult(*mine, eval, candidate.Short());
    return c;
  }
  if (!live) {
    c.passed = true;
    c.detail = fmt::format("nothing live on {} to compare with", policy.deployment);
    return c;
  }
  CAIRN_ASSIGN_OR_RETURN(const std::vector<AttestationCheck>* theirs, live_atts->Get());
  std::map<std::string, size_t> skipped_live;
  const AttestationCheck* before = DecidingEval(*theirs, eval, binding, nullptr, &skipped_live);
  if (before == nullptr) {
    c.detail = fmt::format(
        "no per-case results for the live snapshot {} on {}: attest it with "
        "--cases{}{}",
        live->Short(), eval, binding.Describe(), NotCounted(skipped_live));
    return c;
  }
  if (before->status == SignatureStatus::kRevoked) {
    c.detail = RevokedResult(*before, eval, "the live snapshot " + live->Short());
    return c;
  }
  const EvalStatement& a = mine->attestation.statement;
  const EvalStatement& b = before->attestation.statement;
  if (a.dataset != b.dataset || a.judge_digest != b.judge_digest) {
    bool dataset = a.dataset != b.dataset;
    const auto& x = dataset ? a.dataset : a.judge_digest;
    const auto& y = dataset ? b.dataset : b.judge_digest;
    c.detail = fmt::format("not comparable: the candidate's {} is {}, the live snapshot {}'s is {}",
                           dataset ? "dataset" : "judge", x ? ShortDigest(*x) : "none",
                           live->Short(), y ? ShortDigest(*y) : "none");
    return c;
  }
  return PairedCheck(store, eval, rule, mine->attestation, before->attestation);
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
    out->push_back({std::string(kRuleRequirePinnedModels),
                    "(no model components)",
                    true,
                    false,
                    "nothing to pin",
                    {}});
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
    out->push_back({std::string(kRuleRequireAgentLimits),
                    "(no model components)",
                    true,
                    false,
                    "no agent to limit",
                    {}});
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
  if (!policy.min_eval.empty() || !policy.max_eval_drop.empty() || !policy.non_inferior.empty()) {
    CAIRN_ASSIGN_OR_RETURN(atts, CheckAttestations(store, candidate, trust));
  }
  for (const auto& [eval, min] : policy.min_eval) {
    EvalBinding binding = BindingFor(policy, eval);
    auto alpha = policy.min_eval_alpha.find(eval);
    if (alpha != policy.min_eval_alpha.end()) {
      std::map<std::string, size_t> skipped;
      const AttestationCheck* a = DecidingEval(atts, eval, binding, nullptr, &skipped);
      if (a != nullptr && a->status == SignatureStatus::kValid && a->attestation.statement.cases) {
        CAIRN_ASSIGN_OR_RETURN(PolicyCheck c,
                               MinEvalBound(store, eval, min, alpha->second, *a, binding));
        out.push_back(std::move(c));
        continue;
      }
    }
    PolicyCheck c = CheckMinEval(eval, min, candidate, atts, binding);
    if (alpha != policy.min_eval_alpha.end() && c.passed) {
      c.detail += "; no per-case results, so the score itself is compared";
    }
    out.push_back(std::move(c));
  }
  std::optional<LiveAttestations> live_atts;
  if (live) live_atts.emplace(store, trust, *live);
  for (const auto& [eval, drop] : policy.max_eval_drop) {
    CAIRN_ASSIGN_OR_RETURN(PolicyCheck c,
                           CheckMaxEvalDrop(eval, drop, policy, candidate, atts, live,
                                            live_atts ? &*live_atts : nullptr));
    out.push_back(std::move(c));
  }
  for (const auto& [eval, rule] : policy.non_inferior) {
    CAIRN_ASSIGN_OR_RETURN(PolicyCheck c,
                           CheckNonInferior(store, eval, rule, policy, candidate, atts, live,
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

namespace {

// A stored field parsed back: a 9-digit decimal into billionths.
std::optional<int64_t> Billionths(const std::map<std::string, std::string>& stats,
                                  const std::string& key) {
  auto it = stats.find(key);
  if (it == stats.end()) return std::nullopt;
  auto s = Score::Parse(it->second, key);
  return s.ok() ? std::optional<int64_t>(s->billionths()) : std::nullopt;
}

std::string DiffFields(const std::map<std::string, std::string>& stored,
                       const std::map<std::string, std::string>& again) {
  std::string out;
  for (const auto& [k, v] : again) {
    auto it = stored.find(k);
    std::string was = it == stored.end() ? "(none)" : it->second;
    if (was != v)
      out += fmt::format("{}{} stored {}, recomputed {}", out.empty() ? "" : "; ", k, was, v);
  }
  return out;
}

Result<std::optional<Attestation>> Named(const Store& store, const PolicyCheck& check,
                                         const std::string& field, const SnapshotId& snapshot,
                                         std::string* problem) {
  auto it = check.stats.find(field);
  auto id =
      it == check.stats.end() ? Result<Digest>(Status::NotFound("")) : Digest::Parse(it->second);
  if (!id.ok()) {
    *problem = fmt::format("the check names no {} attestation", field);
    return std::optional<Attestation>();
  }
  auto a = GetAttestation(store, snapshot, *id);
  if (!a.ok() && !a.status().IsNotFound() && !a.status().IsCorruption()) return a.status();
  if (!a.ok()) {
    *problem = fmt::format("its {} attestation: {}", field, a.status().message());
    return std::optional<Attestation>();
  }
  return std::optional<Attestation>(std::move(*a));
}

}  // namespace

Result<std::string> RecomputeCheckStats(const Store& store, const PolicyCheck& check,
                                        const SnapshotId& candidate,
                                        const std::optional<SnapshotId>& live) {
  const auto& st = check.stats;
  auto margin = Billionths(st, "margin");
  auto alpha_text = st.find("alpha");
  auto min_n_text = st.find("min_n");
  if (!margin || alpha_text == st.end() || min_n_text == st.end()) {
    return std::string("its stats lack margin, alpha or min_n");
  }
  auto alpha = ParseAlpha(alpha_text->second, "alpha");
  if (!alpha.ok()) return std::string("its stats name an alpha that is not a level");
  uint64_t min_n = 0;
  try {
    min_n = std::stoull(min_n_text->second);
  } catch (const std::exception&) {
    return std::string("its min_n is not a number");
  }
  std::string problem;
  CAIRN_ASSIGN_OR_RETURN(auto mine, Named(store, check, "candidate", candidate, &problem));
  if (!mine) return problem;
  auto cases_or = [&](const Attestation& a) -> Result<std::optional<EvalCaseSet>> {
    auto set = LoadEvalCases(store, a.statement);
    if (set.ok()) return std::optional<EvalCaseSet>(std::move(*set));
    if (set.status().IsCorruption() || set.status().IsNotFound()) {
      problem = set.status().message();
      return std::optional<EvalCaseSet>();
    }
    return set.status();
  };
  std::map<std::string, std::string> again;
  PolicyCheck redo;
  if (check.rule == kRuleMinEval) {
    CAIRN_ASSIGN_OR_RETURN(auto cases, cases_or(*mine));
    if (!cases) return problem;
    again = TestMinimum(CaseSums(*cases), *margin, *alpha).Fields();
    redo.passed = again["verdict"] == "pass";
  } else {
    if (!live) return std::string("a paired check on a move from nothing");
    CAIRN_ASSIGN_OR_RETURN(auto before, Named(store, check, "live", *live, &problem));
    if (!before) return problem;
    auto score = Score::Parse(st.at("margin"), "margin");
    NonInferiorRule rule{*score, *alpha, min_n};
    CAIRN_ASSIGN_OR_RETURN(auto cand_cases, cases_or(*mine));
    if (!cand_cases) return problem;
    CAIRN_ASSIGN_OR_RETURN(auto live_cases, cases_or(*before));
    if (!live_cases) return problem;
    CAIRN_ASSIGN_OR_RETURN(redo, PairedCheck(store, check.subject, rule, *mine, *before));
    again = redo.stats;
  }
  again["min_n"] = check.rule == kRuleMinEval ? "0" : std::to_string(min_n);
  for (const char* k : {"candidate", "live"}) {
    if (st.contains(k)) again[k] = st.at(k);
  }
  std::string diff = DiffFields(st, again);
  if (diff.empty() && redo.passed != check.passed) {
    diff = fmt::format("it is stored as {}, but its verdict is {}",
                       check.passed ? "passed" : "failed", st.at("verdict"));
  }
  return diff;
}

Result<EvalComparison> CompareEvals(const Store& store, const SnapshotId& baseline,
                                    const SnapshotId& candidate, const std::string& eval,
                                    const NonInferiorRule& rule) {
  CAIRN_ASSIGN_OR_RETURN(TrustState trust, TrustState::Load(store));
  EvalBinding binding;
  binding.per_case = true;
  auto newest = [&](const SnapshotId& id) -> Result<Attestation> {
    CAIRN_ASSIGN_OR_RETURN(auto atts, CheckAttestations(store, id, trust));
    std::erase_if(atts,
                  [](const AttestationCheck& a) { return a.status != SignatureStatus::kValid; });
    std::map<std::string, size_t> skipped;
    const AttestationCheck* a = DecidingEval(atts, eval, binding, nullptr, &skipped);
    if (a == nullptr) {
      return Status::NotFound(fmt::format(
          "no trusted per-case results on {} for {}: attest it with --cases", eval, id.Short()));
    }
    return a->attestation;
  };
  EvalComparison out;
  CAIRN_ASSIGN_OR_RETURN(out.live, newest(baseline));
  CAIRN_ASSIGN_OR_RETURN(out.candidate, newest(candidate));
  const EvalStatement& a = out.candidate.statement;
  const EvalStatement& b = out.live.statement;
  if (a.dataset != b.dataset || a.judge_digest != b.judge_digest) {
    return Status::Usage(fmt::format("not comparable: {} and {} were scored on another {}",
                                     baseline.Short(), candidate.Short(),
                                     a.dataset != b.dataset ? "dataset" : "judge"));
  }
  CAIRN_ASSIGN_OR_RETURN(out.live_cases, LoadEvalCases(store, b));
  CAIRN_ASSIGN_OR_RETURN(out.candidate_cases, LoadEvalCases(store, a));
  CAIRN_ASSIGN_OR_RETURN(out.paired, PairCases(out.live_cases, out.candidate_cases));
  if (!out.paired.only_candidate.empty() || !out.paired.only_live.empty()) {
    return Status::Usage(fmt::format(
        "not comparable: cases on one side only ({} only in {}: {}; {} only in {}: {})",
        out.paired.only_candidate.size(), candidate.Short(), ListSome(out.paired.only_candidate),
        out.paired.only_live.size(), baseline.Short(), ListSome(out.paired.only_live)));
  }
  out.test = TestNonInferiority(out.paired.sample, rule.margin.billionths(), rule.alpha, 0);
  return out;
}

}  // namespace cairn
