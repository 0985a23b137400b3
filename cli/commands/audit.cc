// cairn audit verify [DEPLOYMENT] [--json] — recompute every event chain.
#include <cairn/deployment.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct AuditOptions {
  std::string deployment;
  bool json = false;
};

int RunAuditVerify(const AuditOptions& o, const Context& ctx) {
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto report = AuditVerify(**store, o.deployment);
  if (!report.ok()) return ReportError(report.status());
  if (o.json) {
    Json problems = Json::array();
    for (const auto& p : report->problems) {
      problems.push_back({{"deployment", p.deployment}, {"seq", p.seq}, {"message", p.message}});
    }
    PrintJson({{"ok", report->ok()}, {"deployments", report->deployments},
               {"events", report->events}, {"problems", problems}});
  } else {
    for (const auto& p : report->problems) {
      if (p.seq == 0) {
        fmt::print("{}: {}\n", p.deployment, p.message);
      } else {
        fmt::print("{}: event #{}: {}\n", p.deployment, p.seq, p.message);
      }
    }
    fmt::print("verified {} deployment{} and {} events: {}\n", report->deployments,
               report->deployments == 1 ? "" : "s", report->events,
               report->ok() ? "every chain is intact" : "BROKEN");
  }
  return report->ok() ? kExitOk : kExitIntegrity;
}

}  // namespace

void RegisterAudit(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("audit", "Check the tamper-evident record of deployment moves");
  group->require_subcommand(1);
  auto o = std::make_shared<AuditOptions>();
  auto* cmd = group->add_subcommand("verify", "Recompute every hash chain; exit 5 if broken");
  cmd->add_option("deployment", o->deployment, "Only this deployment");
  cmd->add_flag("--json", o->json, "Print as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunAuditVerify(*o, ctx); });
}

}  // namespace cairn::cli
