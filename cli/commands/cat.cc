// cairn cat REV:PATH — a component's bytes, exactly as ingested.
#include <cairn/object.h>
#include <cairn/revision.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct CatOptions {
  std::string spec;
};

Status WriteAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(1, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IO(fmt::format("write to standard output: {}", std::strerror(errno)));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

int RunCat(const CatOptions& o, const Context& ctx) {
  auto spec = SplitRevisionPath(o.spec);
  if (!spec.ok()) return ReportError(spec.status());
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto id = ResolveRevision(**store, spec->rev);
  if (!id.ok()) return ReportError(id.status());
  auto snapshot = LoadSnapshot(**store, *id);
  if (!snapshot.ok()) return ReportError(snapshot.status());
  const Component* c = snapshot->Find(spec->path);
  if (c == nullptr) {
    return ReportError(
        Status::NotFound(fmt::format("snapshot {} has no component {}", id->Short(), spec->path)));
  }
  Status s = StreamObject(**store, c->digest, WriteAll);
  if (!s.ok()) return ReportError(s.WithContext(spec->path));
  return kExitOk;
}

}  // namespace

void RegisterCat(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CatOptions>();
  auto* cmd = app.add_subcommand("cat", "Print a component's bytes exactly as ingested");
  cmd->add_option("spec", o->spec, "REV:PATH, e.g. 1a2b3c4d:prompts/system.md")->required();
  cmd->callback([o, &ctx] { ctx.exit_code = RunCat(*o, ctx); });
}

}  // namespace cairn::cli
