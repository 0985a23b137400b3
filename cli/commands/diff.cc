// cairn diff REV REV [--stat] [--json]
#include <cairn/diff.h>
#include <cairn/revision.h>
#include <cairn/views.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct DiffCmdOptions {
  std::string from;
  std::string to;
  bool stat = false;
  bool json = false;
  int context = 3;
};

char Letter(ChangeType t) {
  switch (t) {
    case ChangeType::kAdded:
      return 'A';
    case ChangeType::kRemoved:
      return 'D';
    case ChangeType::kModified:
      return 'M';
  }
  return '?';
}

std::string Detail(const ComponentDiff& d) {
  if (d.documents) {
    return fmt::format("documents: {} added, {} removed, {} changed", d.documents->added,
                       d.documents->removed, d.documents->changed);
  }
  if (!d.schema.empty()) return d.breaking ? "BREAKING schema change" : "compatible schema change";
  if (d.lines_added + d.lines_removed > 0) {
    return fmt::format("+{} -{}", d.lines_added, d.lines_removed);
  }
  return "";
}

// Both snapshots read from git: the two commits, so `git log`/`git diff` can take over.
void PrintCommits(const Snapshot& from, const Snapshot& to) {
  auto commit = [](const Snapshot& s) -> std::string {
    if (!s.source.is_object() || s.source.value("type", "") != "git") return "";
    return s.source.value("commit", "");
  };
  std::string a = commit(from), b = commit(to);
  if (a.empty() || b.empty()) return;
  std::string repo_a = from.source.value("repo", ""), repo_b = to.source.value("repo", "");
  if (from.source.value("path", "") == to.source.value("path", "")) {  // one git directory
    Print("commits {}..{} in {}\n", a, b, repo_b);
  } else {
    Print("commits {} in {} .. {} in {}\n", a, repo_a, b, repo_b);
  }
}

void PrintHuman(const SnapshotDiff& diff, const Snapshot& from, const Snapshot& to, bool stat) {
  Print("diff {}..{}\n", diff.from.Short(), diff.to.Short());
  PrintCommits(from, to);
  if (diff.components.empty()) {
    Print("no component changed{}\n", diff.same_content ? " (identical content)" : "");
    return;
  }
  for (const auto& d : diff.components) {
    Print("{} {:<9} {}  {}\n", Letter(d.type), KindName(d.kind), d.path, Detail(d));
  }
  if (stat) return;
  for (const auto& d : diff.components) {
    bool variables = !d.variables_added.empty() || !d.variables_removed.empty();
    if (d.fields.empty() && d.schema.empty() && d.unified.empty() && !variables) continue;
    Print("\n=== {} ({})\n", d.path, KindName(d.kind));
    for (const auto& v : d.variables_added) Print("  + variable {}\n", v);
    for (const auto& v : d.variables_removed) Print("  - variable {}\n", v);
    for (const auto& f : d.fields) {
      if (f.added) {
        Print("  + {}: {}\n", f.pointer, f.after.dump());
      } else if (f.removed) {
        Print("  - {}: {}\n", f.pointer, f.before.dump());
      } else {
        Print("  ~ {}: {} -> {}\n", f.pointer, f.before.dump(), f.after.dump());
      }
    }
    for (const auto& c : d.schema) {
      Print("  {} {}\n", c.breaking ? "BREAKING  " : "compatible", c.description);
    }
    if (d.schema.empty() && d.fields.empty()) Print("{}", Block{d.unified});
  }
}

int RunDiff(const DiffCmdOptions& o, const Context& ctx) {
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  Snapshot snapshots[2];
  const std::string* revs[2] = {&o.from, &o.to};
  for (int i = 0; i < 2; ++i) {
    auto id = ResolveRevision(**store, *revs[i]);
    if (!id.ok()) return ReportError(id.status());
    auto s = LoadSnapshot(**store, *id);
    if (!s.ok()) return ReportError(s.status());
    snapshots[i] = std::move(*s);
  }
  DiffOptions options;
  options.details = true;  // --stat still shows breaking changes and document counts
  options.context_lines = o.context;
  auto diff = DiffSnapshots(**store, snapshots[0], snapshots[1], options);
  if (!diff.ok()) return ReportError(diff.status());
  if (o.json) {
    PrintJson(DiffJson(*diff, snapshots[0], snapshots[1]));
  } else {
    PrintHuman(*diff, snapshots[0], snapshots[1], o.stat);
  }
  return kExitOk;
}

}  // namespace

void RegisterDiff(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<DiffCmdOptions>();
  auto* cmd = app.add_subcommand("diff", "Show what changed between two snapshots");
  cmd->add_option("from", o->from, "Older snapshot")->required();
  cmd->add_option("to", o->to, "Newer snapshot")->required();
  cmd->add_flag("--stat", o->stat, "Only list the changed components");
  cmd->add_flag("--json", o->json, "Print as JSON (always with details)");
  cmd->add_option("-U,--context", o->context, "Lines of context in text diffs (default 3)")
      ->check(CLI::Range(0, 1000));
  cmd->callback([o, &ctx] { ctx.exit_code = RunDiff(*o, ctx); });
}

}  // namespace cairn::cli
