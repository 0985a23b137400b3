// The command table. Every `cairn` command is one file in cli/commands/ that parses its
// options, calls core and prints; it registers itself with one function listed here.
//
// To add a command:
//   1. write cli/commands/<name>.cc with `void Register<Name>(CLI::App&, Context&)`:
//      an options struct with every member initialised, a Run function that returns an
//      exit code (ReportError for failures), `--json` on every read command;
//   2. declare it below and add it to kCommands in main.cc (the order is the help order);
//   3. add unit tests for any new core behaviour and an end-to-end test in tests/e2e/;
//   4. document it in docs/cli.md (synopsis, options, output, exit codes).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "context.h"

namespace cairn::cli {

void RegisterInit(CLI::App& app, Context& ctx);
void RegisterSnapshot(CLI::App& app, Context& ctx);
void RegisterShow(CLI::App& app, Context& ctx);
void RegisterCat(CLI::App& app, Context& ctx);
void RegisterDiff(CLI::App& app, Context& ctx);
void RegisterValidate(CLI::App& app, Context& ctx);
void RegisterFsck(CLI::App& app, Context& ctx);
void RegisterGc(CLI::App& app, Context& ctx);
void RegisterPromote(CLI::App& app, Context& ctx);
void RegisterRollback(CLI::App& app, Context& ctx);
void RegisterStatus(CLI::App& app, Context& ctx);
void RegisterLog(CLI::App& app, Context& ctx);
void RegisterLive(CLI::App& app, Context& ctx);
void RegisterAudit(CLI::App& app, Context& ctx);
void RegisterKey(CLI::App& app, Context& ctx);
void RegisterTrust(CLI::App& app, Context& ctx);
void RegisterSign(CLI::App& app, Context& ctx);
void RegisterVerify(CLI::App& app, Context& ctx);
void RegisterAttest(CLI::App& app, Context& ctx);
void RegisterCompare(CLI::App& app, Context& ctx);
void RegisterPolicy(CLI::App& app, Context& ctx);
void RegisterCheckout(CLI::App& app, Context& ctx);
void RegisterRecover(CLI::App& app, Context& ctx);
void RegisterRemote(CLI::App& app, Context& ctx);
void RegisterPush(CLI::App& app, Context& ctx);
void RegisterPull(CLI::App& app, Context& ctx);
void RegisterClone(CLI::App& app, Context& ctx);
void RegisterServe(CLI::App& app, Context& ctx);
void RegisterReceipts(CLI::App& app, Context& ctx);

// Replaces this process with `name` from cairn's own directory (cairn-serve), passing `args`
// and `shown_as` as argv[0] (the command its help and usage name, "cairn serve"); returns an
// exit code only when that fails.
int ExecHelper(const char* name, const std::string& shown_as, const std::vector<std::string>& args);

}  // namespace cairn::cli
