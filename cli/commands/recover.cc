// cairn recover --into DIR [--json] — copy what is still readable of a damaged store into a
// new store DIR/.cairn, and list what can be proven lost. The damaged store is only read.
#include <cairn/recover.h>
#include <fmt/format.h>

#include <filesystem>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct RecoverOptions {
  std::string into;
  bool json = false;
};

int RunRecover(const RecoverOptions& o, const Context& ctx) {
  auto from = ctx.StorePath();
  if (!from.ok()) return ReportError(from.status());
  std::error_code ec;
  std::string into =
      std::filesystem::absolute(o.into + "/" + kStoreDirName, ec).lexically_normal().string();
  if (ec) into = o.into + "/" + kStoreDirName;
  auto report = Recover(*from, into);
  if (!report.ok()) return ReportError(report.status());
  if (o.json) {
    Json lost = Json::array();
    for (const auto& l : report->lost) lost.push_back({{"what", l.what}, {"detail", l.detail}});
    PrintJson({{"from", report->from},
               {"into", report->into},
               {"records", report->records},
               {"acknowledged_write", report->acknowledged},
               {"intact_write", report->reached},
               {"complete", report->complete()},
               {"lost", lost}});
  } else {
    Print("recovered {} records from {} into {}\n", report->records, report->from, report->into);
    if (report->complete()) {
      Print("nothing was lost: the log is intact up to write {}, the last one acknowledged\n",
            report->reached);
    } else {
      Print("lost ({}):\n", report->lost.size());
      for (const auto& l : report->lost) Print("  {}: {}\n", l.what, l.detail);
    }
    Print("check the new store with 'cairn --store {} fsck' and 'audit verify'\n", report->into);
  }
  return report->complete() ? kExitOk : kExitIntegrity;
}

}  // namespace

void RegisterRecover(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<RecoverOptions>();
  auto* cmd = app.add_subcommand(
      "recover", "Copy what is readable of a damaged store into a new one (DIR/.cairn)");
  cmd->add_option("--into", o->into, "Directory to create the new store in (DIR/.cairn)")
      ->required();
  cmd->add_flag("--json", o->json, "Print the report as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunRecover(*o, ctx); });
}

}  // namespace cairn::cli
