// cairn's entry point: global options, the command table, and exit codes.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "commands/commands.h"
#include "context.h"
#include "output.h"

namespace {
using Registrar = void (*)(CLI::App&, cairn::cli::Context&);
constexpr Registrar kCommands[] = {
    cairn::cli::RegisterInit,     cairn::cli::RegisterSnapshot, cairn::cli::RegisterShow,
    cairn::cli::RegisterCat,      cairn::cli::RegisterDiff,     cairn::cli::RegisterPromote,
    cairn::cli::RegisterRollback, cairn::cli::RegisterStatus,   cairn::cli::RegisterLog,
    cairn::cli::RegisterLive,     cairn::cli::RegisterAudit,    cairn::cli::RegisterValidate,
    cairn::cli::RegisterCheckout, cairn::cli::RegisterFsck,     cairn::cli::RegisterKey,
    cairn::cli::RegisterTrust,    cairn::cli::RegisterSign,     cairn::cli::RegisterVerify,
    cairn::cli::RegisterAttest,   cairn::cli::RegisterPolicy,
};
}  // namespace

int main(int argc, char** argv) {
  cairn::cli::Context ctx;
  CLI::App app{
      "cairn: an immutable, content-addressed snapshot store for AI features.\n"
      "Snapshots bundle prompts, model references, tool schemas, knowledge-base manifests and "
      "config.\nSee docs/cli.md for every command and its exit codes.",
      "cairn"};
  app.set_version_flag("--version", std::string("cairn ") + CAIRN_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--store", ctx.global.store,
                 "Store directory (default: $CAIRN_STORE, else the nearest .cairn above the "
                 "working directory)");
  app.add_option("--actor", ctx.global.actor,
                 "Who is acting (default: $CAIRN_ACTOR, else user@host)");
  app.add_option("--lock-timeout", ctx.global.lock_timeout_ms,
                 "Milliseconds a writer waits for another writer (default 10000)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--no-progress", ctx.global.no_progress, "Never draw progress, even on a terminal");
  for (Registrar r : kCommands) r(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : cairn::cli::kExitUsage;
  } catch (const std::exception& e) {
    // Core reports errors as values; reaching this is a bug, reported rather than a crash.
    fmt::print(stderr, "cairn: internal error: {}\n", e.what());
    return cairn::cli::kExitFailure;
  }
  return ctx.exit_code;
}
