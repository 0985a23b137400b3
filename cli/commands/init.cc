// cairn init [DIR] — create a store: DIR/.cairn (default: the working directory), or
// exactly the --store directory when given.
#include <fmt/format.h>

#include <filesystem>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct InitOptions {
  std::string dir = ".";
  bool json = false;
};

int RunInit(const InitOptions& o, const Context& ctx) {
  std::string path = ctx.global.store.empty() ? o.dir + "/" + kStoreDirName : ctx.global.store;
  std::error_code ec;
  std::string absolute = std::filesystem::absolute(path, ec).lexically_normal().string();
  if (ec) absolute = path;
  if (!absolute.empty() && absolute.back() == '/') absolute.pop_back();
  auto store = Store::Init(absolute);
  if (!store.ok()) return ReportError(store.status());
  if (o.json) {
    PrintJson({{"store", absolute}, {"format", kStoreFormatVersion}});
  } else {
    Print("Initialized empty cairn store in {}\n", absolute);
  }
  return kExitOk;
}

}  // namespace

void RegisterInit(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand("init", "Create an empty store (DIR/.cairn, or --store DIR)");
  cmd->add_option("dir", opts->dir, "Directory to create .cairn in (default: .)");
  cmd->add_flag("--json", opts->json, "Print the result as JSON");
  cmd->callback([opts, &ctx] { ctx.exit_code = RunInit(*opts, ctx); });
}

}  // namespace cairn::cli
