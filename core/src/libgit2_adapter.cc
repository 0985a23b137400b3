// The libgit2 boundary. Text diffs use libgit2's xdiff (git_diff_buffers); the git remote
// and `snapshot create --git` join here later.
#include <fmt/format.h>
#include <git2.h>

#include <mutex>

#include "cairn/diff.h"

namespace cairn {
namespace {
void EnsureLibgit2() {
  static std::once_flag once;
  std::call_once(once, [] { git_libgit2_init(); });
}

Status FromGit(int rc, std::string_view op) {
  if (rc >= 0) return Status::OK();
  const git_error* e = git_error_last();
  return Status::IO(fmt::format("libgit2 {} failed: {}", op, e ? e->message : "unknown error"));
}

struct DiffCollector {
  std::string out;
};

int OnLine(const git_diff_delta*, const git_diff_hunk*, const git_diff_line* line, void* payload) {
  auto* c = static_cast<DiffCollector*>(payload);
  switch (line->origin) {
    case GIT_DIFF_LINE_CONTEXT:
    case GIT_DIFF_LINE_ADDITION:
    case GIT_DIFF_LINE_DELETION:
      c->out.push_back(line->origin);
      break;
    default:
      break;
  }
  c->out.append(line->content, line->content_len);
  if (line->origin == GIT_DIFF_LINE_CONTEXT_EOFNL || line->origin == GIT_DIFF_LINE_ADD_EOFNL ||
      line->origin == GIT_DIFF_LINE_DEL_EOFNL) {
    if (c->out.empty() || c->out.back() != '\n') c->out.push_back('\n');
  }
  return 0;
}

int OnHunk(const git_diff_delta*, const git_diff_hunk* hunk, void* payload) {
  auto* c = static_cast<DiffCollector*>(payload);
  c->out.append(hunk->header, hunk->header_len);
  return 0;
}
}  // namespace

Result<std::string> UnifiedTextDiff(std::string_view before, std::string_view after,
                                    const std::string& path, int context_lines) {
  if (before == after) return std::string();
  EnsureLibgit2();
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.context_lines = static_cast<uint32_t>(context_lines);
  opts.flags = GIT_DIFF_FORCE_TEXT;
  DiffCollector c;
  c.out = fmt::format("--- a/{}\n+++ b/{}\n", path, path);
  std::string old_path = "a/" + path, new_path = "b/" + path;
  int rc = git_diff_buffers(before.data(), before.size(), old_path.c_str(), after.data(),
                            after.size(), new_path.c_str(), &opts, nullptr, nullptr, OnHunk,
                            OnLine, &c);
  CAIRN_RETURN_IF_ERROR(FromGit(rc, "diff of " + path));
  return c.out;
}

}  // namespace cairn
