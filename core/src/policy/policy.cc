// Policies and their chain of changes (cairn/policy.h): the policy family's keys and values
// are written and read here (policy_records.h), and so is the chain's replay for `audit
// verify`. Evaluating a policy against a snapshot is in policy_eval.cc.
#include "cairn/policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "cairn/attestation.h"
#include "cairn/clock.h"
#include "cairn/deployment_name.h"
#include "cairn/non_inferiority.h"
#include "cairn/policy_check.h"
#include "cairn/trust.h"
#include "chain/chain_records.h"
#include "chain/hash_chain.h"
#include "policy/policy_records.h"
#include "store/schema.h"
#include "store/store_internal.h"

namespace cairn {

// ---- rule names and durations ----

Status ValidateRuleName(std::string_view rule) {
  if (rule == kRuleRequireSignedMoves) {
    return Status::Usage(
        "require-signed-moves cannot be overridden: sign the move with --key (a key holding the "
        "role the policy names)");
  }
  for (std::string_view known :
       {kRuleRequireSignatures, kRuleMinEval, kRuleMaxEvalDrop, kRuleNonInferior, kRuleSoak,
        kRuleRequirePinnedModels, kRuleRequireAgentLimits}) {
    if (rule == known) return Status::OK();
  }
  return Status::Usage(
      fmt::format("\"{}\" is not a policy rule: use require-signatures, min-eval, max-eval-drop, "
                  "non-inferior, soak, require-pinned-models or require-agent-limits",
                  rule));
}

namespace {
constexpr int64_t kSecond = 1000000;
constexpr int64_t kMaxDuration = int64_t{3650} * 86400 * kSecond;
}  // namespace

Result<int64_t> ParseDuration(std::string_view text, std::string_view what) {
  auto bad = [&](std::string_view rule) {
    return Status::Usage(fmt::format("{}: \"{}\" is not a duration: {}", what, text, rule));
  };
  if (text.empty()) return bad("it is empty");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i == text.size()) {
      return bad("write a number and a unit (s, m, h, d), e.g. 24h, 90m or 1d12h");
    }
    if (i - start > 10) return bad("at most 3650d");
    int64_t n = std::stoll(std::string(text.substr(start, i - start)));
    int64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return bad("units are s, m, h and d, e.g. 24h");
    }
    ++i;
    // Checked before multiplying: 10 digits of days would overflow int64 microseconds.
    if (n > kMaxDuration / (unit * kSecond)) return bad("at most 3650d");
    total += n * unit * kSecond;  // both terms <= kMaxDuration: the sum cannot overflow
    if (total > kMaxDuration) return bad("at most 3650d");
  }
  if (total < kSecond) return bad("at least 1s");
  return total;
}

std::string FormatDuration(int64_t micros) {
  int64_t s = micros / kSecond;
  std::string out;
  if (s >= 3600) out += fmt::format("{}h", s / 3600);
  if (s % 3600 >= 60) out += fmt::format("{}m", s % 3600 / 60);
  if (s % 60 != 0 || out.empty()) out += fmt::format("{}s", s % 60);
  return out;
}

// ---- policies ----

Json Policy::ToJson() const {
  Json sigs = Json::array();
  for (const auto& r : signatures) sigs.push_back({{"count", r.count}, {"role", r.role}});
  Json min = Json::object();
  for (const auto& [eval, score] : min_eval) min[eval] = score.ToString();
  Json drop = Json::object();
  for (const auto& [eval, score] : max_eval_drop) drop[eval] = score.ToString();
  Json soak = Json::object();
  for (const auto& [from, micros] : soak_micros) soak[from] = micros;
  Json j{{"deployment", deployment},
         {"signatures", sigs},
         {"min_eval", min},
         {"max_eval_drop", drop},
         {"soak_micros", soak},
         {"require_pinned_models", require_pinned_models},
         {"require_agent_limits", require_agent_limits},
         {"no_overrides", no_overrides}};
  // Written only when set, so policies without them hash as they always did.
  if (!require_signed_moves.empty()) j["require_signed_moves"] = require_signed_moves;
  if (!eval_dataset.empty()) {
    Json datasets = Json::object();
    for (const auto& [eval, digest] : eval_dataset) datasets[eval] = digest.ToString();
    j["eval_dataset"] = std::move(datasets);
  }
  if (!attester_role.empty()) j["attester_role"] = attester_role;
  if (min_n != 0) j["min_n"] = min_n;
  if (!non_inferior.empty()) {
    Json rules = Json::object();
    for (const auto& [eval, r] : non_inferior) {
      rules[eval] = {{"margin", r.margin.ToString()},
                     {"alpha", Score::FromBillionths(r.alpha).ToString()},
                     {"min_n", r.min_n}};
    }
    j["non_inferior"] = std::move(rules);
  }
  if (!min_eval_alpha.empty()) {
    Json alphas = Json::object();
    for (const auto& [eval, alpha] : min_eval_alpha) {
      alphas[eval] = Score::FromBillionths(alpha).ToString();
    }
    j["min_eval_alpha"] = std::move(alphas);
  }
  return j;
}

Result<Policy> Policy::FromJson(const Json& j, std::string_view what) {
  auto bad = [&](std::string_view field) {
    return Status::Corruption(fmt::format("{}: field '{}' is missing or mistyped", what, field));
  };
  static const char* kFields[] = {"deployment",           "signatures",  "min_eval",
                                  "max_eval_drop",        "soak_micros", "require_pinned_models",
                                  "require_agent_limits", "no_overrides"};
  static const char* kOptional[] = {"require_signed_moves", "eval_dataset",
                                    "attester_role",        "min_n",
                                    "non_inferior",         "min_eval_alpha"};
  if (!j.is_object()) return bad("(object)");
  size_t optional = 0;
  for (const char* f : kOptional) optional += j.contains(f) ? 1 : 0;
  if (j.size() != std::size(kFields) + optional) {
    return bad("(object of 8 fields and the optional evidence and signed-move rules)");
  }
  for (const char* f : kFields) {
    if (!j.contains(f)) return bad(f);
  }
  Policy p;
  try {
    if (j.contains("require_signed_moves")) {
      p.require_signed_moves = j.at("require_signed_moves").get<std::string>();
      if (p.require_signed_moves.empty()) return bad("require_signed_moves");
    }
    if (j.contains("eval_dataset")) {
      if (!j.at("eval_dataset").is_object() || j.at("eval_dataset").empty()) {
        return bad("eval_dataset");
      }
      for (const auto& [eval, digest] : j.at("eval_dataset").items()) {
        auto d = Digest::Parse(digest.get<std::string>());
        if (!d.ok()) return bad("eval_dataset");
        p.eval_dataset.emplace(eval, *d);
      }
    }
    if (j.contains("attester_role")) {
      p.attester_role = j.at("attester_role").get<std::string>();
      if (p.attester_role.empty()) return bad("attester_role");
    }
    if (j.contains("min_n")) {
      if (!j.at("min_n").is_number_unsigned() || j.at("min_n").get<uint64_t>() == 0) {
        return bad("min_n");
      }
      p.min_n = j.at("min_n").get<uint64_t>();
    }
    if (j.contains("non_inferior")) {
      const Json& rules = j.at("non_inferior");
      if (!rules.is_object() || rules.empty()) return bad("non_inferior");
      for (const auto& [eval, r] : rules.items()) {
        if (!r.is_object() || r.size() != 3 || !r.contains("min_n") ||
            !r.at("min_n").is_number_unsigned()) {
          return bad("non_inferior");
        }
        auto margin = Score::Parse(r.at("margin").get<std::string>(), "margin");
        auto alpha = ParseAlpha(r.at("alpha").get<std::string>(), "alpha");
        if (!margin.ok() || !alpha.ok()) return bad("non_inferior");
        p.non_inferior.emplace(eval,
                               NonInferiorRule{*margin, *alpha, r.at("min_n").get<uint64_t>()});
      }
    }
    if (j.contains("min_eval_alpha")) {
      if (!j.at("min_eval_alpha").is_object() || j.at("min_eval_alpha").empty()) {
        return bad("min_eval_alpha");
      }
      for (const auto& [eval, a] : j.at("min_eval_alpha").items()) {
        auto alpha = ParseAlpha(a.get<std::string>(), "alpha");
        if (!alpha.ok()) return bad("min_eval_alpha");
        p.min_eval_alpha.emplace(eval, *alpha);
      }
    }
    p.deployment = j.at("deployment").get<std::string>();
    if (!j.at("signatures").is_array()) return bad("signatures");
    for (const Json& r : j.at("signatures")) {
      if (!r.is_object() || r.size() != 2 || !r.contains("count") || !r.contains("role") ||
          !r.at("count").is_number_unsigned() || r.at("count").get<uint64_t>() > UINT32_MAX) {
        return bad("signatures");
      }
      p.signatures.push_back(
          {static_cast<uint32_t>(r.at("count").get<uint64_t>()), r.at("role").get<std::string>()});
    }
    if (!std::is_sorted(p.signatures.begin(), p.signatures.end(),
                        [](const auto& a, const auto& b) { return a.role < b.role; })) {
      return bad("signatures (not sorted by role)");
    }
    for (const char* f : {"min_eval", "max_eval_drop"}) {
      if (!j.at(f).is_object()) return bad(f);
      auto& into = std::string_view(f) == "min_eval" ? p.min_eval : p.max_eval_drop;
      for (const auto& [eval, score] : j.at(f).items()) {
        auto s = Score::Parse(score.get<std::string>(), f);
        if (!s.ok()) return bad(f);
        into.emplace(eval, *s);
      }
    }
    if (!j.at("soak_micros").is_object()) return bad("soak_micros");
    for (const auto& [from, micros] : j.at("soak_micros").items()) {
      if (!micros.is_number_integer()) return bad("soak_micros");
      p.soak_micros.emplace(from, micros.get<int64_t>());
    }
    p.require_pinned_models = j.at("require_pinned_models").get<bool>();
    p.require_agent_limits = j.at("require_agent_limits").get<bool>();
    p.no_overrides = j.at("no_overrides").get<bool>();
  } catch (const Json::exception& ex) {
    return Status::Corruption(fmt::format("{} is malformed: {}", what, ex.what()));
  }
  // An empty policy is what a clear records; anything else must be valid.
  if (!p.empty() || p.no_overrides) {
    Status valid = ValidatePolicy(p);
    if (!valid.ok()) return Status::Corruption(fmt::format("{}: {}", what, valid.message()));
  } else {
    CAIRN_RETURN_IF_ERROR(ValidateDeploymentName(p.deployment).WithContext(std::string(what)));
  }
  return p;
}

bool Policy::empty() const {
  return signatures.empty() && min_eval.empty() && max_eval_drop.empty() && soak_micros.empty() &&
         non_inferior.empty() && !require_pinned_models && !require_agent_limits &&
         require_signed_moves.empty();
}

std::vector<std::string> LoosenedRules(const Policy& weaker, const Policy& stronger) {
  std::vector<std::string> out;
  for (const auto& r : stronger.signatures) {
    uint32_t have = 0;
    for (const auto& w : weaker.signatures) {
      if (w.role == r.role) have = w.count;
    }
    if (have < r.count) {
      out.push_back(fmt::format("{} {}: {} < {}", kRuleRequireSignatures,
                                r.role.empty() ? "any trusted key" : "role " + r.role, have,
                                r.count));
    }
  }
  for (const auto& [eval, min] : stronger.min_eval) {
    auto it = weaker.min_eval.find(eval);
    if (it == weaker.min_eval.end() || it->second < min) {
      out.push_back(fmt::format("{} {}: {} < {}", kRuleMinEval, eval,
                                it == weaker.min_eval.end() ? "none" : it->second.ToString(),
                                min.ToString()));
    }
  }
  for (const auto& [eval, drop] : stronger.max_eval_drop) {
    auto it = weaker.max_eval_drop.find(eval);
    if (it == weaker.max_eval_drop.end() || drop < it->second) {
      out.push_back(fmt::format("{} {}: {} > {}", kRuleMaxEvalDrop, eval,
                                it == weaker.max_eval_drop.end() ? "none" : it->second.ToString(),
                                drop.ToString()));
    }
  }
  for (const auto& [eval, r] : stronger.non_inferior) {
    auto it = weaker.non_inferior.find(eval);
    if (it == weaker.non_inferior.end() || r.margin < it->second.margin ||
        r.alpha < it->second.alpha || it->second.min_n < r.min_n) {
      out.push_back(fmt::format("{} {}: {} vs margin {}, alpha {}, min-n {}", kRuleNonInferior,
                                eval, it == weaker.non_inferior.end() ? "none" : "looser",
                                r.margin.ToString(), Score::FromBillionths(r.alpha).ToString(),
                                r.min_n));
    }
  }
  for (const auto& [eval, alpha] : stronger.min_eval_alpha) {
    auto it = weaker.min_eval_alpha.find(eval);
    if (it == weaker.min_eval_alpha.end() || alpha < it->second) {
      out.push_back(fmt::format("{} {}: alpha {}", kRuleMinEval, eval,
                                Score::FromBillionths(alpha).ToString()));
    }
  }
  for (const auto& [from, need] : stronger.soak_micros) {
    auto it = weaker.soak_micros.find(from);
    if (it == weaker.soak_micros.end() || it->second < need) {
      out.push_back(
          fmt::format("{} {}: {} < {}", kRuleSoak, from,
                      it == weaker.soak_micros.end() ? "none" : FormatDuration(it->second),
                      FormatDuration(need)));
    }
  }
  auto flag = [&](bool strong, bool weak, std::string_view rule) {
    if (strong && !weak) out.push_back(std::string(rule));
  };
  flag(stronger.require_pinned_models, weaker.require_pinned_models, kRuleRequirePinnedModels);
  flag(stronger.require_agent_limits, weaker.require_agent_limits, kRuleRequireAgentLimits);
  flag(stronger.no_overrides, weaker.no_overrides, "no-overrides");
  if (!stronger.require_signed_moves.empty() &&
      weaker.require_signed_moves != stronger.require_signed_moves) {
    out.push_back(fmt::format("{} {}", kRuleRequireSignedMoves, stronger.require_signed_moves));
  }
  for (const auto& [eval, digest] : stronger.eval_dataset) {
    auto it = weaker.eval_dataset.find(eval);
    if (it == weaker.eval_dataset.end() || it->second != digest) {
      out.push_back(fmt::format("eval-dataset {}", eval));
    }
  }
  if (!stronger.attester_role.empty() && weaker.attester_role != stronger.attester_role) {
    out.push_back(fmt::format("attester-role {}", stronger.attester_role));
  }
  if (weaker.min_n < stronger.min_n) {
    out.push_back(fmt::format("min-n: {} < {}", weaker.min_n, stronger.min_n));
  }
  return out;
}

Status ValidatePolicy(const Policy& p) {
  CAIRN_RETURN_IF_ERROR(ValidateDeploymentName(p.deployment));
  std::set<std::string> roles;
  for (const auto& r : p.signatures) {
    if (r.count == 0) {
      return Status::Usage(
          "--require-signatures: N must be at least 1 (to require no signature, leave the rule "
          "out)");
    }
    if (!r.role.empty())
      CAIRN_RETURN_IF_ERROR(ValidateRoleName(r.role).WithContext("--signer-role"));
    if (!roles.insert(r.role).second) {
      return Status::Usage(
          fmt::format("--require-signatures: two requirements for {}: give one count per role",
                      r.role.empty() ? "any trusted key" : "role " + r.role));
    }
  }
  for (const auto& [eval, score] : p.min_eval) {
    CAIRN_RETURN_IF_ERROR(ValidateEvalName(eval).WithContext("--min-eval"));
  }
  for (const auto& [eval, score] : p.max_eval_drop) {
    CAIRN_RETURN_IF_ERROR(ValidateEvalName(eval).WithContext("--max-eval-drop"));
  }
  for (const auto& [eval, r] : p.non_inferior) {
    CAIRN_RETURN_IF_ERROR(ValidateEvalName(eval).WithContext("--non-inferior"));
    if (r.margin.billionths() <= 0) {
      return Status::Usage(fmt::format(
          "--non-inferior {}: the margin D must be above 0 (e.g. {}=0.02)", eval, eval));
    }
    CAIRN_RETURN_IF_ERROR(
        ParseAlpha(Score::FromBillionths(r.alpha).ToString(), "--non-inferior").status());
    if (r.min_n < 2) {
      return Status::Usage(fmt::format("--non-inferior {}: min-n must be at least 2", eval));
    }
  }
  for (const auto& [eval, alpha] : p.min_eval_alpha) {
    if (!p.min_eval.contains(eval)) {
      return Status::Usage(fmt::format("--min-eval {}: alpha without a minimum", eval));
    }
    CAIRN_RETURN_IF_ERROR(
        ParseAlpha(Score::FromBillionths(alpha).ToString(), "--min-eval").status());
  }
  for (const auto& [from, micros] : p.soak_micros) {
    CAIRN_RETURN_IF_ERROR(ValidateDeploymentName(from).WithContext("--soak"));
    if (from == p.deployment) {
      return Status::Usage(fmt::format(
          "--soak: \"{}\" is the deployment itself: soak names an earlier tier (e.g. beta=24h)",
          from));
    }
    if (micros < kSecond || micros > kMaxDuration) {
      return Status::Usage(fmt::format("--soak: {}: the duration must be 1s to 3650d", from));
    }
  }
  if (p.empty() && p.no_overrides) {
    return Status::Usage("--no-overrides alone sets no rule: give the rules it protects");
  }
  if (!p.require_signed_moves.empty()) {
    CAIRN_RETURN_IF_ERROR(
        ValidateRoleName(p.require_signed_moves).WithContext("--require-signed-moves"));
  }
  bool eval_rules = !p.min_eval.empty() || !p.max_eval_drop.empty() || !p.non_inferior.empty();
  if (!eval_rules && (!p.eval_dataset.empty() || !p.attester_role.empty() || p.min_n != 0)) {
    return Status::Usage(
        "--eval-dataset, --attester-role and --min-n bind eval rules: give --min-eval, "
        "--max-eval-drop or --non-inferior with them");
  }
  for (const auto& [eval, digest] : p.eval_dataset) {
    if (!p.min_eval.contains(eval) && !p.max_eval_drop.contains(eval) &&
        !p.non_inferior.contains(eval)) {
      return Status::Usage(fmt::format(
          "--eval-dataset {}: no --min-eval, --max-eval-drop or --non-inferior rule on {} to bind",
          eval, eval));
    }
  }
  if (!p.attester_role.empty()) {
    CAIRN_RETURN_IF_ERROR(ValidateRoleName(p.attester_role).WithContext("--attester-role"));
  }
  return Status::OK();
}

Json PolicyCheck::ToJson() const {
  Json j{{"rule", rule},
         {"subject", subject},
         {"passed", passed},
         {"overridden", overridden},
         {"detail", detail}};
  if (!stats.empty()) j["stats"] = stats;  // only checks that have numbers to recompute
  return j;
}

Result<PolicyCheck> PolicyCheck::FromJson(const Json& j) {
  auto bad = [](std::string_view field) {
    return Status::Corruption(fmt::format(
        "a policy check's \"{}\" is missing or mistyped (a check has exactly rule, subject, "
        "passed, overridden and detail)",
        field));
  };
  if (!j.is_object()) return bad("(the check itself)");
  if (j.size() != 5 + (j.contains("stats") ? 1 : 0)) return bad("(the set of members)");
  PolicyCheck c;
  for (const char* f : {"rule", "subject", "detail"}) {
    if (!j.contains(f) || !j.at(f).is_string()) return bad(f);
  }
  for (const char* f : {"passed", "overridden"}) {
    if (!j.contains(f) || !j.at(f).is_boolean()) return bad(f);
  }
  c.rule = j.at("rule").get<std::string>();
  c.subject = j.at("subject").get<std::string>();
  c.detail = j.at("detail").get<std::string>();
  c.passed = j.at("passed").get<bool>();
  c.overridden = j.at("overridden").get<bool>();
  if (j.contains("stats")) {
    if (!j.at("stats").is_object() || j.at("stats").empty()) return bad("stats");
    for (const auto& [k, v] : j.at("stats").items()) {
      if (!v.is_string()) return bad("stats");
      c.stats.emplace(k, v.get<std::string>());
    }
  }
  return c;
}

Json ChecksJson(const std::vector<PolicyCheck>& checks) {
  Json j = Json::array();
  for (const auto& c : checks) j.push_back(c.ToJson());
  return j;
}

// ---- events and records ----

void PolicyDerivedRecords::Add(const PolicyEvent& e, bool cleared, std::string_view bytes) {
  if (cleared) {
    records.erase(e.deployment);
  } else {
    records[e.deployment] = std::string(bytes);
  }
}

Result<PolicyEvent> DecodePolicyEvent(std::string_view bytes, std::string_view what) {
  CAIRN_ASSIGN_OR_RETURN(Json json, ParseCanonicalJson(bytes, what));
  auto event = PolicyEvent::FromJson(json);
  if (!event.ok()) return event.status().WithContext(std::string(what));
  return event;
}

Json PolicyEvent::ToJson(bool with_hash) const {
  Json j = {{"seq", seq},
            {"time", FormatTime(time_micros)},
            {"actor", actor},
            {"deployment", deployment},
            {"policy", policy},
            {"reason", reason},
            {"prev", prev ? Json(prev->ToString()) : Json()}};
  if (trust_seq) j["trust_seq"] = *trust_seq;
  if (with_hash) {
    j["hash"] = hash.ToString();
    if (!signatures.empty()) j["signatures"] = ChangeSignaturesJson(signatures);
  }
  return j;
}

Result<PolicyEvent> PolicyEvent::FromJson(const Json& j) {
  auto bad = [](std::string_view field) {
    return Status::Corruption(fmt::format("policy event field '{}' is missing or mistyped", field));
  };
  static const char* kFields[] = {"seq",    "time",   "actor", "deployment",
                                  "policy", "reason", "prev",  "hash"};
  if (!j.is_object()) return bad("(object)");
  size_t optional = (j.contains("trust_seq") ? 1 : 0) + (j.contains("signatures") ? 1 : 0);
  if (j.size() != std::size(kFields) + optional) {
    return bad("(object of 8 fields, and trust_seq and signatures in a rooted store)");
  }
  for (const char* f : kFields) {
    if (!j.contains(f)) return bad(f);
  }
  try {
    PolicyEvent e;
    if (!j.at("seq").is_number_unsigned()) return bad("seq");
    e.seq = j.at("seq").get<uint64_t>();
    auto t = ParseTime(j.at("time").get<std::string>());
    if (!t.ok()) return bad("time");
    e.time_micros = *t;
    e.actor = j.at("actor").get<std::string>();
    e.deployment = j.at("deployment").get<std::string>();
    if (!j.at("policy").is_object()) return bad("policy");
    e.policy = j.at("policy");
    e.reason = j.at("reason").get<std::string>();
    if (j.contains("trust_seq")) {
      if (!j.at("trust_seq").is_number_unsigned()) return bad("trust_seq");
      e.trust_seq = j.at("trust_seq").get<uint64_t>();
    }
    if (j.contains("signatures")) {
      if (const char* field = ReadChangeSignatures(j.at("signatures"), &e.signatures)) {
        return bad(field);
      }
    }
    if (const char* field = ReadChainLinks(j, &e.prev, &e.hash)) return bad(field);
    return e;
  } catch (const Json::exception& ex) {
    return Status::Corruption(fmt::format("policy event is malformed: {}", ex.what()));
  }
}

Result<Digest> PolicyEvent::ComputeHash() const { return ChainHash(ToJson(/*with_hash=*/false)); }

const char* PolicyEvent::action() const {
  auto p = Policy::FromJson(policy, "policy");
  return p.ok() && p->empty() ? "clear" : "set";
}

// ---- reading ----

namespace {

Result<std::optional<PolicyEvent>> LoadPolicyHead(const Store& store) {
  CAIRN_ASSIGN_OR_RETURN(auto value, StoreInternal::db(store).Get(Table::kPolicy, kPolicyHeadKey));
  if (!value) return std::optional<PolicyEvent>();
  CAIRN_ASSIGN_OR_RETURN(PolicyEvent head, DecodePolicyEvent(*value, "the policy chain head"));
  return std::optional<PolicyEvent>(std::move(head));
}

Result<Policy> PolicyOf(const PolicyEvent& e) {
  std::string what = fmt::format("policy event #{}", e.seq);
  CAIRN_ASSIGN_OR_RETURN(Policy p, Policy::FromJson(e.policy, what));
  if (p.deployment != e.deployment) {
    return Status::Corruption(fmt::format("{}: its policy names deployment \"{}\", not \"{}\"",
                                          what, p.deployment, e.deployment));
  }
  return p;
}

}  // namespace

Result<std::optional<PolicyEvent>> GetPolicyEvent(const Store& store,
                                                  const DeploymentName& deployment) {
  CAIRN_ASSIGN_OR_RETURN(auto value,
                         StoreInternal::db(store).Get(Table::kPolicy, PolicyRecordKey(deployment)));
  if (!value) return std::optional<PolicyEvent>();
  CAIRN_ASSIGN_OR_RETURN(
      PolicyEvent e,
      DecodePolicyEvent(*value, fmt::format("the policy of \"{}\"", deployment.view())));
  if (e.deployment != deployment.view()) {
    return Status::Corruption(fmt::format("the policy record of \"{}\" holds an event of \"{}\"",
                                          deployment.view(), e.deployment));
  }
  return std::optional<PolicyEvent>(std::move(e));
}

Result<std::optional<Policy>> GetPolicy(const Store& store, const DeploymentName& deployment) {
  CAIRN_ASSIGN_OR_RETURN(auto event, GetPolicyEvent(store, deployment));
  if (!event) return std::optional<Policy>();
  CAIRN_ASSIGN_OR_RETURN(Policy p, PolicyOf(*event));
  return std::optional<Policy>(std::move(p));
}

Result<std::vector<Policy>> ListPolicies(const Store& store) {
  std::vector<Policy> out;
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kPolicy);
  for (cur.Seek(kPolicyRecordPrefix); cur.Valid() && cur.key().starts_with(kPolicyRecordPrefix);
       cur.Next()) {
    std::string name(cur.key().substr(kPolicyRecordPrefix.size()));
    CAIRN_ASSIGN_OR_RETURN(
        PolicyEvent e, DecodePolicyEvent(cur.value(), fmt::format("the policy of \"{}\"", name)));
    CAIRN_ASSIGN_OR_RETURN(Policy p, PolicyOf(e));
    if (p.deployment != name) {
      return Status::Corruption(
          fmt::format("the policy record of \"{}\" holds a policy of \"{}\"", name, p.deployment));
    }
    out.push_back(std::move(p));
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  return out;
}

Result<std::vector<PolicyEvent>> ReadPolicyEvents(const Store& store) {
  std::vector<PolicyEvent> out;
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kPolicy);
  for (cur.Seek(kPolicyEventPrefix); cur.Valid() && cur.key().starts_with(kPolicyEventPrefix);
       cur.Next()) {
    CAIRN_ASSIGN_OR_RETURN(
        PolicyEvent e,
        DecodePolicyEvent(cur.value(), fmt::format("policy event {}", out.size() + 1)));
    out.push_back(std::move(e));
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  return out;
}

// ---- changing ----

// Atomicity and durability: the event, the new chain head and the deployment's record (put,
// or deleted when the policy is cleared) are written in one synced batch.
Result<uint64_t> PolicyHeadSeq(const Store& store) {
  CAIRN_ASSIGN_OR_RETURN(auto head, LoadPolicyHead(store));
  return head ? head->seq : 0;
}

Result<PolicyEvent> SetPolicy(Store& store, const Policy& policy, const std::string& actor,
                              const std::string& reason, const std::vector<const PrivateKey*>& keys,
                              ChainPublisher* publisher) {
  if (store.read_only()) return Status::Internal("changing a policy needs a writable store");
  Policy p = policy;
  std::sort(p.signatures.begin(), p.signatures.end(),
            [](const auto& a, const auto& b) { return a.role < b.role; });
  if (p.empty() && !p.no_overrides) {
    CAIRN_RETURN_IF_ERROR(ValidateDeploymentName(p.deployment));  // a clear
  } else {
    CAIRN_RETURN_IF_ERROR(ValidatePolicy(p));
  }
  if (reason.empty()) {
    return Status::Usage("say why with --reason TEXT: it is recorded in the policy chain");
  }
  CAIRN_ASSIGN_OR_RETURN(DeploymentName name, DeploymentName::Parse(p.deployment));
  CAIRN_ASSIGN_OR_RETURN(auto current, GetPolicy(store, name));
  if (!current && p.empty()) {
    return Status::Conflict(
        fmt::format("\"{}\" has no policy: there is nothing to clear", p.deployment));
  }
  if (current && current->ToJson() == p.ToJson()) {
    return Status::Conflict(
        fmt::format("\"{}\" already has exactly this policy: nothing to change (no event written)",
                    p.deployment));
  }
  Db& db = StoreInternal::db(store);
  CAIRN_ASSIGN_OR_RETURN(auto head, LoadPolicyHead(store));
  PolicyEvent e;
  e.actor = actor;
  e.deployment = p.deployment;
  e.policy = p.ToJson();
  e.reason = reason;
  CAIRN_ASSIGN_OR_RETURN(TrustState trust, TrustState::Load(store));
  if (trust.root()) e.trust_seq = trust.head_seq();
  CAIRN_RETURN_IF_ERROR(
      LinkAfter(head ? &*head : nullptr, store.clock().NowMicros(), &e, "policy event"));
  CAIRN_ASSIGN_OR_RETURN(e.hash, e.ComputeHash());
  CAIRN_ASSIGN_OR_RETURN(e.signatures, SignChange(trust.root(), PolicyChangeSigningMessage(e.hash),
                                                  keys, "policy change"));
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(e.ToJson()));
  if (publisher != nullptr) {
    CAIRN_RETURN_IF_ERROR(publisher->Publish(PublishedChain::kPolicy, bytes));
  }
  Batch batch(db);
  PutChainEvent(batch, PolicyChain(), e.seq, bytes);
  if (publisher != nullptr) {
    for (const auto& [key, value] : publisher->MetaRecords()) batch.Put(Table::kMeta, key, value);
  }
  if (p.empty()) {
    batch.Delete(Table::kPolicy, PolicyRecordKey(p.deployment));
  } else {
    batch.Put(Table::kPolicy, PolicyRecordKey(p.deployment), bytes);
  }
  CAIRN_RETURN_IF_ERROR(db.Write(batch, /*sync=*/true));
  return e;
}

// ---- audit ----

namespace {

// Whether a policy event carries the approval the roots before it require; why not if not.
// A root governs every policy event after its `policy_seq`; the event must name (trust_seq)
// a trust chain position at or after the newest root that governs it, and is judged by the
// root in force there.
std::optional<std::string> MissingRootApproval(const PolicyEvent& e, const PolicyEvent* prev,
                                               const std::vector<Root>& roots,
                                               uint64_t trust_head_seq) {
  const Root* governing = nullptr;
  for (const auto& r : roots) {
    if (r.spec.policy_seq < e.seq) governing = &r;
  }
  if (governing == nullptr) {
    if (e.trust_seq || !e.signatures.empty()) {
      return "it carries root approval fields, but no root governed it";
    }
    return std::nullopt;
  }
  if (!e.trust_seq) {
    return fmt::format(
        "it was made after the root of trust event #{} but carries no root approval: an "
        "unsigned policy change",
        governing->seq);
  }
  if (*e.trust_seq < governing->seq || *e.trust_seq > trust_head_seq) {
    return fmt::format("it names trust event #{}, but the root it must meet is trust event #{}",
                       *e.trust_seq, governing->seq);
  }
  if (prev && prev->trust_seq && *e.trust_seq < *prev->trust_seq) {
    return fmt::format("it names trust event #{}, older than the previous policy event did (#{})",
                       *e.trust_seq, *prev->trust_seq);
  }
  const Root* judge = governing;
  for (const auto& r : roots) {
    if (r.seq <= *e.trust_seq) judge = &r;
  }
  auto shortfall =
      RootApprovalShortfall(judge->spec, PolicyChangeSigningMessage(e.hash), e.signatures);
  if (!shortfall) return std::nullopt;
  return fmt::format("it was not approved by the root of trust event #{}: {}", judge->seq,
                     *shortfall);
}

}  // namespace

Result<PolicyChainAudit> AuditPolicyChain(const Store& store, const std::vector<Root>& roots,
                                          uint64_t trust_head_seq) {
  const Db& db = StoreInternal::db(store);
  PolicyChainAudit out;
  auto problem = [&](uint64_t seq, std::string deployment, std::string message) {
    out.problem = AuditProblem{std::move(deployment), seq, std::move(message), AuditChain::kPolicy};
    return out;
  };
  PolicyDerivedRecords derived;
  std::map<std::string, Json> current;  // deployment -> its policy, as JSON
  std::string last_deployment;          // of the event read last: a problem names it
  auto decode = [&](std::string_view bytes, std::string_view what) -> Result<PolicyEvent> {
    last_deployment.clear();
    auto e = DecodePolicyEvent(bytes, what);
    if (e.ok()) last_deployment = e->deployment;
    return e;
  };
  // The policy chain's own rule: every event changes its deployment's policy.
  auto rules = [&](const PolicyEvent& e, const PolicyEvent* prev,
                   std::string_view bytes) -> Result<std::optional<std::string>> {
    if (auto missing = MissingRootApproval(e, prev, roots, trust_head_seq)) return missing;
    auto policy = PolicyOf(e);
    if (!policy.ok()) return std::optional<std::string>(policy.status().message());
    auto it = current.find(e.deployment);
    if (policy->empty() && it == current.end()) {
      return std::optional<std::string>("it clears a policy the deployment did not have");
    }
    if (it != current.end() && it->second == e.policy) {
      return std::optional<std::string>("it sets the policy the deployment already had");
    }
    out.history[e.deployment].emplace_back(e.seq, *policy);
    derived.Add(e, policy->empty(), bytes);
    if (policy->empty()) {
      current.erase(e.deployment);
    } else {
      current[e.deployment] = e.policy;
    }
    return std::optional<std::string>();
  };
  CAIRN_ASSIGN_OR_RETURN(auto replay, ReplayChain<PolicyEvent>(db, PolicyChain(), decode, rules));
  out.events = replay.events;
  if (replay.broken) {
    return problem(replay.broken->seq, replay.broken->seq == 0 ? "" : last_deployment,
                   replay.broken->message);
  }
  CAIRN_ASSIGN_OR_RETURN(auto bad, CheckDerivedRecords(db, Table::kPolicy, kPolicyRecordPrefix,
                                                       derived.records, "policy", "policy event"));
  if (bad) return problem(0, bad->key, bad->message);
  return out;
}

}  // namespace cairn
