// cairn snapshot create (DIR | --git REPO --rev REV [--subdir PATH]) -m MSG [--app NAME]
//                       [--sign KEYFILE] [--json|-q]
#include <cairn/ingest.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"
#include "release_source.h"

namespace cairn::cli {
namespace {

struct CreateOptions {
  ReleaseSourceFlags source;
  std::string message;
  std::string app;
  bool json = false;
  bool quiet = false;
  bool no_stat_cache = false;
  unsigned threads = 0;
  int compression_level = 3;
  std::string sign;
};

int RunCreate(const CreateOptions& o, const Context& ctx) {
  CreateSnapshotOptions options;
  if (Status s = o.source.Apply(&options); !s.ok()) return ReportError(s);
  std::optional<PrivateKey> key;
  if (!o.sign.empty()) {
    auto loaded = PrivateKey::Load(o.sign);
    if (!loaded.ok()) return ReportError(loaded.status().WithContext("--sign"));
    key = std::move(*loaded);
  }
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  TerminalProgress progress(!ctx.global.no_progress && !o.quiet && !o.json);
  options.message = o.message;
  options.app = o.app;
  options.author = ctx.Actor();
  options.compression_level = o.compression_level;
  options.threads = o.threads;
  options.use_stat_cache = !o.no_stat_cache;
  options.progress = &progress;
  if (key) options.sign_with = &*key;
  std::vector<Problem> problems;
  auto result = CreateSnapshot(**store, options, &problems);
  progress.Finish();
  if (!result.ok()) {
    if (o.json && !problems.empty()) {
      PrintJson({{"error", result.status().message()}, {"problems", ProblemsJson(problems)}});
      return ExitCodeFor(result.status().code());
    }
    return ReportProblems(result.status(), problems);
  }
  const Snapshot& s = result->snapshot;
  Json same = Json::array();
  for (const auto& id : result->same_content) same.push_back(id.Hex());
  if (o.json) {
    PrintJson(
        {{"id", s.id.Hex()},
         {"app", s.app},
         {"parent", s.parent ? Json(s.parent->Hex()) : Json()},
         {"components", s.components.size()},
         {"size", s.TotalSize()},
         {"content", s.content.ToString()},
         {"files", result->files},
         {"files_hashed", result->files_hashed},
         {"objects_written", result->objects_written},
         {"bytes_written", result->bytes_written},
         {"same_content_as", same},
         {"source", s.source},
         {"signed_by", result->signature ? Json(result->signature->key_id.ToString()) : Json()}});
    return kExitOk;
  }
  if (o.quiet) {
    Print("{}\n", s.id.Hex());
    return kExitOk;
  }
  Print("Created snapshot {} ({})\n", s.id.Hex(), s.app);
  if (std::string git = GitSourceLine(s.source); !git.empty()) Print("  from {}\n", git);
  Print("  {} components, {}; {} of {} files hashed, {} new objects ({} stored)\n",
        s.components.size(), HumanBytes(s.TotalSize()), result->files_hashed, result->files,
        result->objects_written, HumanBytes(result->bytes_written));
  if (!result->same_content.empty()) {
    Print("  same content as {}\n", result->same_content.front().Short());
  }
  if (result->signature) Print("  signed with key {}\n", result->signature->key_id.ToString());
  return kExitOk;
}

}  // namespace

void RegisterSnapshotCreate(CLI::App& group, Context& ctx) {
  auto o = std::make_shared<CreateOptions>();
  auto* cmd = group.add_subcommand(
      "create", "Validate a release (a directory or a git commit) and store it as a snapshot");
  o->source.Register(cmd);
  cmd->add_option("-m,--message", o->message, "What changed and why")->required();
  cmd->add_option("--app", o->app, "App name (overrides snapshot.json)");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->add_flag("-q,--quiet", o->quiet, "Print only the new snapshot id");
  cmd->add_flag("--no-stat-cache", o->no_stat_cache, "Re-hash every file");
  cmd->add_option("--threads", o->threads, "Worker threads (default: one per core)");
  cmd->add_option("--compression-level", o->compression_level, "zstd level for new objects")
      ->check(CLI::Range(1, 19));
  cmd->add_option("--sign", o->sign, "Sign the new snapshot with this private key PEM file");
  cmd->callback([o, &ctx] { ctx.exit_code = RunCreate(*o, ctx); });
}

}  // namespace cairn::cli
