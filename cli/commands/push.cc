// cairn push [REMOTE] [DEPLOYMENT...] [--snapshot REV...] [--timeout S] [--json]
#include <cairn/remote.h>
#include <cairn/revision.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct PushCommandOptions {
  std::string remote = "origin";
  std::vector<std::string> deployments;
  std::vector<std::string> snapshots;
  int timeout_s = 30;
  bool json = false;
};

int RunPush(const PushCommandOptions& o, const Context& ctx) {
  PushOptions push;
  for (const auto& d : o.deployments) {
    auto name = DeploymentName::Parse(d);
    if (!name.ok()) return ReportError(name.status().WithContext("DEPLOYMENT"));
    push.deployments.push_back(*name);
  }
  push.transfer = TransferFor(o.timeout_s, !ctx.global.no_progress);
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  for (const auto& rev : o.snapshots) {
    auto id = ResolveRevision(**store, rev);
    if (!id.ok()) return ReportError(id.status().WithContext("--snapshot"));
    push.snapshots.push_back(*id);
  }
  auto report = Push(**store, o.remote, push);
  if (!report.ok()) return ReportError(report.status());
  PrintTransferReport(*report, "pushed to", o.json);
  return kExitOk;
}

}  // namespace

void RegisterPush(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<PushCommandOptions>();
  auto* cmd = app.add_subcommand(
      "push", "Send deployments, their snapshots and evidence, trust and policy to a remote");
  cmd->add_option("remote", o->remote, "The remote (default: origin)");
  cmd->add_option("deployments", o->deployments,
                  "Deployments to send; each then moves through this remote (default: those that "
                  "already do)");
  cmd->add_option("--snapshot", o->snapshots,
                  "Send this snapshot and its evidence, without a deployment (repeatable)");
  cmd->add_option("--timeout", o->timeout_s, "Seconds the exchange may take (default 30)")
      ->check(CLI::Range(1, 3600));
  cmd->add_flag("--json", o->json, "Print what was sent as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunPush(*o, ctx); });
}

}  // namespace cairn::cli
