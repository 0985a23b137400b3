// cairn clone URL DIR --root KEYID... [--timeout S] [--json]
#include <cairn/remote.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct CloneOptions {
  std::string url;
  std::string dir;
  std::vector<std::string> roots;
  int timeout_s = 30;
  bool json = false;
};

int RunClone(const CloneOptions& o, const Context& ctx) {
  std::vector<KeyId> roots;
  for (const auto& r : o.roots) {
    auto id = KeyId::Parse(r);
    if (!id.ok()) return ReportError(id.status().WithContext("--root"));
    roots.push_back(*id);
  }
  auto report = Clone(o.url, o.dir, roots, TransferFor(o.timeout_s, !ctx.global.no_progress));
  if (!report.ok()) return ReportError(report.status());
  PrintTransferReport(*report, "cloned", o.json);
  if (!o.json) Print("store: {}/.cairn (remote origin: {})\n", o.dir, o.url);
  return kExitOk;
}

}  // namespace

void RegisterClone(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CloneOptions>();
  auto* cmd = app.add_subcommand(
      "clone", "Create DIR/.cairn from a remote, pinned to the root keys you know");
  cmd->add_option("url", o->url, "The remote: git://HOST[:PORT]/PATH or file:///PATH")->required();
  cmd->add_option("dir", o->dir, "Directory for the new store (DIR/.cairn)")->required();
  cmd->add_option("--root", o->roots,
                  "A root key id (sha256:...) known out of band; repeat for each root key")
      ->required();
  cmd->add_option("--timeout", o->timeout_s, "Seconds the exchange may take (default 30)")
      ->check(CLI::Range(1, 3600));
  cmd->add_flag("--json", o->json, "Print what was imported as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunClone(*o, ctx); });
}

}  // namespace cairn::cli
