// The libgit2 boundary. Text diffs use libgit2's xdiff (git_diff_buffers); reading commits
// and trees for git sources (git_repository.h) uses its object database; the git remote
// joins here later.
//
// libgit2 is loaded with dlopen the first time a diff needs it, not linked: it pulls a
// dozen shared libraries (Kerberos, mbedTLS, libssh2, PCRE2, http-parser, ...) whose loading
// and relocation every cairn process would otherwise pay at start — more than a whole
// `cairn rollback` spends on its own work. The soname is the one the headers came from.
#include <dlfcn.h>
#include <fmt/format.h>
#include <git2.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "cairn/diff.h"
#include "port/git_repository.h"

#ifndef CAIRN_LIBGIT2_SONAME
#error "CAIRN_LIBGIT2_SONAME must name the libgit2 shared library (set by core/CMakeLists.txt)"
#endif

namespace cairn {
namespace {

// The libgit2 functions cairn calls, resolved once.
struct Libgit2 {
  decltype(&git_libgit2_init) init = nullptr;
  decltype(&git_libgit2_opts) opts = nullptr;
  decltype(&git_error_last) error_last = nullptr;
  decltype(&git_diff_buffers) diff_buffers = nullptr;
  decltype(&git_repository_open_ext) repository_open_ext = nullptr;
  decltype(&git_repository_free) repository_free = nullptr;
  decltype(&git_repository_path) repository_path = nullptr;
  decltype(&git_repository_odb) repository_odb = nullptr;
  decltype(&git_revparse_ext) revparse_ext = nullptr;
  decltype(&git_reference_name) reference_name = nullptr;
  decltype(&git_reference_free) reference_free = nullptr;
  decltype(&git_object_peel) object_peel = nullptr;
  decltype(&git_object_type) object_type = nullptr;
  decltype(&git_object_id) object_id = nullptr;
  decltype(&git_object_free) object_free = nullptr;
  decltype(&git_commit_tree_id) commit_tree_id = nullptr;
  decltype(&git_commit_raw_header) commit_raw_header = nullptr;
  decltype(&git_tree_lookup) tree_lookup = nullptr;
  decltype(&git_tree_free) tree_free = nullptr;
  decltype(&git_tree_entrycount) tree_entrycount = nullptr;
  decltype(&git_tree_entry_byindex) tree_entry_byindex = nullptr;
  decltype(&git_tree_entry_bypath) tree_entry_bypath = nullptr;
  decltype(&git_tree_entry_free) tree_entry_free = nullptr;
  decltype(&git_tree_entry_name) tree_entry_name = nullptr;
  decltype(&git_tree_entry_id) tree_entry_id = nullptr;
  decltype(&git_tree_entry_filemode_raw) tree_entry_filemode_raw = nullptr;
  decltype(&git_odb_read_header) odb_read_header = nullptr;
  decltype(&git_odb_free) odb_free = nullptr;
  decltype(&git_odb_read) odb_read = nullptr;
  decltype(&git_odb_object_data) odb_object_data = nullptr;
  decltype(&git_odb_object_size) odb_object_size = nullptr;
  decltype(&git_odb_object_free) odb_object_free = nullptr;
  decltype(&git_odb_open_rstream) odb_open_rstream = nullptr;
  decltype(&git_odb_stream_read) odb_stream_read = nullptr;
  decltype(&git_odb_stream_free) odb_stream_free = nullptr;
  decltype(&git_oid_fmt) oid_fmt = nullptr;
  decltype(&git_oid_fromstrn) oid_fromstrn = nullptr;
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
      error = fmt::format(
          "cannot load {} ({}), which text diffs and git sources need: install libgit2 {}",
          CAIRN_LIBGIT2_SONAME, why ? why : "unknown error", LIBGIT2_VERSION);
      return;
    }
    Libgit2 f;
#define CAIRN_GIT_SYMBOL(member, name) Resolve(handle, name, &f.member, &error)
    if (!CAIRN_GIT_SYMBOL(init, "git_libgit2_init") ||
        !CAIRN_GIT_SYMBOL(opts, "git_libgit2_opts") ||
        !CAIRN_GIT_SYMBOL(error_last, "git_error_last") ||
        !CAIRN_GIT_SYMBOL(diff_buffers, "git_diff_buffers") ||
        !CAIRN_GIT_SYMBOL(repository_open_ext, "git_repository_open_ext") ||
        !CAIRN_GIT_SYMBOL(repository_free, "git_repository_free") ||
        !CAIRN_GIT_SYMBOL(repository_path, "git_repository_path") ||
        !CAIRN_GIT_SYMBOL(repository_odb, "git_repository_odb") ||
        !CAIRN_GIT_SYMBOL(revparse_ext, "git_revparse_ext") ||
        !CAIRN_GIT_SYMBOL(reference_name, "git_reference_name") ||
        !CAIRN_GIT_SYMBOL(reference_free, "git_reference_free") ||
        !CAIRN_GIT_SYMBOL(object_peel, "git_object_peel") ||
        !CAIRN_GIT_SYMBOL(object_type, "git_object_type") ||
        !CAIRN_GIT_SYMBOL(object_id, "git_object_id") ||
        !CAIRN_GIT_SYMBOL(object_free, "git_object_free") ||
        !CAIRN_GIT_SYMBOL(commit_tree_id, "git_commit_tree_id") ||
        !CAIRN_GIT_SYMBOL(commit_raw_header, "git_commit_raw_header") ||
        !CAIRN_GIT_SYMBOL(tree_lookup, "git_tree_lookup") ||
        !CAIRN_GIT_SYMBOL(tree_free, "git_tree_free") ||
        !CAIRN_GIT_SYMBOL(tree_entrycount, "git_tree_entrycount") ||
        !CAIRN_GIT_SYMBOL(tree_entry_byindex, "git_tree_entry_byindex") ||
        !CAIRN_GIT_SYMBOL(tree_entry_bypath, "git_tree_entry_bypath") ||
        !CAIRN_GIT_SYMBOL(tree_entry_free, "git_tree_entry_free") ||
        !CAIRN_GIT_SYMBOL(tree_entry_name, "git_tree_entry_name") ||
        !CAIRN_GIT_SYMBOL(tree_entry_id, "git_tree_entry_id") ||
        !CAIRN_GIT_SYMBOL(tree_entry_filemode_raw, "git_tree_entry_filemode_raw") ||
        !CAIRN_GIT_SYMBOL(odb_read_header, "git_odb_read_header") ||
        !CAIRN_GIT_SYMBOL(odb_free, "git_odb_free") ||
        !CAIRN_GIT_SYMBOL(odb_read, "git_odb_read") ||
        !CAIRN_GIT_SYMBOL(odb_object_data, "git_odb_object_data") ||
        !CAIRN_GIT_SYMBOL(odb_object_size, "git_odb_object_size") ||
        !CAIRN_GIT_SYMBOL(odb_object_free, "git_odb_object_free") ||
        !CAIRN_GIT_SYMBOL(odb_open_rstream, "git_odb_open_rstream") ||
        !CAIRN_GIT_SYMBOL(odb_stream_read, "git_odb_stream_read") ||
        !CAIRN_GIT_SYMBOL(odb_stream_free, "git_odb_stream_free") ||
        !CAIRN_GIT_SYMBOL(oid_fmt, "git_oid_fmt") ||
        !CAIRN_GIT_SYMBOL(oid_fromstrn, "git_oid_fromstrn")) {
      return;
    }
#undef CAIRN_GIT_SYMBOL
    Libgit2 found = f;
    found.init();
    // GitBlobReader checks every blob it reads against its id itself (OpenSSL's SHA-1 runs
    // on the CPU's SHA instructions; libgit2's collision-detecting SHA-1 took a fifth of a
    // git ingest). Packs are mapped in 32 MiB windows, at most 64 MiB at once, so that a
    // large pack does not count towards the resident memory of a snapshot.
    found.opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
    found.opts(GIT_OPT_SET_MWINDOW_SIZE, size_t{32} << 20);
    found.opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, size_t{64} << 20);
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
  // What GIT_DIFF_OPTIONS_INIT sets, field by field (its partial initializer list leaves the
  // other fields to zero, which clang's -Wmissing-field-initializers refuses).
  git_diff_options opts{};
  opts.version = GIT_DIFF_OPTIONS_VERSION;
  opts.ignore_submodules = GIT_SUBMODULE_IGNORE_UNSPECIFIED;
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

// ---- reading repositories ----

const char* GitEntryTypeName(GitEntryType type) {
  switch (type) {
    case GitEntryType::kFile:
      return "file";
    case GitEntryType::kExecutable:
      return "executable file";
    case GitEntryType::kTree:
      return "tree";
    case GitEntryType::kSymlink:
      return "symlink";
    case GitEntryType::kGitlink:
      return "submodule (gitlink)";
    case GitEntryType::kOther:
      break;
  }
  return "entry of an unknown mode";
}

namespace {

GitEntryType TypeOfMode(uint32_t mode) {
  switch (mode) {
    case 0100644:
      return GitEntryType::kFile;
    case 0100755:
      return GitEntryType::kExecutable;
    case 040000:
      return GitEntryType::kTree;
    case 0120000:
      return GitEntryType::kSymlink;
    case 0160000:
      return GitEntryType::kGitlink;
    default:
      return GitEntryType::kOther;
  }
}

std::string OidHex(const Libgit2& lib, const git_oid* oid) {
  char buf[GIT_OID_HEXSZ];
  lib.oid_fmt(buf, oid);
  return std::string(buf, GIT_OID_HEXSZ);
}

// libgit2's error as a Status: kNotFound for GIT_ENOTFOUND, kUsage for GIT_EAMBIGUOUS and
// GIT_EINVALIDSPEC, kIO otherwise; the message names the operation and libgit2's words.
Status GitStatus(const Libgit2& lib, int rc, const std::string& what) {
  const git_error* e = lib.error_last();
  std::string msg = fmt::format("{}: {}", what, e != nullptr ? e->message : "unknown error");
  if (rc == GIT_ENOTFOUND) return Status::NotFound(msg);
  if (rc == GIT_EAMBIGUOUS || rc == GIT_EINVALIDSPEC) return Status::Usage(msg);
  return Status::IO(msg);
}

}  // namespace

struct GitRepository::Impl {
  const Libgit2* lib = nullptr;
  git_repository* repo = nullptr;
  std::string shown;    // the path as given
  std::string git_dir;  // resolved
  ~Impl() {
    if (repo != nullptr) lib->repository_free(repo);
  }
  Status Check(int rc, const std::string& what) const {
    return rc < 0 ? GitStatus(*lib, rc, what) : Status::OK();
  }
  Result<git_oid> ParseOid(const std::string& hex) const {
    git_oid oid;
    if (hex.size() != GIT_OID_HEXSZ || lib->oid_fromstrn(&oid, hex.data(), hex.size()) < 0) {
      return Status::Internal(fmt::format("\"{}\" is not a git object id", hex));
    }
    return oid;
  }
};

GitRepository::GitRepository(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GitRepository::~GitRepository() = default;

const std::string& GitRepository::git_dir() const { return impl_->git_dir; }

Result<std::unique_ptr<GitRepository>> GitRepository::Open(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(const Libgit2* lib, LoadLibgit2());
  auto impl = std::make_unique<Impl>();
  impl->lib = lib;
  impl->shown = path;
  int rc =
      lib->repository_open_ext(&impl->repo, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  if (rc == GIT_ENOTFOUND) {
    return Status::NotFound(fmt::format(
        "{} is not a git repository (give the top of a working tree, its .git, or a bare "
        "repository)",
        path));
  }
  CAIRN_RETURN_IF_ERROR(impl->Check(rc, "open git repository " + path));
  const char* dir = lib->repository_path(impl->repo);
  impl->git_dir = dir != nullptr ? dir : path;
  while (impl->git_dir.size() > 1 && impl->git_dir.back() == '/') impl->git_dir.pop_back();
  return std::unique_ptr<GitRepository>(new GitRepository(std::move(impl)));
}

Result<GitCommit> GitRepository::ResolveCommit(const std::string& rev) {
  const Libgit2& lib = *impl_->lib;
  if (rev.empty() || rev.find('\0') != std::string::npos) {
    return Status::Usage("--rev must name a commit, a branch or a tag");
  }
  git_object* obj = nullptr;
  git_reference* ref = nullptr;
  int rc = lib.revparse_ext(&obj, &ref, impl_->repo, rev.c_str());
  if (rc < 0) {
    return GitStatus(lib, rc, fmt::format("no revision \"{}\" in {}", rev, impl_->shown));
  }
  GitCommit out;
  if (ref != nullptr) {
    out.ref = lib.reference_name(ref);
    lib.reference_free(ref);
  }
  git_object* peeled = nullptr;
  rc = lib.object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
  lib.object_free(obj);
  if (rc < 0) {
    return Status::Usage(fmt::format(
        "revision \"{}\" in {} is not a commit (and does not lead to one)", rev, impl_->shown));
  }
  auto* commit = reinterpret_cast<git_commit*>(peeled);
  out.id = OidHex(lib, lib.object_id(peeled));
  out.tree = OidHex(lib, lib.commit_tree_id(commit));
  const char* header = lib.commit_raw_header(commit);
  std::string_view h = header != nullptr ? header : "";
  for (std::string_view field : {"gpgsig ", "gpgsig-sha256 "}) {
    if (h.substr(0, field.size()) == field ||
        h.find("\n" + std::string(field)) != std::string_view::npos) {
      out.has_signature = true;
    }
  }
  lib.object_free(peeled);
  return out;
}

Result<std::vector<GitTreeEntry>> GitRepository::ListTree(const GitCommit& commit,
                                                          const std::string& subdir,
                                                          const GitTreeLimits& limits) {
  const Libgit2& lib = *impl_->lib;
  using Tree = std::unique_ptr<git_tree, void (*)(git_tree*)>;
  auto lookup = [&](const git_oid& id, const std::string& shown) -> Result<Tree> {
    git_tree* t = nullptr;
    int rc = lib.tree_lookup(&t, impl_->repo, &id);
    const git_error* e = rc < 0 ? lib.error_last() : nullptr;
    if (rc < 0 && rc != GIT_ENOTFOUND && (e == nullptr || e->klass != GIT_ERROR_OS)) {
      // The object is there but is not a tree git can read (a hand-made or damaged one).
      return Status::InvalidInput(fmt::format(
          "commit {}: the tree at {} ({}) cannot be read: {} (git fsck names the damage)",
          commit.id.substr(0, 12), shown, OidHex(lib, &id),
          e != nullptr ? e->message : "unknown error"));
    }
    CAIRN_RETURN_IF_ERROR(impl_->Check(rc, "read tree " + shown));
    return Tree(t, lib.tree_free);
  };
  CAIRN_ASSIGN_OR_RETURN(git_oid start, impl_->ParseOid(commit.tree));
  if (!subdir.empty()) {
    CAIRN_ASSIGN_OR_RETURN(Tree root, lookup(start, commit.tree));
    git_tree_entry* raw = nullptr;
    int rc = lib.tree_entry_bypath(&raw, root.get(), subdir.c_str());
    if (rc == GIT_ENOTFOUND) {
      return Status::NotFound(
          fmt::format("--subdir {}: commit {} has no such path", subdir, commit.id.substr(0, 12)));
    }
    CAIRN_RETURN_IF_ERROR(impl_->Check(rc, "find " + subdir));
    std::unique_ptr<git_tree_entry, void (*)(git_tree_entry*)> entry(raw, lib.tree_entry_free);
    GitEntryType type = TypeOfMode(lib.tree_entry_filemode_raw(entry.get()));
    if (type != GitEntryType::kTree) {
      return Status::InvalidInput(fmt::format("--subdir {}: in commit {} it is a {}, not a tree",
                                              subdir, commit.id.substr(0, 12),
                                              GitEntryTypeName(type)));
    }
    start = *lib.tree_entry_id(entry.get());
  }
  git_odb* raw_odb = nullptr;
  CAIRN_RETURN_IF_ERROR(
      impl_->Check(lib.repository_odb(&raw_odb, impl_->repo), "open object database"));
  std::unique_ptr<git_odb, void (*)(git_odb*)> odb(raw_odb, lib.odb_free);
  // An explicit stack, not libgit2's recursive walk: a hand-made tree can nest deeper than
  // any stack, and the depth limit is checked before descending.
  struct Pending {
    git_oid id;
    std::string prefix;
    uint32_t depth;
  };
  std::vector<GitTreeEntry> out;
  std::vector<Pending> todo = {{start, "", 0}};
  while (!todo.empty()) {
    Pending p = std::move(todo.back());
    todo.pop_back();
    CAIRN_ASSIGN_OR_RETURN(Tree tree, lookup(p.id, p.prefix.empty() ? "/" : p.prefix));
    size_t count = lib.tree_entrycount(tree.get());
    std::vector<Pending> children;
    for (size_t i = 0; i < count; ++i) {
      const git_tree_entry* e = lib.tree_entry_byindex(tree.get(), i);
      GitTreeEntry entry;
      entry.name = lib.tree_entry_name(e);
      entry.path = p.prefix + entry.name;
      entry.depth = p.depth;
      entry.mode = lib.tree_entry_filemode_raw(e);
      entry.type = TypeOfMode(entry.mode);
      entry.oid = OidHex(lib, lib.tree_entry_id(e));
      if (entry.type == GitEntryType::kTree) {
        if (p.depth + 1 > limits.max_depth) {
          entry.pruned = true;
        } else {
          children.push_back({*lib.tree_entry_id(e), entry.path + "/", p.depth + 1});
        }
      } else if (entry.type == GitEntryType::kFile || entry.type == GitEntryType::kExecutable) {
        size_t size = 0;
        git_object_t type = GIT_OBJECT_INVALID;
        CAIRN_RETURN_IF_ERROR(
            impl_->Check(lib.odb_read_header(&size, &type, odb.get(), lib.tree_entry_id(e)),
                         "read object header of " + entry.path));
        entry.size = size;
      }
      out.push_back(std::move(entry));
      if (out.size() > limits.max_entries) {
        return Status::InvalidInput(
            fmt::format("the tree holds more than {} entries", limits.max_entries));
      }
    }
    // Subtrees go on the stack in reverse so they come off in git's order: a directory's
    // entries, then each subdirectory's, depth first.
    for (auto it = children.rbegin(); it != children.rend(); ++it) todo.push_back(*it);
  }
  return out;
}

namespace {

using OdbPtr = std::unique_ptr<git_odb, void (*)(git_odb*)>;

// A packed (or otherwise whole-read) blob handed out in pieces.
class WholeBlobReader final : public GitBlobReader {
 public:
  WholeBlobReader(const Libgit2& lib, git_odb_object* obj, std::string oid)
      : GitBlobReader(lib.odb_object_size(obj), /*streamed=*/false, std::move(oid)),
        lib_(lib),
        obj_(obj) {}
  ~WholeBlobReader() override { lib_.odb_object_free(obj_); }

 protected:
  Result<size_t> ReadSome(char* buf, size_t len) override {
    std::memcpy(buf, static_cast<const char*>(lib_.odb_object_data(obj_)) + offset_, len);
    offset_ += len;
    return len;
  }

 private:
  const Libgit2& lib_;
  git_odb_object* obj_;
  uint64_t offset_ = 0;
};

// A loose blob, inflated as it is read.
class StreamedBlobReader final : public GitBlobReader {
 public:
  StreamedBlobReader(const Libgit2& lib, OdbPtr odb, git_odb_stream* stream, uint64_t size,
                     std::string oid)
      : GitBlobReader(size, /*streamed=*/true, std::move(oid)),
        lib_(lib),
        odb_(std::move(odb)),
        stream_(stream) {}
  ~StreamedBlobReader() override { lib_.odb_stream_free(stream_); }

 protected:
  Result<size_t> ReadSome(char* buf, size_t len) override {
    size_t have = 0;
    while (have < len) {
      int n = lib_.odb_stream_read(stream_, buf + have, std::min<size_t>(len - have, 1u << 30));
      if (n < 0) return GitStatus(lib_, n, "read blob " + oid());
      if (n == 0) break;
      have += static_cast<size_t>(n);
    }
    return have;
  }

 private:
  const Libgit2& lib_;
  OdbPtr odb_;
  git_odb_stream* stream_;
};

}  // namespace

GitBlobReader::GitBlobReader(uint64_t size, bool streamed, std::string oid)
    : size_(size), streamed_(streamed), oid_(std::move(oid)), sha1_(std::make_unique<Sha1>()) {
  std::string header = fmt::format("blob {}", size);
  sha1_->Update(header.c_str(), header.size() + 1);  // with its NUL, as git hashes it
}

GitBlobReader::~GitBlobReader() = default;

Result<size_t> GitBlobReader::Read(char* buf, size_t len) {
  size_t want = std::min<uint64_t>(len, size_ - offset_);
  if (want == 0) return size_t{0};
  CAIRN_ASSIGN_OR_RETURN(size_t n, ReadSome(buf, want));
  sha1_->Update(buf, n);
  offset_ += n;
  if (n < want) {
    return Status::Corruption(fmt::format(
        "blob {} ends after {} of the {} bytes its header declares: the repository is damaged "
        "(git fsck names the damage)",
        oid_, offset_, size_));
  }
  if (offset_ == size_) {
    std::string got = sha1_->FinishHex();
    if (got != oid_) {
      return Status::Corruption(fmt::format(
          "blob {} holds bytes that hash to {}: the repository is damaged (git fsck names the "
          "damage)",
          oid_, got));
    }
  }
  return n;
}

Result<std::unique_ptr<GitBlobReader>> GitRepository::OpenBlob(const std::string& oid_hex,
                                                               uint64_t limit) {
  const Libgit2& lib = *impl_->lib;
  CAIRN_ASSIGN_OR_RETURN(git_oid oid, impl_->ParseOid(oid_hex));
  git_odb* raw_odb = nullptr;
  CAIRN_RETURN_IF_ERROR(
      impl_->Check(lib.repository_odb(&raw_odb, impl_->repo), "open object database"));
  OdbPtr odb(raw_odb, lib.odb_free);
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  CAIRN_RETURN_IF_ERROR(impl_->Check(lib.odb_read_header(&size, &type, odb.get(), &oid),
                                     "read object header " + oid_hex));
  if (type != GIT_OBJECT_BLOB) {
    return Status::InvalidInput(fmt::format("object {} is not a blob", oid_hex));
  }
  if (size > limit) {
    return Status::InvalidInput(
        fmt::format("blob {} is {} bytes, above the limit of {}", oid_hex, size, limit));
  }
  // A stream where a backend offers one (loose objects); libgit2 1.5's pack backend has
  // none, so a packed blob is read whole — the limit above bounds what that costs.
  git_odb_stream* stream = nullptr;
  size_t stream_size = 0;
  git_object_t stream_type = GIT_OBJECT_INVALID;
  if (lib.odb_open_rstream(&stream, &stream_size, &stream_type, odb.get(), &oid) == 0) {
    if (stream_size == size && stream_type == GIT_OBJECT_BLOB) {
      return std::unique_ptr<GitBlobReader>(
          new StreamedBlobReader(lib, std::move(odb), stream, size, oid_hex));
    }
    lib.odb_stream_free(stream);
  }
  git_odb_object* obj = nullptr;
  CAIRN_RETURN_IF_ERROR(impl_->Check(lib.odb_read(&obj, odb.get(), &oid), "read blob " + oid_hex));
  if (lib.odb_object_size(obj) != size) {
    lib.odb_object_free(obj);
    return Status::IO(
        fmt::format("blob {}: its header and its contents disagree on its size", oid_hex));
  }
  return std::unique_ptr<GitBlobReader>(new WholeBlobReader(lib, obj, oid_hex));
}

Result<std::string> GitRepository::ReadBlob(const std::string& oid_hex, uint64_t limit) {
  CAIRN_ASSIGN_OR_RETURN(auto reader, OpenBlob(oid_hex, limit));
  std::string out(reader->size(), '\0');
  size_t have = 0;
  while (have < out.size()) {
    CAIRN_ASSIGN_OR_RETURN(size_t n, reader->Read(out.data() + have, out.size() - have));
    if (n == 0) break;
    have += n;
  }
  out.resize(have);
  return out;
}

}  // namespace cairn
