// cairn serve [--listen HOST:PORT] [--token-file F] [--tls-cert C --tls-key K] ... — runs
// cairn-serve (docs/serve.md) from the directory of this binary, the way git runs its dashed
// commands: the HTTP server and its libraries stay out of every other command's start-up.
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

// "<directory of this executable>/<name>".
Result<std::string> SiblingBinary(const char* name) {
  std::string self(4096, '\0');
  ssize_t n = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
  if (n <= 0) return Status::IO(std::string("cannot find this executable: ") + strerror(errno));
  self.resize(static_cast<size_t>(n));
  return self.substr(0, self.rfind('/') + 1) + name;
}

}  // namespace

int ExecHelper(const char* name, const std::string& shown_as,
               const std::vector<std::string>& args) {
  auto path = SiblingBinary(name);
  if (!path.ok()) return ReportError(path.status());
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(shown_as.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(stdout);
  ::execv(path->c_str(), argv.data());
  return ReportError(Status::NotFound(
      fmt::format("cannot run {}: {} (it is installed next to cairn)", *path, strerror(errno))));
}

void RegisterServe(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "serve", "Serve the store over HTTP: JSON API, long-poll for moves, receipts (cairn-serve)");
  // Every argument after `serve`, --help included, goes to cairn-serve as it is.
  cmd->prefix_command();
  cmd->allow_extras();
  cmd->fallthrough(false);
  cmd->set_help_flag();
  cmd->callback([cmd, &ctx] {
    std::vector<std::string> rest = cmd->remaining();
    bool help = std::find(rest.begin(), rest.end(), "--help") != rest.end() ||
                std::find(rest.begin(), rest.end(), "-h") != rest.end();
    auto store = ctx.StorePath();
    if (!store.ok() && !help) {  // help needs no store
      ctx.exit_code = ReportError(store.status());
      return;
    }
    std::vector<std::string> args;
    if (store.ok()) args = {"--store", *store};
    args.insert(args.end(), rest.begin(), rest.end());
    ctx.exit_code = ExecHelper("cairn-serve", "cairn serve", args);
  });
}

}  // namespace cairn::cli
