// cairn live DEPLOYMENT --at TIME [--json] — what was live at that instant, and why.
#include <cairn/clock.h>
#include <cairn/deployment.h>
#include <cairn/views.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct LiveOptions {
  std::string deployment;
  std::string at;
  bool json = false;
};

int RunLive(const LiveOptions& o, const Context& ctx) {
  auto when = ParseTime(o.at);
  if (!when.ok()) return ReportError(when.status().WithContext("--at"));
  auto name = DeploymentName::Parse(o.deployment);
  if (!name.ok()) return ReportError(name.status().WithContext("DEPLOYMENT"));
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto event = LiveAt(**store, *name, *when);
  if (!event.ok()) return ReportError(event.status());
  if (o.json) {
    PrintJson(LiveJson(o.deployment, *when, *event));
    return kExitOk;
  }
  Print("{} at {}: {}\n", o.deployment, FormatTime(*when), event->to.Hex());
  Print("made live by {}\n", EventLine(*event));
  return kExitOk;
}

}  // namespace

void RegisterLive(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<LiveOptions>();
  auto* cmd = app.add_subcommand("live", "What was live on a deployment at a given time");
  cmd->add_option("deployment", o->deployment, "Deployment")->required();
  cmd->add_option("--at", o->at, "RFC 3339 time or 'YYYY-MM-DD HH:MM[:SS]' (UTC)")->required();
  cmd->add_flag("--json", o->json, "Print as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunLive(*o, ctx); });
}

}  // namespace cairn::cli
