// cairn validate (DIR | --git REPO --rev REV [--subdir PATH]) [--json] — check a release
// without a store (for CI).
#include <cairn/ingest.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"
#include "release_source.h"

namespace cairn::cli {
namespace {

struct ValidateOptions {
  ReleaseSourceFlags source;
  bool json = false;
};

int RunValidate(const ValidateOptions& o) {
  CreateSnapshotOptions options;
  if (Status s = o.source.Apply(&options); !s.ok()) return ReportError(s);
  std::vector<Problem> problems;
  Status s = ValidateRelease(options, &problems);
  if (!s.ok()) return ReportError(s);
  std::string shown = options.git ? fmt::format("{}@{}", o.source.git, o.source.rev) : o.source.dir;
  if (!o.source.subdir.empty()) shown += ":" + o.source.subdir;
  if (o.json) {
    Json j = {{"valid", problems.empty()}, {"problems", ProblemsJson(problems)}};
    if (options.git) {
      j["git"] = o.source.git;
      j["rev"] = o.source.rev;
      j["subdir"] = o.source.subdir;
    } else {
      j["dir"] = o.source.dir;
    }
    PrintJson(j);
    return problems.empty() ? kExitOk : kExitInvalidInput;
  }
  if (problems.empty()) {
    Print("{}: valid release\n", shown);
    return kExitOk;
  }
  return ReportProblems(
      Status::InvalidInput(fmt::format("{} is not a valid release: {} problem{}", shown,
                                       problems.size(), problems.size() == 1 ? "" : "s")),
      problems);
}

}  // namespace

void RegisterValidate(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ValidateOptions>();
  auto* cmd = app.add_subcommand("validate",
                                 "Check a release (a directory or a git commit; no store needed)");
  o->source.Register(cmd);
  cmd->add_flag("--json", o->json, "Print the problems as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunValidate(*o); });
}

}  // namespace cairn::cli
