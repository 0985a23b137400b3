// cairn fsck [--json] — re-hash every object and check every snapshot's references.
#include <cairn/fsck.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct FsckOptions {
  bool json = false;
};

int RunFsck(const FsckOptions& o, const Context& ctx) {
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  TerminalProgress progress(!ctx.global.no_progress && !o.json);
  auto report = Fsck(**store, &progress);
  progress.Finish();
  if (!report.ok()) return ReportError(report.status());
  if (o.json) {
    Json problems = Json::array();
    for (const auto& p : report->problems) {
      problems.push_back({{"what", p.what}, {"message", p.message}});
    }
    PrintJson({{"ok", report->ok()},
               {"objects", report->objects},
               {"snapshots", report->snapshots},
               {"bytes_checked", report->bytes_checked},
               {"unreferenced_objects", report->unreferenced_objects},
               {"problems", problems}});
  } else {
    for (const auto& p : report->problems) Print("{}: {}\n", p.what, p.message);
    Print("checked {} objects ({}) and {} snapshots: {}\n", report->objects,
          HumanBytes(report->bytes_checked), report->snapshots,
          report->ok() ? "no problems"
                       : fmt::format("{} problem{}", report->problems.size(),
                                     report->problems.size() == 1 ? "" : "s"));
    if (report->unreferenced_objects > 0) {
      Print("{} unreferenced objects (left by interrupted snapshots; harmless)\n",
            report->unreferenced_objects);
    }
  }
  return report->ok() ? kExitOk : kExitIntegrity;
}

}  // namespace

void RegisterFsck(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<FsckOptions>();
  auto* cmd = app.add_subcommand("fsck", "Verify every object and snapshot in the store");
  cmd->add_flag("--json", o->json, "Print the report as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunFsck(*o, ctx); });
}

}  // namespace cairn::cli
