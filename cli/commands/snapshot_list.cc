// cairn snapshot list [--app NAME] [--json] — newest first.
#include <cairn/snapshot.h>
#include <cairn/views.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct ListOptions {
  std::string app;
  bool json = false;
};

int RunList(const ListOptions& o, const Context& ctx) {
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto list = ListSnapshots(**store, o.app);
  if (!list.ok()) return ReportError(list.status());
  std::reverse(list->begin(), list->end());
  if (o.json) {
    PrintJson(SnapshotListJson(*list));
    return kExitOk;
  }
  for (const auto& s : *list) {
    Print("{}  {}  {:<16} {:<20} {:>5} components  {}\n", s.id.Short(), ShortTime(s.created_micros),
          s.app, s.author, s.components, s.message);
  }
  return kExitOk;
}

}  // namespace

void RegisterSnapshotList(CLI::App& group, Context& ctx) {
  auto o = std::make_shared<ListOptions>();
  auto* cmd = group.add_subcommand("list", "List snapshots, newest first");
  cmd->add_option("--app", o->app, "Only snapshots of this app");
  cmd->add_flag("--json", o->json, "Print as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunList(*o, ctx); });
}

}  // namespace cairn::cli
