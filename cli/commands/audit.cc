// cairn audit verify [DEPLOYMENT] [--json] — recompute every event chain.
#include <cairn/deployment.h>
#include <cairn/views.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct AuditOptions {
  std::string deployment;
  std::vector<std::string> root;  // pinned root key ids
  bool json = false;
};

// "rooted: 2 of 3 keys (trust event #1), pinned" / "unrooted: ...".
std::string RootLine(const AuditReport& r, bool pinned_asked) {
  if (!r.root) {
    return "unrooted: trust and policy changes need no signature here (cairn trust init makes a "
           "root)";
  }
  return fmt::format("rooted: {} of {} root keys approve every change (trust event #{}{}){}",
                     r.root->spec.threshold, r.root->spec.keys.size(), r.root->seq,
                     r.root_events > 1 ? fmt::format(", {} roots", r.root_events) : "",
                     pinned_asked ? (r.root_pinned ? ", matches the pinned root" : "") : "");
}

int RunAuditVerify(const AuditOptions& o, const Context& ctx) {
  std::optional<DeploymentName> only;
  if (!o.deployment.empty()) {
    auto name = DeploymentName::Parse(o.deployment);
    if (!name.ok()) return ReportError(name.status().WithContext("DEPLOYMENT"));
    only = *name;
  }
  std::vector<KeyId> pinned;
  for (const auto& text : o.root) {
    auto id = KeyId::Parse(text);
    if (!id.ok()) return ReportError(id.status().WithContext("--root"));
    pinned.push_back(*id);
  }
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto report = AuditVerify(**store, only, pinned);
  if (!report.ok()) return ReportError(report.status());
  if (o.json) {
    PrintJson(AuditJson(*report));
  } else {
    for (const auto& p : report->problems) {
      std::string chain = p.chain == AuditChain::kDeployment ? p.deployment
                          : p.chain == AuditChain::kPolicy && !p.deployment.empty()
                              ? "policy of " + p.deployment
                              : AuditChainName(p.chain);
      if (p.seq == 0 || p.chain == AuditChain::kAttestations) {
        Print("{}: {}\n", chain, p.message);
      } else {
        Print("{}: event #{}: {}\n", chain, p.seq, p.message);
      }
    }
    size_t valid = 0;
    for (const auto& s : report->signatures) {
      valid += s.status == SignatureStatus::kValid;
      if (s.status == SignatureStatus::kValid && !s.detail.empty()) {
        std::string names;
        for (const auto& n : s.names) names += (names.empty() ? "" : ", ") + n;
        Print("{}: event #{}: signed by {} ({}): valid, {}\n", s.deployment, s.seq,
              names.empty() ? s.key_id.Short() : names, s.key_id.Short(), s.detail);
      }
    }
    auto n = [](uint64_t count, const char* what) {
      return fmt::format("{} {}{}", count, what, count == 1 ? "" : "s");
    };
    if (report->events_without_hook_record > 0) {
      Print(
          "{} predate{} hook records: which gate hooks ran for {} and which checks were "
          "overridden one by one was not recorded then (not a problem)\n",
          n(report->events_without_hook_record, "event"),
          report->events_without_hook_record == 1 ? "s" : "",
          report->events_without_hook_record == 1 ? "it" : "them");
    }
    if (report->verdicts_recomputed > 0) {
      Print("recomputed {} from the stored case files\n",
            n(report->verdicts_recomputed, "eval verdict"));
    }
    Print("{}\n", RootLine(*report, !pinned.empty()));
    Print("verified {}, {} ({} signed, {} valid), {} and {}: {}\n",
          n(report->deployments, "deployment"), n(report->events, "event"),
          report->signatures.size(), valid, n(report->trust_events, "trust event"),
          n(report->policy_events, "policy event"),
          report->ok() ? "every chain is intact" : "BROKEN");
  }
  return report->ok() ? kExitOk : kExitIntegrity;
}

}  // namespace

void RegisterAudit(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand(
      "audit", "Check the tamper-evident records: deployment moves, trust and policy changes");
  group->require_subcommand(1);
  auto o = std::make_shared<AuditOptions>();
  auto* cmd = group->add_subcommand("verify",
                                    "Recompute every hash chain (deployments, trust, policy) and "
                                    "event signature; exit 5 if broken");
  cmd->add_option("deployment", o->deployment, "Only this deployment");
  cmd->add_option("--root", o->root,
                  "KEYID of the root, known out of band (repeat for each root key): a store whose "
                  "trust chain grew from any other root fails");
  cmd->add_flag("--json", o->json, "Print as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunAuditVerify(*o, ctx); });
}

}  // namespace cairn::cli
