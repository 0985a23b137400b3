// cairn rollback DEPLOYMENT [--to REV | --steps N] --reason TEXT [--force] [--expect REV]
//                [--key FILE]
#include <cairn/deployment.h>
#include <cairn/gates.h>
#include <cairn/remote.h>
#include <cairn/revision.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct RollbackCmdOptions {
  std::string deployment;
  std::string to;
  uint32_t steps = 1;
  std::string reason;
  std::string expect;
  bool force = false;
  std::string key;
  int hook_timeout_s = 30;
  int timeout_s = 30;
  bool json = false;
};

int RunRollback(const RollbackCmdOptions& o, const Context& ctx) {
  auto name = DeploymentName::Parse(o.deployment);
  if (!name.ok()) return ReportError(name.status().WithContext("DEPLOYMENT"));
  auto key = ctx.SigningKey(o.key);
  if (!key.ok()) return ReportError(key.status());
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  RollbackOptions options;
  options.move.actor = ctx.Actor();
  options.move.actor_given = !ctx.global.actor.empty();
  options.move.reason = o.reason;
  if (*key) options.move.key = &**key;
  options.steps = o.steps;
  options.force = o.force;
  if (!o.to.empty()) {
    auto to = ResolveRevision(**store, o.to);
    if (!to.ok()) return ReportError(to.status().WithContext("--to"));
    options.to = *to;
  }
  if (!o.expect.empty()) {
    auto expect = ResolveRevision(**store, o.expect);
    if (!expect.ok()) return ReportError(expect.status().WithContext("--expect"));
    options.move.expect = *expect;
  }
  // A deployment with an upstream rolls back through it (remote.h): when the remote cannot
  // be reached, nothing changes here — each host can still check out a known-good snapshot
  // from its own store (docs/rollback.md).
  auto publisher =
      NewUpstreamPublisher(**store, *name, TransferFor(o.timeout_s, !ctx.global.no_progress));
  if (!publisher.ok()) return ReportError(publisher.status());
  options.move.publisher = publisher->get();
  GateOptions gates;
  gates.hooks.timeout = std::chrono::milliseconds(o.hook_timeout_s * 1000);
  GateReport report;
  auto event = RollbackThroughGates(**store, *name, options, gates, &report);
  if (!o.json) PrintPolicyChecks(o.deployment, report);
  ReportHookOutcomes(report);
  if (!event.ok()) return ReportError(event.status());
  WarnOverrides(report);
  if (event->forced) {
    PrintErr(
        "cairn: WARNING: forced rollback of {} to {}: not a walk back to a snapshot live there "
        "before{}; judged as a promotion and recorded as forced\n",
        o.deployment, event->to.Short(),
        report.overridden.empty() ? "" : ", with failing checks overridden");
  }
  if (o.json) {
    PrintJson(event->ToJson());
  } else {
    Print("{}: rolled back {} -> {} (event #{}{}){}\n", o.deployment, event->from->Short(),
          event->to.Short(), event->seq,
          event->signed_by ? ", signed by " + SignerLabel(*event->signed_by) : "",
          event->forced ? " [forced]" : "");
  }
  return kExitOk;
}

}  // namespace

void RegisterRollback(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<RollbackCmdOptions>();
  auto* cmd = app.add_subcommand(
      "rollback", "Return a deployment to what was live before (walks back, never ping-pongs)");
  cmd->add_option("deployment", o->deployment, "Deployment to roll back")->required();
  auto* to = cmd->add_option("--to", o->to, "A snapshot that was live on this deployment before");
  cmd->add_option("--steps", o->steps, "How many promotions to walk back (default 1)")
      ->check(CLI::Range(1u, 1000000u))
      ->excludes(to);
  cmd->add_option("--reason", o->reason, "Why (recorded in the audit log)")->required();
  cmd->add_flag("--force", o->force,
                "Allow a target that is not a walk back (never live here, or rolled back from "
                "here) and override failing checks; judged as a promotion, recorded as forced, "
                "refused under --no-overrides");
  cmd->add_option("--expect", o->expect, "Only if this snapshot is live now; else exit 9");
  cmd->add_option("--key", o->key,
                  "Sign the event with this private key PEM (default: $CAIRN_KEY)");
  cmd->add_option("--hook-timeout", o->hook_timeout_s, "Seconds each hook may run (default 30)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--timeout", o->timeout_s,
                  "Seconds the deployment's upstream may take to accept the move (default 30)")
      ->check(CLI::Range(1, 3600));
  cmd->add_flag("--json", o->json, "Print the event as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunRollback(*o, ctx); });
}

}  // namespace cairn::cli
