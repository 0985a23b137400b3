// cairn policy set DEPLOYMENT [rules] --reason TEXT · policy show [DEPLOYMENT] · policy log
#include <cairn/attestation.h>
#include <cairn/clock.h>
#include <cairn/non_inferiority.h>
#include <cairn/policy.h>
#include <cairn/remote.h>
#include <cairn/trust.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

// One line per rule, as `policy show` and `policy set` print them.
std::vector<std::string> RuleLines(const Policy& p) {
  std::vector<std::string> out;
  for (const auto& r : p.signatures) {
    out.push_back(fmt::format("require-signatures     {} distinct signer{} {}", r.count,
                              r.count == 1 ? "" : "s",
                              r.role.empty() ? "(any trusted key)" : "with role " + r.role));
  }
  for (const auto& [eval, min] : p.min_eval) {
    auto alpha = p.min_eval_alpha.find(eval);
    out.push_back(fmt::format("min-eval               {} >= {}{}", eval, min.ToString(),
                              alpha == p.min_eval_alpha.end()
                                  ? ""
                                  : fmt::format(" (lower bound at alpha {} with per-case results)",
                                                Score::FromBillionths(alpha->second).ToString())));
  }
  for (const auto& [eval, r] : p.non_inferior) {
    out.push_back(fmt::format(
        "non-inferior           {}: no worse than live by more than {} (alpha {}, min-n {}, "
        "paired per case)",
        eval, r.margin.ToString(), Score::FromBillionths(r.alpha).ToString(), r.min_n));
  }
  for (const auto& [eval, drop] : p.max_eval_drop) {
    out.push_back(
        fmt::format("max-eval-drop          {}: at most {} below what is live (same dataset)", eval,
                    drop.ToString()));
  }
  for (const auto& [from, micros] : p.soak_micros) {
    out.push_back(fmt::format("soak                   live on {} for at least {}, not rolled back",
                              from, FormatDuration(micros)));
  }
  if (p.require_pinned_models) out.push_back("require-pinned-models  every model pinned");
  if (p.require_agent_limits) {
    out.push_back("require-agent-limits   every model declares limits.max_steps and max_cost_usd");
  }
  if (!p.require_signed_moves.empty()) {
    out.push_back(fmt::format("require-signed-moves   every promote and rollback signed by role {}",
                              p.require_signed_moves));
  }
  for (const auto& [eval, digest] : p.eval_dataset) {
    out.push_back(
        fmt::format("eval-dataset           {} counts only dataset {}", eval, digest.ToString()));
  }
  if (!p.attester_role.empty()) {
    out.push_back(
        fmt::format("attester-role          eval results count only by role {}", p.attester_role));
  }
  if (p.min_n != 0) {
    out.push_back(
        fmt::format("min-n                  eval results count only over >= {} cases", p.min_n));
  }
  if (p.no_overrides) out.push_back("no-overrides           promote --override is refused");
  return out;
}

// Splits "NAME=VALUE"; kUsage naming the flag otherwise.
Result<std::pair<std::string, std::string>> SplitAssignment(const std::string& text,
                                                            std::string_view flag,
                                                            std::string_view example) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return Status::Usage(
        fmt::format("{}: \"{}\" is not NAME=VALUE (e.g. {} {})", flag, text, flag, example));
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

struct PolicySetOptions {
  std::string deployment;
  std::vector<std::string> require_signatures;  // paired with --signer-role by command-line order
  std::vector<std::string> signer_roles;
  std::vector<std::string> min_eval;
  std::vector<std::string> max_eval_drop;
  std::vector<std::string> non_inferior;
  std::vector<std::string> soak;
  std::vector<std::string> eval_dataset;
  std::string require_signed_moves;
  std::string attester_role;
  uint64_t min_n = 0;
  bool require_pinned_models = false;
  bool require_agent_limits = false;
  bool no_overrides = false;
  bool clear = false;
  std::string reason;
  std::vector<std::string> keys;  // root keys approving the change
  bool json = false;
  // Where the pairs' order is read from after parsing.
  CLI::App* cmd = nullptr;
  CLI::Option* require_signatures_opt = nullptr;
  CLI::Option* signer_role_opt = nullptr;
};

// `--require-signatures N [--signer-role ROLE]` pairs: each --signer-role belongs to the
// --require-signatures just before it; one without a role accepts any trusted key.
Status ParseSignatureRules(const PolicySetOptions& o, Policy* p) {
  size_t next_count = 0;
  size_t next_role = 0;
  bool last_has_role = true;
  for (const CLI::Option* opt : o.cmd->parse_order()) {
    if (opt == o.require_signatures_opt) {
      const std::string& text = o.require_signatures.at(next_count++);
      uint32_t n = 0;
      bool digits = !text.empty() && text.size() <= 6 &&
                    text.find_first_not_of("0123456789") == std::string::npos;
      if (digits) n = static_cast<uint32_t>(std::stoul(text));
      if (!digits || n == 0) {
        return Status::Usage(fmt::format(
            "--require-signatures: \"{}\" is not a count: give N >= 1 distinct signers", text));
      }
      p->signatures.push_back({n, ""});
      last_has_role = false;
    } else if (opt == o.signer_role_opt) {
      const std::string& role = o.signer_roles.at(next_role++);
      if (last_has_role) {
        return Status::Usage(fmt::format(
            "--signer-role {}: each --signer-role follows its own --require-signatures N", role));
      }
      CAIRN_RETURN_IF_ERROR(ValidateRoleName(role).WithContext("--signer-role"));
      p->signatures.back().role = role;
      last_has_role = true;
    }
  }
  return Status::OK();
}

// "X[:alpha=A][:min-n=N]" after NAME=: the value and its options; kUsage naming `flag`.
Result<std::pair<std::string, std::map<std::string, std::string>>> SplitOptions(
    const std::string& text, std::string_view flag, std::initializer_list<std::string_view> known) {
  std::map<std::string, std::string> options;
  size_t colon = text.find(':');
  std::string value = text.substr(0, colon);
  while (colon != std::string::npos) {
    size_t next = text.find(':', colon + 1);
    std::string part = text.substr(colon + 1, next == std::string::npos ? next : next - colon - 1);
    size_t eq = part.find('=');
    std::string key = part.substr(0, eq);
    if (eq == std::string::npos || std::find(known.begin(), known.end(), key) == known.end() ||
        !options.emplace(key, part.substr(eq + 1)).second) {
      std::string names;
      for (auto k : known) names += fmt::format("{}:{}=...", names.empty() ? "" : " or ", k);
      return Status::Usage(
          fmt::format("{}: \"{}\" is not an option here (give {}, once each)", flag, part, names));
    }
    colon = next;
  }
  return std::make_pair(value, options);
}

// --non-inferior NAME=D[:alpha=A][:min-n=N]
Status ParseNonInferior(const std::vector<std::string>& texts, Policy* p) {
  const std::string kFlag = "--non-inferior";
  for (const auto& text : texts) {
    CAIRN_ASSIGN_OR_RETURN(auto kv, SplitAssignment(text, kFlag, "golden-v4=0.02:alpha=0.05"));
    CAIRN_RETURN_IF_ERROR(ValidateEvalName(kv.first).WithContext(kFlag));
    CAIRN_ASSIGN_OR_RETURN(auto parts, SplitOptions(kv.second, kFlag, {"alpha", "min-n"}));
    NonInferiorRule rule;
    CAIRN_ASSIGN_OR_RETURN(rule.margin, Score::Parse(parts.first, kFlag));
    if (parts.second.contains("alpha")) {
      CAIRN_ASSIGN_OR_RETURN(rule.alpha, ParseAlpha(parts.second["alpha"], kFlag));
    }
    if (parts.second.contains("min-n")) {
      const std::string& n = parts.second["min-n"];
      if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos) {
        return Status::Usage(fmt::format("{}: min-n \"{}\" is not a count", kFlag, n));
      }
      rule.min_n = std::stoull(n);
    }
    if (!p->non_inferior.emplace(kv.first, rule).second) {
      return Status::Usage(fmt::format("{}: {} is given twice", kFlag, kv.first));
    }
  }
  return Status::OK();
}

// Everything typed, checked before the store is opened.
Result<Policy> PolicyFromFlags(const PolicySetOptions& o) {
  Policy p;
  p.deployment = o.deployment;
  CAIRN_RETURN_IF_ERROR(ValidateDeploymentName(o.deployment));
  CAIRN_RETURN_IF_ERROR(ParseSignatureRules(o, &p));
  for (const auto& [flag, texts, into] :
       {std::tuple{"--min-eval", &o.min_eval, &p.min_eval},
        std::tuple{"--max-eval-drop", &o.max_eval_drop, &p.max_eval_drop}}) {
    for (const auto& text : *texts) {
      CAIRN_ASSIGN_OR_RETURN(auto kv, SplitAssignment(text, flag, "golden-v3=0.87"));
      CAIRN_RETURN_IF_ERROR(ValidateEvalName(kv.first).WithContext(flag));
      bool min = std::string_view(flag) == "--min-eval";
      CAIRN_ASSIGN_OR_RETURN(auto parts, SplitOptions(kv.second, flag, {"alpha"}));
      if (!min && !parts.second.empty()) {
        return Status::Usage(fmt::format("{}: takes no options (\"{}\")", flag, text));
      }
      CAIRN_ASSIGN_OR_RETURN(Score score, Score::Parse(parts.first, flag));
      if (parts.second.contains("alpha")) {
        CAIRN_ASSIGN_OR_RETURN(int64_t alpha, ParseAlpha(parts.second["alpha"], flag));
        p.min_eval_alpha[kv.first] = alpha;
      }
      if (!into->emplace(kv.first, score).second) {
        return Status::Usage(fmt::format("{}: {} is given twice", flag, kv.first));
      }
    }
  }
  CAIRN_RETURN_IF_ERROR(ParseNonInferior(o.non_inferior, &p));
  for (const auto& text : o.soak) {
    CAIRN_ASSIGN_OR_RETURN(auto kv, SplitAssignment(text, "--soak", "beta=24h"));
    CAIRN_RETURN_IF_ERROR(ValidateDeploymentName(kv.first).WithContext("--soak"));
    CAIRN_ASSIGN_OR_RETURN(int64_t micros, ParseDuration(kv.second, "--soak"));
    if (!p.soak_micros.emplace(kv.first, micros).second) {
      return Status::Usage(fmt::format("--soak: {} is given twice", kv.first));
    }
  }
  for (const auto& text : o.eval_dataset) {
    CAIRN_ASSIGN_OR_RETURN(
        auto kv, SplitAssignment(text, "--eval-dataset", "golden-v3=sha256:<64 hex> (or =FILE)"));
    CAIRN_RETURN_IF_ERROR(ValidateEvalName(kv.first).WithContext("--eval-dataset"));
    CAIRN_ASSIGN_OR_RETURN(Digest d, DatasetDigest(kv.second));
    if (!p.eval_dataset.emplace(kv.first, d).second) {
      return Status::Usage(fmt::format("--eval-dataset: {} is given twice", kv.first));
    }
  }
  p.require_signed_moves = o.require_signed_moves;
  p.attester_role = o.attester_role;
  p.min_n = o.min_n;
  p.require_pinned_models = o.require_pinned_models;
  p.require_agent_limits = o.require_agent_limits;
  p.no_overrides = o.no_overrides;
  if (o.clear) {
    bool bindings = !p.eval_dataset.empty() || !p.attester_role.empty() || p.min_n != 0;
    if (!p.empty() || p.no_overrides || bindings) {
      return Status::Usage("--clear removes the whole policy: give it without any rule");
    }
    return p;
  }
  if (p.empty() && !p.no_overrides) {
    return Status::Usage(
        "give at least one rule (--require-signatures, --min-eval, --max-eval-drop, "
        "--non-inferior, --soak, "
        "--require-pinned-models, --require-agent-limits, --require-signed-moves), or --clear to "
        "remove the policy");
  }
  CAIRN_RETURN_IF_ERROR(ValidatePolicy(p));
  return p;
}

int RunPolicySet(const PolicySetOptions& o, const Context& ctx) {
  auto policy = PolicyFromFlags(o);
  if (!policy.ok()) return ReportError(policy.status());
  if (o.reason.empty()) {
    return ReportError(Status::Usage("--reason: say why (it is recorded in the policy chain)"));
  }
  auto keys = ctx.RootKeys(o.keys);
  if (!keys.ok()) return ReportError(keys.status());
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  // A store whose policy chain is shared (team mode) sends the change to the remote first.
  auto publisher = NewChainPublisher(**store, TransferFor(30, !ctx.global.no_progress));
  if (!publisher.ok()) return ReportError(publisher.status());
  auto event = SetPolicy(**store, *policy, ctx.Actor(), o.reason, Context::KeyPointers(*keys),
                         publisher->get());
  if (!event.ok()) return ReportError(event.status());
  if (o.json) {
    PrintJson(event->ToJson());
    return kExitOk;
  }
  if (policy->empty()) {
    Print("cleared the policy of {} (policy event #{}): promotions there are not gated\n",
          o.deployment, event->seq);
    return kExitOk;
  }
  auto stored = Policy::FromJson(event->policy, "the policy set");  // as stored: normalised
  if (!stored.ok()) return ReportError(stored.status());
  Print("policy of {} set (policy event #{}):\n", o.deployment, event->seq);
  for (const auto& line : RuleLines(*stored)) Print("  {}\n", line);
  return kExitOk;
}

struct PolicyShowOptions {
  std::string deployment;
  bool json = false;
};

Json ShowJson(const std::string& deployment, const std::optional<PolicyEvent>& e) {
  if (!e) return Json{{"deployment", deployment}, {"policy", nullptr}, {"set_by", nullptr}};
  return Json{{"deployment", deployment},
              {"policy", e->policy},
              {"set_by",
               {{"seq", e->seq},
                {"time", FormatTime(e->time_micros)},
                {"actor", e->actor},
                {"reason", e->reason}}}};
}

void PrintShow(const Policy& p, const PolicyEvent& e) {
  Print("{}  (policy event #{}, {} by {}: \"{}\")\n", p.deployment, e.seq, ShortTime(e.time_micros),
        e.actor, e.reason);
  for (const auto& line : RuleLines(p)) Print("  {}\n", line);
}

int RunPolicyShow(const PolicyShowOptions& o, const Context& ctx) {
  std::vector<DeploymentName> names;
  if (!o.deployment.empty()) {
    auto name = DeploymentName::Parse(o.deployment);
    if (!name.ok()) return ReportError(name.status().WithContext("DEPLOYMENT"));
    names.push_back(*name);
  }
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  if (o.deployment.empty()) {
    auto all = ListPolicies(**store);
    if (!all.ok()) return ReportError(all.status());
    for (const auto& p : *all) {
      auto name = DeploymentName::Parse(p.deployment);
      if (!name.ok()) return ReportError(name.status());
      names.push_back(*name);
    }
  }
  Json out = Json::array();
  for (const auto& name_ : names) {
    const std::string name = name_.str();
    auto event = GetPolicyEvent(**store, name_);
    if (!event.ok()) return ReportError(event.status());
    auto policy = GetPolicy(**store, name_);
    if (!policy.ok()) return ReportError(policy.status());
    if (o.json) {
      out.push_back(ShowJson(name, *event));
    } else if (*policy) {
      PrintShow(**policy, **event);
    } else {
      Print("{}: no policy (promotions are not gated)\n", name);
    }
  }
  if (o.json) {
    PrintJson(o.deployment.empty() ? out : out.at(0));
  } else if (names.empty()) {
    Print("no policies (set one with 'cairn policy set DEPLOYMENT ... --reason TEXT')\n");
  }
  return kExitOk;
}

int RunPolicyLog(const PolicyShowOptions& o, const Context& ctx) {
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto events = ReadPolicyEvents(**store);
  if (!events.ok()) return ReportError(events.status());
  if (o.json) {
    Json out = Json::array();
    for (const auto& e : *events) out.push_back(e.ToJson());
    PrintJson(out);
    return kExitOk;
  }
  for (const auto& e : *events) {
    Print("#{:<4} {}  {:<5}  {}  {}  \"{}\"\n", e.seq, ShortTime(e.time_micros), e.action(),
          e.deployment, e.actor, e.reason);
    auto p = Policy::FromJson(e.policy, "policy");
    if (!p.ok()) return ReportError(p.status());
    for (const auto& line : RuleLines(*p)) Print("        {}\n", line);
  }
  return kExitOk;
}

}  // namespace

void RegisterPolicy(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("policy", "Per-deployment promotion rules (audited)");
  group->require_subcommand(1);

  auto set = std::make_shared<PolicySetOptions>();
  auto* cmd = group->add_subcommand(
      "set", "Replace a deployment's policy with the rules given (or --clear it); audited");
  set->cmd = cmd;
  cmd->add_option("deployment", set->deployment, "Deployment, e.g. prod or support-bot/beta")
      ->required();
  set->require_signatures_opt =
      cmd->add_option("--require-signatures", set->require_signatures,
                      "N distinct trusted signers (repeatable; pair with --signer-role)")
          ->allow_extra_args(false);
  set->signer_role_opt =
      cmd->add_option("--signer-role", set->signer_roles,
                      "Role the preceding --require-signatures counts (default: any trusted key)")
          ->allow_extra_args(false);
  cmd->add_option("--min-eval", set->min_eval,
                  "NAME=X[:alpha=A]: a trusted score >= X; with alpha, the (1-A) lower bound "
                  "of the per-case mean (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--non-inferior", set->non_inferior,
                  "NAME=D[:alpha=0.05][:min-n=100]: paired per-case results show the candidate "
                  "no worse than live by more than D (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--max-eval-drop", set->max_eval_drop,
                  "NAME=D: at most D below the live snapshot's score on the same dataset")
      ->allow_extra_args(false);
  cmd->add_option("--soak", set->soak, "FROM=DURATION: live on FROM that long first, e.g. beta=24h")
      ->allow_extra_args(false);
  cmd->add_option("--eval-dataset", set->eval_dataset,
                  "NAME=sha256:...|FILE: eval rules on NAME count only this dataset (repeatable)");
  cmd->add_option("--attester-role", set->attester_role,
                  "Eval results count only when attested by a key with this role");
  cmd->add_option("--min-n", set->min_n, "Eval results count only over at least N cases")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 53));
  cmd->add_option("--require-signed-moves", set->require_signed_moves,
                  "ROLE: every promote and rollback must be signed by a key with this role");
  cmd->add_flag("--require-pinned-models", set->require_pinned_models,
                "Every model component pinned to a revision or digest");
  cmd->add_flag("--require-agent-limits", set->require_agent_limits,
                "Every model component declares limits.max_steps and limits.max_cost_usd");
  cmd->add_flag("--no-overrides", set->no_overrides,
                "Refuse promote --override on this deployment");
  cmd->add_flag("--clear", set->clear, "Remove the deployment's policy");
  cmd->add_option("--reason", set->reason, "Why (recorded in the policy chain)")->required();
  cmd->add_option("--key", set->keys,
                  "A root private key PEM approving this (rooted stores; repeat)");
  cmd->add_flag("--json", set->json, "Print the policy event as JSON");
  cmd->callback([set, &ctx] { ctx.exit_code = RunPolicySet(*set, ctx); });

  auto show = std::make_shared<PolicyShowOptions>();
  cmd = group->add_subcommand("show", "A deployment's policy, or every policy");
  cmd->add_option("deployment", show->deployment, "Only this deployment");
  cmd->add_flag("--json", show->json, "Print as JSON");
  cmd->callback([show, &ctx] { ctx.exit_code = RunPolicyShow(*show, ctx); });

  auto log = std::make_shared<PolicyShowOptions>();
  cmd = group->add_subcommand("log", "Every policy change, oldest first");
  cmd->add_flag("--json", log->json, "Print full events as JSON");
  cmd->callback([log, &ctx] { ctx.exit_code = RunPolicyLog(*log, ctx); });
}

}  // namespace cairn::cli
