// cairn log DEPLOYMENT [--since T] [--until T] [--json] — the deployment's events, oldest first.
#include <cairn/clock.h>
#include <cairn/deployment.h>
#include <cairn/views.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct LogOptions {
  std::string deployment;
  std::string since;
  std::string until;
  bool json = false;
};

int RunLog(const LogOptions& o, const Context& ctx) {
  std::optional<int64_t> since, until;
  if (!o.since.empty()) {
    auto t = ParseTime(o.since);
    if (!t.ok()) return ReportError(t.status().WithContext("--since"));
    since = *t;
  }
  if (!o.until.empty()) {
    auto t = ParseTime(o.until);
    if (!t.ok()) return ReportError(t.status().WithContext("--until"));
    until = *t;
  }
  auto name = DeploymentName::Parse(o.deployment);
  if (!name.ok()) return ReportError(name.status().WithContext("DEPLOYMENT"));
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto events = ReadEvents(**store, *name, since, until);
  if (!events.ok()) return ReportError(events.status());
  if (o.json) {
    PrintJson(EventsJson(*events));
    return kExitOk;
  }
  for (const auto& e : *events) Print("{}\n", EventLine(e));
  return kExitOk;
}

}  // namespace

void RegisterLog(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<LogOptions>();
  auto* cmd = app.add_subcommand("log", "A deployment's moves: who, when, from what to what, why");
  cmd->add_option("deployment", o->deployment, "Deployment")->required();
  cmd->add_option("--since", o->since, "Only events at or after this time");
  cmd->add_option("--until", o->until, "Only events at or before this time");
  cmd->add_flag("--json", o->json, "Print as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunLog(*o, ctx); });
}

}  // namespace cairn::cli
