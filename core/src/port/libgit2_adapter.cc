// The libgit2 boundary. Text diffs use libgit2's xdiff (git_diff_buffers); the git remote
// and `snapshot create --git` join here later.
//
// libgit2 is loaded with dlopen the first time a diff needs it, not linked: it pulls a
// dozen shared libraries (Kerberos, mbedTLS, libssh2, PCRE2, http-parser, ...) whose loading
// and relocation every cairn process would otherwise pay at start — more than a whole
// `cairn rollback` spends on its own work. The soname is the one the headers came from.
#include <dlfcn.h>
#include <fmt/format.h>
#include <git2.h>

#include <mutex>

#include "cairn/diff.h"

#ifndef CAIRN_LIBGIT2_SONAME
#error "CAIRN_LIBGIT2_SONAME must name the libgit2 shared library (set by core/CMakeLists.txt)"
#endif

namespace cairn {
namespace {

// The libgit2 functions cairn calls, resolved once.
struct Libgit2 {
  decltype(&git_libgit2_init) init = nullptr;
  decltype(&git_error_last) error_last = nullptr;
  decltype(&git_diff_buffers) diff_buffers = nullptr;
};

template <typename Fn>
bool Resolve(void* handle, const char* name, Fn* fn, std::string* error) {
  *fn = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*fn == nullptr) *error = fmt::format("{} has no symbol {}", CAIRN_LIBGIT2_SONAME, name);
  return *fn != nullptr;
}

// Loads libgit2 on first use; the handle stays open for the life of the process.
Result<const Libgit2*> LoadLibgit2() {
  static std::once_flag once;
  static Libgit2 lib;
  static std::string error;
  std::call_once(once, [] {
    void* handle = dlopen(CAIRN_LIBGIT2_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      error = fmt::format("cannot load {} ({}), which text diffs need: install libgit2 {}",
                          CAIRN_LIBGIT2_SONAME, why ? why : "unknown error", LIBGIT2_VERSION);
      return;
    }
    Libgit2 found;
    if (!Resolve(handle, "git_libgit2_init", &found.init, &error) ||
        !Resolve(handle, "git_error_last", &found.error_last, &error) ||
        !Resolve(handle, "git_diff_buffers", &found.diff_buffers, &error)) {
      return;
    }
    found.init();
    lib = found;
  });
  if (lib.init == nullptr) return Status::IO(error);
  return &lib;
}

Status FromGit(const Libgit2& lib, int rc, std::string_view op) {
  if (rc >= 0) return Status::OK();
  const git_error* e = lib.error_last();
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
  CAIRN_ASSIGN_OR_RETURN(const Libgit2* lib, LoadLibgit2());
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.context_lines = static_cast<uint32_t>(context_lines);
  opts.flags = GIT_DIFF_FORCE_TEXT;
  DiffCollector c;
  c.out = fmt::format("--- a/{}\n+++ b/{}\n", path, path);
  std::string old_path = "a/" + path, new_path = "b/" + path;
  int rc =
      lib->diff_buffers(before.data(), before.size(), old_path.c_str(), after.data(), after.size(),
                        new_path.c_str(), &opts, nullptr, nullptr, OnHunk, OnLine, &c);
  CAIRN_RETURN_IF_ERROR(FromGit(*lib, rc, "diff of " + path));
  return c.out;
}

}  // namespace cairn
