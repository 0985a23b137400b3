// cairn validate DIR [--json] — check a release directory without a store (for CI).
#include <cairn/ingest.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct ValidateOptions {
  std::string dir;
  bool json = false;
};

int RunValidate(const ValidateOptions& o) {
  std::vector<Problem> problems;
  Status s = ValidateRelease(o.dir, &problems);
  if (!s.ok()) return ReportError(s);
  if (o.json) {
    PrintJson({{"dir", o.dir}, {"valid", problems.empty()}, {"problems", ProblemsJson(problems)}});
    return problems.empty() ? kExitOk : kExitInvalidInput;
  }
  if (problems.empty()) {
    Print("{}: valid release\n", o.dir);
    return kExitOk;
  }
  return ReportProblems(
      Status::InvalidInput(fmt::format("{} is not a valid release: {} problem{}", o.dir,
                                       problems.size(), problems.size() == 1 ? "" : "s")),
      problems);
}

}  // namespace

void RegisterValidate(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ValidateOptions>();
  auto* cmd = app.add_subcommand("validate", "Check a release directory (no store needed)");
  cmd->add_option("dir", o->dir, "Release directory")->required();
  cmd->add_flag("--json", o->json, "Print the problems as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunValidate(*o); });
}

}  // namespace cairn::cli
