// cairn's entry point: global options, the command table, and exit codes.
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "commands/commands.h"
#include "context.h"
#include "output.h"

namespace {
using Registrar = void (*)(CLI::App&, cairn::cli::Context&);
struct Command {
  const char* name;  // the top-level subcommand its registrar adds
  Registrar registrar;
};
constexpr Command kCommands[] = {
    {"init", cairn::cli::RegisterInit},
    {"snapshot", cairn::cli::RegisterSnapshot},
    {"show", cairn::cli::RegisterShow},
    {"cat", cairn::cli::RegisterCat},
    {"diff", cairn::cli::RegisterDiff},
    {"promote", cairn::cli::RegisterPromote},
    {"rollback", cairn::cli::RegisterRollback},
    {"status", cairn::cli::RegisterStatus},
    {"log", cairn::cli::RegisterLog},
    {"live", cairn::cli::RegisterLive},
    {"audit", cairn::cli::RegisterAudit},
    {"validate", cairn::cli::RegisterValidate},
    {"checkout", cairn::cli::RegisterCheckout},
    {"fsck", cairn::cli::RegisterFsck},
    {"gc", cairn::cli::RegisterGc},
    {"recover", cairn::cli::RegisterRecover},
    {"key", cairn::cli::RegisterKey},
    {"trust", cairn::cli::RegisterTrust},
    {"sign", cairn::cli::RegisterSign},
    {"verify", cairn::cli::RegisterVerify},
    {"attest", cairn::cli::RegisterAttest},
    {"compare", cairn::cli::RegisterCompare},
    {"policy", cairn::cli::RegisterPolicy},
    {"remote", cairn::cli::RegisterRemote},
    {"push", cairn::cli::RegisterPush},
    {"pull", cairn::cli::RegisterPull},
    {"clone", cairn::cli::RegisterClone},
    {"serve", cairn::cli::RegisterServe},
    {"receipts", cairn::cli::RegisterReceipts},
};

// The first word of the command line that is neither a global option nor its value ("" when
// there is none).
std::string_view CommandWord(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--store" || arg == "--actor" || arg == "--lock-timeout") {
      ++i;  // its value
      continue;
    }
    if (arg.starts_with("-")) continue;
    return arg;
  }
  return {};
}

// The command that word names; nullptr when there is none or it is unknown (then every
// command is registered, so that help and errors list them all).
const Command* NamedCommand(std::string_view word) {
  for (const Command& c : kCommands) {
    if (word == c.name) return &c;
  }
  return nullptr;
}

// Levenshtein distance, for "did you mean".
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// git's answer to a word that is not a command, with the nearest ones.
int UnknownCommand(std::string_view word) {
  std::vector<std::string_view> near;
  for (const Command& c : kCommands) {
    if (EditDistance(word, c.name) <= 2) near.push_back(c.name);
  }
  cairn::cli::PrintErr("cairn: usage: '{}' is not a cairn command (see 'cairn --help')\n",
                       std::string(word));
  for (std::string_view n : near) {
    cairn::cli::PrintErr("  did you mean '{}'?\n", std::string(n));
  }
  return cairn::cli::kExitUsage;
}
int RunCommand(int argc, char** argv) {
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
  // Registering every command's options costs a quarter of a short command's instructions:
  // only the one named is registered (cli_test checks the names against the registrars).
  std::string_view word = CommandWord(argc, argv);
  if (const Command* named = NamedCommand(word)) {
    named->registrar(app, ctx);
  } else if (!word.empty()) {
    return UnknownCommand(word);
  } else {
    for (const Command& c : kCommands) c.registrar(app, ctx);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : cairn::cli::kExitUsage;
  } catch (const std::exception& e) {
    // Core reports errors as values; reaching this is a bug, reported rather than a crash.
    cairn::cli::PrintErr("cairn: internal error: {}\n", e.what());
    return cairn::cli::kExitFailure;
  }
  return ctx.exit_code;
}

// True when standard output is a pipe or socket whose reader has gone (poll says POLLERR):
// the EPIPE of a reader that stopped early, as `cairn log | head` does.
bool ReaderGone() {
  struct pollfd p {};
  p.fd = STDOUT_FILENO;
  p.events = POLLOUT;
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0;
}

// Ends the process once the command is done and its Context (the store with it) is closed.
// Standard output is flushed and checked first: output lost to a full disk or a closed
// descriptor fails the command, as in git; a reader that went away is not the command's
// error. (A write that failed earlier — CLI11 flushes std::cout itself — leaves only the
// stream's error flag, without its reason.) Then _exit: the static destructors of the
// libraries (RocksDB's option tables: thousands of small frees) hold nothing to save.
// Sanitized builds exit normally, so that LeakSanitizer's exit-time check runs.
[[noreturn]] void Finish(int code) {
  int flushed = std::fflush(stdout);
  int error = flushed != 0 ? errno : 0;
  if ((flushed != 0 || std::ferror(stdout) != 0) && code == cairn::cli::kExitOk && !ReaderGone()) {
    cairn::cli::PrintErr("cairn: error: could not write standard output{}\n",
                         error != 0 ? ": " + std::string(std::strerror(error)) : std::string());
    code = cairn::cli::kExitFailure;
  }
  std::fflush(stderr);
#ifdef CAIRN_SANITIZED
  std::exit(code);
#else
  _exit(code);
#endif
}
}  // namespace

int main(int argc, char** argv) { Finish(RunCommand(argc, argv)); }
