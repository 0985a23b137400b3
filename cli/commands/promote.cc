// cairn promote REV --to DEPLOYMENT --reason TEXT [--expect REV] [--key FILE] [--json]
#include <cairn/deployment.h>
#include <cairn/gates.h>
#include <cairn/remote.h>
#include <cairn/revision.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct PromoteOptions {
  std::string rev;
  std::string deployment;
  std::string reason;
  std::string expect;
  std::string key;
  std::vector<std::string> overrides;
  int hook_timeout_s = 30;
  int timeout_s = 30;
  bool json = false;
};

int RunPromote(const PromoteOptions& o, const Context& ctx) {
  auto name = DeploymentName::Parse(o.deployment);
  if (!name.ok()) return ReportError(name.status().WithContext("--to"));
  auto key = ctx.SigningKey(o.key);
  if (!key.ok()) return ReportError(key.status());
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  auto id = ResolveRevision(**store, o.rev);
  if (!id.ok()) return ReportError(id.status());
  MoveOptions move;
  move.actor = ctx.Actor();
  move.actor_given = !ctx.global.actor.empty();
  move.reason = o.reason;
  if (*key) move.key = &**key;
  if (!o.expect.empty()) {
    auto expect = ResolveRevision(**store, o.expect);
    if (!expect.ok()) return ReportError(expect.status().WithContext("--expect"));
    move.expect = *expect;
  }
  // A deployment with an upstream moves through it (remote.h): nothing is written here
  // unless the remote accepted.
  auto publisher =
      NewUpstreamPublisher(**store, *name, TransferFor(o.timeout_s, !ctx.global.no_progress));
  if (!publisher.ok()) return ReportError(publisher.status());
  move.publisher = publisher->get();
  GateOptions gates;
  gates.hooks.timeout = std::chrono::milliseconds(o.hook_timeout_s * 1000);
  gates.overrides = o.overrides;
  GateReport report;
  auto event = PromoteThroughGates(**store, *name, *id, move, gates, &report);
  if (!o.json) PrintPolicyChecks(o.deployment, report);
  WarnOverrides(report);
  ReportHookOutcomes(report);
  if (!event.ok()) {
    if (o.json && report.blocked) {
      PrintJson({{"blocked", true},
                 {"deployment", o.deployment},
                 {"to", id->Hex()},
                 {"checks", PolicyChecksJson(report)},
                 {"error", event.status().message()}});
    }
    return ReportError(event.status());
  }
  if (o.json) {
    PrintJson(event->ToJson());
  } else {
    Print("{}: {} -> {} (event #{}{})\n", o.deployment,
          event->from ? event->from->Short() : "(nothing)", event->to.Short(), event->seq,
          event->signed_by ? ", signed by " + SignerLabel(*event->signed_by) : "");
  }
  return kExitOk;
}

}  // namespace

void RegisterPromote(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<PromoteOptions>();
  auto* cmd = app.add_subcommand(
      "promote", "Make a snapshot live on a deployment, through its gates (one atomic step)");
  cmd->add_option("rev", o->rev, "Snapshot: id, prefix, deployment, NAME@{N}, NAME@TIME")
      ->required();
  cmd->add_option("--to", o->deployment, "Deployment to move (created on first promotion)")
      ->required();
  cmd->add_option("--reason", o->reason, "Why (recorded in the audit log)")->required();
  cmd->add_option("--expect", o->expect,
                  "Only if this snapshot is live now (compare-and-swap); else exit 9");
  cmd->add_option("--key", o->key,
                  "Sign the event with this private key PEM (default: $CAIRN_KEY)");
  cmd->add_option("--override", o->overrides,
                  "Emergency: let this failing policy rule pass (repeatable; recorded loudly)");
  cmd->add_option("--hook-timeout", o->hook_timeout_s, "Seconds each hook may run (default 30)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--timeout", o->timeout_s,
                  "Seconds the deployment's upstream may take to accept the move (default 30)")
      ->check(CLI::Range(1, 3600));
  cmd->add_flag("--json", o->json, "Print the event as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunPromote(*o, ctx); });
}

}  // namespace cairn::cli
