// cairn status [--json] — every deployment: live snapshot, since when, by whom, how.
#include <cairn/deployment.h>
#include <cairn/views.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct StatusOptions {
  bool json = false;
};

int RunStatus(const StatusOptions& o, const Context& ctx) {
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto list = ListDeployments(**store);
  if (!list.ok()) return ReportError(list.status());
  if (o.json) {
    PrintJson(StatusJson(*list));
    return kExitOk;
  }
  if (list->empty()) {
    Print("no deployments yet (create one with 'cairn promote REV --to NAME --reason TEXT')\n");
    return kExitOk;
  }
  for (const auto& d : *list) {
    Print("{:<20} {}  since {}  by {}  ({} #{}: \"{}\"){}\n", d.name, d.live.Short(),
          ShortTime(d.last.time_micros), d.last.actor, ActionName(d.last.action), d.last.seq,
          d.last.reason, EventMarkers(d.last));
  }
  return kExitOk;
}

}  // namespace

void RegisterStatus(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<StatusOptions>();
  auto* cmd = app.add_subcommand("status", "What is live on every deployment, since when, by whom");
  cmd->add_flag("--json", o->json, "Print as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunStatus(*o, ctx); });
}

}  // namespace cairn::cli
