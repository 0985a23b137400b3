// cairn pull [REMOTE] [DEPLOYMENT...] [--timeout S] [--json]
#include <cairn/remote.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct PullCommandOptions {
  std::string remote = "origin";
  std::vector<std::string> deployments;
  int timeout_s = 30;
  bool json = false;
};

int RunPull(const PullCommandOptions& o, const Context& ctx) {
  PullOptions pull;
  for (const auto& d : o.deployments) {
    auto name = DeploymentName::Parse(d);
    if (!name.ok()) return ReportError(name.status().WithContext("DEPLOYMENT"));
    pull.deployments.push_back(*name);
  }
  pull.transfer = TransferFor(o.timeout_s, !ctx.global.no_progress);
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  auto report = Pull(**store, o.remote, pull);
  if (!report.ok()) return ReportError(report.status());
  PrintTransferReport(*report, "pulled from", o.json);
  return kExitOk;
}

}  // namespace

void RegisterPull(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<PullCommandOptions>();
  auto* cmd = app.add_subcommand(
      "pull", "Fetch, verify and import what a remote holds (all of it, or nothing)");
  cmd->add_option("remote", o->remote, "The remote (default: origin)");
  cmd->add_option("deployments", o->deployments, "Deployments to take (default: all)");
  cmd->add_option("--timeout", o->timeout_s, "Seconds the exchange may take (default 30)")
      ->check(CLI::Range(1, 3600));
  cmd->add_flag("--json", o->json, "Print what was imported as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunPull(*o, ctx); });
}

}  // namespace cairn::cli
