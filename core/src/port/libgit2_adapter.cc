// The libgit2 boundary. Text diffs use libgit2's xdiff (git_diff_buffers); reading commits
// and trees for git sources (git_repository.h) uses its object database; the git remote
// joins here later.
//
// libgit2 is loaded with dlopen the first time a diff needs it, not linked: it pulls a
// dozen shared libraries (Kerberos, mbedTLS, libssh2, PCRE2, http-parser, ...) whose loading
// and relocation every cairn process would otherwise pay at start — more than a whole
// `cairn rollback` spends on its own work. The soname is the one the headers came from.
#include <dlfcn.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
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
  // Writing and moving refs, and the network (team mode: core/src/remote/).
  decltype(&git_repository_init) repository_init = nullptr;
  decltype(&git_blob_create_from_buffer) blob_create_from_buffer = nullptr;
  decltype(&git_treebuilder_new) treebuilder_new = nullptr;
  decltype(&git_treebuilder_insert) treebuilder_insert = nullptr;
  decltype(&git_treebuilder_write) treebuilder_write = nullptr;
  decltype(&git_treebuilder_free) treebuilder_free = nullptr;
  decltype(&git_signature_new) signature_new = nullptr;
  decltype(&git_signature_free) signature_free = nullptr;
  decltype(&git_commit_create) commit_create = nullptr;
  decltype(&git_commit_lookup) commit_lookup = nullptr;
  decltype(&git_commit_free) commit_free = nullptr;
  decltype(&git_commit_parentcount) commit_parentcount = nullptr;
  decltype(&git_commit_parent_id) commit_parent_id = nullptr;
  decltype(&git_commit_message_raw) commit_message_raw = nullptr;
  decltype(&git_reference_name_to_id) reference_name_to_id = nullptr;
  decltype(&git_reference_create) reference_create = nullptr;
  decltype(&git_reference_create_matching) reference_create_matching = nullptr;
  decltype(&git_reference_remove) reference_remove = nullptr;
  decltype(&git_reference_iterator_glob_new) reference_iterator_glob_new = nullptr;
  decltype(&git_reference_next) reference_next = nullptr;
  decltype(&git_reference_iterator_free) reference_iterator_free = nullptr;
  decltype(&git_reference_target) reference_target = nullptr;
  decltype(&git_remote_create_detached) remote_create_detached = nullptr;
  decltype(&git_remote_create_anonymous) remote_create_anonymous = nullptr;
  decltype(&git_remote_free) remote_free = nullptr;
  decltype(&git_remote_connect) remote_connect = nullptr;
  decltype(&git_remote_ls) remote_ls = nullptr;
  decltype(&git_remote_disconnect) remote_disconnect = nullptr;
  decltype(&git_remote_fetch) remote_fetch = nullptr;
  decltype(&git_remote_push) remote_push = nullptr;
  decltype(&git_remote_init_callbacks) remote_init_callbacks = nullptr;
  decltype(&git_fetch_options_init) fetch_options_init = nullptr;
  decltype(&git_push_options_init) push_options_init = nullptr;
  decltype(&git_stream_register) stream_register = nullptr;
  decltype(&git_error_set_str) error_set_str = nullptr;
};

template <typename Fn>
bool Resolve(void* handle, const char* name, Fn* fn, std::string* error) {
  *fn = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*fn == nullptr) *error = fmt::format("{} has no symbol {}", CAIRN_LIBGIT2_SONAME, name);
  return *fn != nullptr;
}

// ---- sockets with a deadline ----
//
// libgit2 1.5 has no network timeouts: a server that accepts a connection and never answers
// blocks a read forever. Every plain socket it opens (git://; http:// later) is made here
// instead (git_stream_register), with connect, read and write bounded by the deadline of
// the operation in progress. One network operation runs at a time in a process (the
// deadline is process-wide), which is how cairn uses them.
std::atomic<int64_t> g_deadline_ms{0};    // steady-clock ms; 0: none
std::atomic<bool> g_deadline_hit{false};  // the last operation failed on its deadline
decltype(&git_error_set_str) g_error_set_str = nullptr;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct DeadlineStream {
  git_stream parent;  // first: libgit2 casts between the two
  std::string host;
  std::string port;
  int fd = -1;
};

// Waits until `fd` is ready for `events` or the deadline passes; -1 with libgit2's error set.
int WaitFor(int fd, short events, const char* what) {
  for (;;) {
    int64_t deadline = g_deadline_ms.load();
    int timeout = -1;
    if (deadline != 0) {
      int64_t left = deadline - SteadyMs();
      if (left <= 0) {
        g_deadline_hit = true;
        g_error_set_str(GIT_ERROR_NET, fmt::format("the deadline passed while {}", what).c_str());
        return -1;
      }
      timeout = static_cast<int>(std::min<int64_t>(left, 1000));
    }
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, timeout);
    if (rc > 0) return 0;
    if (rc < 0 && errno != EINTR) {
      g_error_set_str(GIT_ERROR_OS, fmt::format("poll: {}", std::strerror(errno)).c_str());
      return -1;
    }
  }
}

int StreamConnect(git_stream* stream) {
  auto* s = reinterpret_cast<DeadlineStream*>(stream);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(s->host.c_str(), s->port.c_str(), &hints, &found);
  if (rc != 0) {
    g_error_set_str(GIT_ERROR_NET,
                    fmt::format("cannot resolve {}: {}", s->host, gai_strerror(rc)).c_str());
    return -1;
  }
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 ||
        (errno == EINPROGRESS && WaitFor(fd, POLLOUT, "connecting") == 0)) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) {
        s->fd = fd;
        freeaddrinfo(found);
        return 0;
      }
      last_error = std::strerror(err);
    } else if (g_deadline_hit) {
      close(fd);
      freeaddrinfo(found);
      return -1;
    } else {
      last_error = std::strerror(errno);
    }
    close(fd);
  }
  freeaddrinfo(found);
  g_error_set_str(
      GIT_ERROR_NET,
      fmt::format("cannot connect to {} port {}: {}", s->host, s->port, last_error).c_str());
  return -1;
}

int StreamCertificate(git_cert**, git_stream*) { return GIT_ENOTFOUND; }
int StreamSetProxy(git_stream*, const git_proxy_options*) { return -1; }

ssize_t StreamRead(git_stream* stream, void* data, size_t len) {
  auto* s = reinterpret_cast<DeadlineStream*>(stream);
  for (;;) {
    ssize_t n = recv(s->fd, data, len, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      g_error_set_str(GIT_ERROR_NET,
                      fmt::format("read from {}: {}", s->host, std::strerror(errno)).c_str());
      return -1;
    }
    if (WaitFor(s->fd, POLLIN, "waiting for the server to answer") < 0) return -1;
  }
}

ssize_t StreamWrite(git_stream* stream, const char* data, size_t len, int) {
  auto* s = reinterpret_cast<DeadlineStream*>(stream);
  size_t done = 0;
  while (done < len) {
    ssize_t n = send(s->fd, data + done, len - done, MSG_NOSIGNAL);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      g_error_set_str(GIT_ERROR_NET,
                      fmt::format("write to {}: {}", s->host, std::strerror(errno)).c_str());
      return -1;
    }
    if (WaitFor(s->fd, POLLOUT, "sending to the server") < 0) return -1;
  }
  return static_cast<ssize_t>(len);
}

int StreamClose(git_stream* stream) {
  auto* s = reinterpret_cast<DeadlineStream*>(stream);
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  return 0;
}

void StreamFree(git_stream* stream) { delete reinterpret_cast<DeadlineStream*>(stream); }

int StreamInit(git_stream** out, const char* host, const char* port) {
  auto* s = new DeadlineStream();
  s->parent.version = GIT_STREAM_VERSION;
  s->parent.connect = StreamConnect;
  s->parent.certificate = StreamCertificate;
  s->parent.set_proxy = StreamSetProxy;
  s->parent.read = StreamRead;
  s->parent.write = StreamWrite;
  s->parent.close = StreamClose;
  s->parent.free = StreamFree;
  s->host = host != nullptr ? host : "";
  s->port = port != nullptr ? port : "";
  *out = &s->parent;
  return 0;
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
        !CAIRN_GIT_SYMBOL(oid_fromstrn, "git_oid_fromstrn") ||
        !CAIRN_GIT_SYMBOL(repository_init, "git_repository_init") ||
        !CAIRN_GIT_SYMBOL(blob_create_from_buffer, "git_blob_create_from_buffer") ||
        !CAIRN_GIT_SYMBOL(treebuilder_new, "git_treebuilder_new") ||
        !CAIRN_GIT_SYMBOL(treebuilder_insert, "git_treebuilder_insert") ||
        !CAIRN_GIT_SYMBOL(treebuilder_write, "git_treebuilder_write") ||
        !CAIRN_GIT_SYMBOL(treebuilder_free, "git_treebuilder_free") ||
        !CAIRN_GIT_SYMBOL(signature_new, "git_signature_new") ||
        !CAIRN_GIT_SYMBOL(signature_free, "git_signature_free") ||
        !CAIRN_GIT_SYMBOL(commit_create, "git_commit_create") ||
        !CAIRN_GIT_SYMBOL(commit_lookup, "git_commit_lookup") ||
        !CAIRN_GIT_SYMBOL(commit_free, "git_commit_free") ||
        !CAIRN_GIT_SYMBOL(commit_parentcount, "git_commit_parentcount") ||
        !CAIRN_GIT_SYMBOL(commit_parent_id, "git_commit_parent_id") ||
        !CAIRN_GIT_SYMBOL(commit_message_raw, "git_commit_message_raw") ||
        !CAIRN_GIT_SYMBOL(reference_name_to_id, "git_reference_name_to_id") ||
        !CAIRN_GIT_SYMBOL(reference_create, "git_reference_create") ||
        !CAIRN_GIT_SYMBOL(reference_create_matching, "git_reference_create_matching") ||
        !CAIRN_GIT_SYMBOL(reference_remove, "git_reference_remove") ||
        !CAIRN_GIT_SYMBOL(reference_iterator_glob_new, "git_reference_iterator_glob_new") ||
        !CAIRN_GIT_SYMBOL(reference_next, "git_reference_next") ||
        !CAIRN_GIT_SYMBOL(reference_iterator_free, "git_reference_iterator_free") ||
        !CAIRN_GIT_SYMBOL(reference_target, "git_reference_target") ||
        !CAIRN_GIT_SYMBOL(remote_create_detached, "git_remote_create_detached") ||
        !CAIRN_GIT_SYMBOL(remote_create_anonymous, "git_remote_create_anonymous") ||
        !CAIRN_GIT_SYMBOL(remote_free, "git_remote_free") ||
        !CAIRN_GIT_SYMBOL(remote_connect, "git_remote_connect") ||
        !CAIRN_GIT_SYMBOL(remote_ls, "git_remote_ls") ||
        !CAIRN_GIT_SYMBOL(remote_disconnect, "git_remote_disconnect") ||
        !CAIRN_GIT_SYMBOL(remote_fetch, "git_remote_fetch") ||
        !CAIRN_GIT_SYMBOL(remote_push, "git_remote_push") ||
        !CAIRN_GIT_SYMBOL(remote_init_callbacks, "git_remote_init_callbacks") ||
        !CAIRN_GIT_SYMBOL(fetch_options_init, "git_fetch_options_init") ||
        !CAIRN_GIT_SYMBOL(push_options_init, "git_push_options_init") ||
        !CAIRN_GIT_SYMBOL(stream_register, "git_stream_register") ||
        !CAIRN_GIT_SYMBOL(error_set_str, "git_error_set_str")) {
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
    g_error_set_str = found.error_set_str;
    static git_stream_registration registration{GIT_STREAM_VERSION, StreamInit, nullptr};
    if (found.stream_register(GIT_STREAM_STANDARD, &registration) < 0) {
      error = "cannot register cairn's socket stream with libgit2";
      return;
    }
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

using OdbPtr = std::unique_ptr<git_odb, void (*)(git_odb*)>;

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
  // The repository's object database, owned by the caller.
  Result<OdbPtr> Odb() const {
    git_odb* raw = nullptr;
    CAIRN_RETURN_IF_ERROR(Check(lib->repository_odb(&raw, repo), "open object database"));
    return OdbPtr(raw, lib->odb_free);
  }
  Result<git_oid> ParseOid(const std::string& hex) const {
    git_oid oid;
    if (hex.size() != GIT_OID_HEXSZ || lib->oid_fromstrn(&oid, hex.data(), hex.size()) < 0) {
      return Status::Internal(fmt::format("\"{}\" is not a git object id", hex));
    }
    return oid;
  }
};

// Takes an opened repository; records its git directory without a trailing '/'.
GitRepository::GitRepository(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  const char* dir = impl_->lib->repository_path(impl_->repo);
  impl_->git_dir = dir != nullptr ? dir : impl_->shown;
  while (impl_->git_dir.size() > 1 && impl_->git_dir.back() == '/') impl_->git_dir.pop_back();
}
GitRepository::~GitRepository() = default;

const std::string& GitRepository::git_dir() const { return impl_->git_dir; }

Result<std::unique_ptr<GitRepository>> GitRepository::OpenAt(const std::string& path,
                                                             bool create_bare) {
  CAIRN_ASSIGN_OR_RETURN(const Libgit2* lib, LoadLibgit2());
  auto impl = std::make_unique<Impl>();
  impl->lib = lib;
  impl->shown = path;
  int rc =
      lib->repository_open_ext(&impl->repo, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  if (rc == GIT_ENOTFOUND && create_bare) {
    rc = lib->repository_init(&impl->repo, path.c_str(), /*is_bare=*/1);
  } else if (rc == GIT_ENOTFOUND) {
    return Status::NotFound(fmt::format(
        "{} is not a git repository (give the top of a working tree, its .git, or a bare "
        "repository)",
        path));
  }
  CAIRN_RETURN_IF_ERROR(impl->Check(rc, "open git repository " + path));
  return std::unique_ptr<GitRepository>(new GitRepository(std::move(impl)));
}

Result<std::unique_ptr<GitRepository>> GitRepository::Open(const std::string& path) {
  return OpenAt(path, /*create_bare=*/false);
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
  CAIRN_ASSIGN_OR_RETURN(OdbPtr odb, impl_->Odb());
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
  CAIRN_ASSIGN_OR_RETURN(OdbPtr odb, impl_->Odb());
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

// ---- writing ----

Result<std::unique_ptr<GitRepository>> GitRepository::OpenOrInitBare(const std::string& path) {
  return OpenAt(path, /*create_bare=*/true);
}

Result<std::string> GitRepository::WriteBlob(std::string_view bytes) {
  const Libgit2& lib = *impl_->lib;
  git_oid oid;
  CAIRN_RETURN_IF_ERROR(impl_->Check(
      lib.blob_create_from_buffer(&oid, impl_->repo, bytes.data(), bytes.size()), "write blob"));
  return OidHex(lib, &oid);
}

namespace {
// A directory of a tree being written: files by name, subdirectories by name.
struct TreeNode {
  std::map<std::string, std::pair<std::string, uint32_t>> files;  // name -> oid, mode
  std::map<std::string, TreeNode> dirs;
};
}  // namespace

Result<std::string> GitRepository::WriteTree(const std::vector<GitTreeWrite>& entries) {
  const Libgit2& lib = *impl_->lib;
  TreeNode root;
  for (const auto& e : entries) {
    TreeNode* node = &root;
    std::string_view rest = e.path;
    for (size_t slash; (slash = rest.find('/')) != std::string_view::npos;
         rest = rest.substr(slash + 1)) {
      node = &node->dirs[std::string(rest.substr(0, slash))];
    }
    if (rest.empty() || !node->files.emplace(std::string(rest), std::pair(e.oid, e.mode)).second) {
      return Status::Internal(fmt::format("tree path \"{}\" is empty or repeated", e.path));
    }
  }
  std::function<Result<git_oid>(const TreeNode&, const std::string&)> write =
      [&](const TreeNode& node, const std::string& where) -> Result<git_oid> {
    git_treebuilder* raw = nullptr;
    CAIRN_RETURN_IF_ERROR(
        impl_->Check(lib.treebuilder_new(&raw, impl_->repo, nullptr), "start tree " + where));
    std::unique_ptr<git_treebuilder, void (*)(git_treebuilder*)> builder(raw, lib.treebuilder_free);
    for (const auto& [name, dir] : node.dirs) {
      if (node.files.contains(name)) {
        return Status::Internal(
            fmt::format("tree path {}{} is a file and a directory", where, name));
      }
      CAIRN_ASSIGN_OR_RETURN(git_oid sub, write(dir, where + name + "/"));
      CAIRN_RETURN_IF_ERROR(impl_->Check(
          lib.treebuilder_insert(nullptr, builder.get(), name.c_str(), &sub, GIT_FILEMODE_TREE),
          "add " + where + name));
    }
    for (const auto& [name, file] : node.files) {
      CAIRN_ASSIGN_OR_RETURN(git_oid oid, impl_->ParseOid(file.first));
      CAIRN_RETURN_IF_ERROR(
          impl_->Check(lib.treebuilder_insert(nullptr, builder.get(), name.c_str(), &oid,
                                              static_cast<git_filemode_t>(file.second)),
                       "add " + where + name));
    }
    git_oid out;
    CAIRN_RETURN_IF_ERROR(impl_->Check(lib.treebuilder_write(&out, builder.get()),
                                       "write tree " + (where.empty() ? "/" : where)));
    return out;
  };
  CAIRN_ASSIGN_OR_RETURN(git_oid oid, write(root, ""));
  return OidHex(lib, &oid);
}

Result<std::string> GitRepository::WriteCommit(const std::string& tree,
                                               const std::vector<std::string>& parents,
                                               const std::string& name, const std::string& email,
                                               int64_t time_seconds, const std::string& message) {
  const Libgit2& lib = *impl_->lib;
  git_signature* raw_sig = nullptr;
  CAIRN_RETURN_IF_ERROR(impl_->Check(
      lib.signature_new(&raw_sig, name.c_str(), email.c_str(), time_seconds, 0), "make signature"));
  std::unique_ptr<git_signature, void (*)(git_signature*)> sig(raw_sig, lib.signature_free);
  CAIRN_ASSIGN_OR_RETURN(git_oid tree_oid, impl_->ParseOid(tree));
  git_tree* raw_tree = nullptr;
  CAIRN_RETURN_IF_ERROR(
      impl_->Check(lib.tree_lookup(&raw_tree, impl_->repo, &tree_oid), "find tree " + tree));
  std::unique_ptr<git_tree, void (*)(git_tree*)> tree_obj(raw_tree, lib.tree_free);
  std::vector<std::unique_ptr<git_commit, void (*)(git_commit*)>> owned;
  std::vector<const git_commit*> parent_ptrs;
  for (const auto& p : parents) {
    CAIRN_ASSIGN_OR_RETURN(git_oid poid, impl_->ParseOid(p));
    git_commit* c = nullptr;
    CAIRN_RETURN_IF_ERROR(
        impl_->Check(lib.commit_lookup(&c, impl_->repo, &poid), "find parent commit " + p));
    owned.emplace_back(c, lib.commit_free);
    parent_ptrs.push_back(c);
  }
  git_oid out;
  CAIRN_RETURN_IF_ERROR(impl_->Check(
      lib.commit_create(&out, impl_->repo, nullptr, sig.get(), sig.get(), "UTF-8", message.c_str(),
                        tree_obj.get(), parent_ptrs.size(), parent_ptrs.data()),
      "write commit"));
  return OidHex(lib, &out);
}

Result<std::string> GitRepository::ObjectType(const std::string& oid_hex) {
  const Libgit2& lib = *impl_->lib;
  CAIRN_ASSIGN_OR_RETURN(git_oid oid, impl_->ParseOid(oid_hex));
  CAIRN_ASSIGN_OR_RETURN(OdbPtr odb, impl_->Odb());
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  int rc = lib.odb_read_header(&size, &type, odb.get(), &oid);
  if (rc == GIT_ENOTFOUND) return Status::NotFound(fmt::format("no git object {}", oid_hex));
  CAIRN_RETURN_IF_ERROR(impl_->Check(rc, "read object header " + oid_hex));
  switch (type) {
    case GIT_OBJECT_COMMIT:
      return std::string("commit");
    case GIT_OBJECT_TREE:
      return std::string("tree");
    case GIT_OBJECT_BLOB:
      return std::string("blob");
    case GIT_OBJECT_TAG:
      return std::string("tag");
    default:
      return std::string("unknown");
  }
}

Result<GitCommitInfo> GitRepository::ReadCommit(const std::string& oid_hex) {
  const Libgit2& lib = *impl_->lib;
  CAIRN_ASSIGN_OR_RETURN(std::string type, ObjectType(oid_hex));
  if (type != "commit") {
    return Status::InvalidInput(fmt::format("git object {} is a {}, not a commit", oid_hex, type));
  }
  CAIRN_ASSIGN_OR_RETURN(git_oid oid, impl_->ParseOid(oid_hex));
  git_commit* raw = nullptr;
  CAIRN_RETURN_IF_ERROR(
      impl_->Check(lib.commit_lookup(&raw, impl_->repo, &oid), "read commit " + oid_hex));
  std::unique_ptr<git_commit, void (*)(git_commit*)> commit(raw, lib.commit_free);
  GitCommitInfo out;
  out.id = oid_hex;
  out.tree = OidHex(lib, lib.commit_tree_id(commit.get()));
  unsigned n = lib.commit_parentcount(commit.get());
  for (unsigned i = 0; i < n; ++i)
    out.parents.push_back(OidHex(lib, lib.commit_parent_id(commit.get(), i)));
  const char* message = lib.commit_message_raw(commit.get());
  out.message = message != nullptr ? message : "";
  return out;
}

Result<std::optional<std::string>> GitRepository::ReadRef(const std::string& name) {
  const Libgit2& lib = *impl_->lib;
  git_oid oid;
  int rc = lib.reference_name_to_id(&oid, impl_->repo, name.c_str());
  if (rc == GIT_ENOTFOUND) return std::optional<std::string>();
  CAIRN_RETURN_IF_ERROR(impl_->Check(rc, "read ref " + name));
  return std::optional<std::string>(OidHex(lib, &oid));
}

Result<std::map<std::string, std::string>> GitRepository::ListRefs(const std::string& glob) {
  const Libgit2& lib = *impl_->lib;
  git_reference_iterator* raw = nullptr;
  CAIRN_RETURN_IF_ERROR(impl_->Check(
      lib.reference_iterator_glob_new(&raw, impl_->repo, glob.c_str()), "list refs " + glob));
  std::unique_ptr<git_reference_iterator, void (*)(git_reference_iterator*)> it(
      raw, lib.reference_iterator_free);
  std::map<std::string, std::string> out;
  for (;;) {
    git_reference* ref = nullptr;
    int rc = lib.reference_next(&ref, it.get());
    if (rc == GIT_ITEROVER) break;
    CAIRN_RETURN_IF_ERROR(impl_->Check(rc, "list refs " + glob));
    const git_oid* target = lib.reference_target(ref);
    if (target != nullptr) out[lib.reference_name(ref)] = OidHex(lib, target);
    lib.reference_free(ref);
  }
  return out;
}

Status GitRepository::SetRef(const std::string& name, const std::string& oid_hex,
                             const std::optional<std::string>& expected_old,
                             const std::string& log_message) {
  const Libgit2& lib = *impl_->lib;
  CAIRN_ASSIGN_OR_RETURN(git_oid oid, impl_->ParseOid(oid_hex));
  int rc = 0;
  // Another process holding the ref's lock is moving it right now: wait for it (up to ~2 s),
  // then compare again — its move may or may not have been from the same value.
  for (int attempt = 0; attempt < 200; ++attempt) {
    git_reference* ref = nullptr;
    if (expected_old) {
      CAIRN_ASSIGN_OR_RETURN(git_oid old, impl_->ParseOid(*expected_old));
      rc = lib.reference_create_matching(&ref, impl_->repo, name.c_str(), &oid, 1, &old,
                                         log_message.c_str());
    } else {
      rc = lib.reference_create(&ref, impl_->repo, name.c_str(), &oid, 0, log_message.c_str());
    }
    if (ref != nullptr) lib.reference_free(ref);
    if (rc != GIT_ELOCKED) break;
    usleep(10000);
  }
  if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || (rc == GIT_ENOTFOUND && expected_old)) {
    return Status::Moved(fmt::format("ref {} in {} is not {}", name, impl_->shown,
                                     expected_old ? *expected_old : "absent"));
  }
  return impl_->Check(rc, "set ref " + name);
}

Status GitRepository::DeleteRef(const std::string& name) {
  const Libgit2& lib = *impl_->lib;
  int rc = lib.reference_remove(impl_->repo, name.c_str());
  if (rc == GIT_ENOTFOUND) return Status::OK();
  return impl_->Check(rc, "delete ref " + name);
}

// ---- the network ----

namespace {

// Sets the process-wide socket deadline for one network operation.
class DeadlineScope {
 public:
  explicit DeadlineScope(std::chrono::milliseconds timeout) {
    g_deadline_hit = false;
    g_deadline_ms = SteadyMs() + std::max<int64_t>(1, timeout.count());
  }
  ~DeadlineScope() { g_deadline_ms = 0; }
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;
};

// A failed network call as a Status: the deadline and every connection or "no repository"
// failure are kUnreachable; the rest kIO.
Status NetStatus(const Libgit2& lib, int rc, const std::string& what, const std::string& url,
                 std::chrono::milliseconds timeout) {
  const git_error* e = lib.error_last();
  std::string why = e != nullptr ? e->message : "unknown error";
  if (g_deadline_hit) {
    return Status::Unreachable(fmt::format("{}: {} gave no answer within {} s ({})", what, url,
                                           (timeout.count() + 999) / 1000, why));
  }
  bool network = e != nullptr && (e->klass == GIT_ERROR_NET || e->klass == GIT_ERROR_OS ||
                                  e->klass == GIT_ERROR_SSL || e->klass == GIT_ERROR_SSH);
  if (network || rc == GIT_ENOTFOUND ||
      why.find("could not find repository") != std::string::npos ||
      why.find("not a git repository") != std::string::npos ||
      why.find("failed to resolve path") != std::string::npos) {
    return Status::Unreachable(fmt::format("{}: {}: {}", what, url, why));
  }
  return Status::IO(fmt::format("{}: {}: {}", what, url, why));
}

struct RemoteDeleter {
  const Libgit2* lib;
  void operator()(git_remote* r) const {
    if (r != nullptr) lib->remote_free(r);
  }
};
using RemotePtr = std::unique_ptr<git_remote, RemoteDeleter>;

// A remote of `repo` for one operation, named by URL only (nothing is written to its config).
Result<RemotePtr> AnonymousRemote(const Libgit2& lib, git_repository* repo,
                                  const std::string& url) {
  git_remote* raw = nullptr;
  int rc = lib.remote_create_anonymous(&raw, repo, url.c_str());
  if (rc < 0) return GitStatus(lib, rc, "use remote " + url);
  return RemotePtr(raw, RemoteDeleter{&lib});
}

int OnSideband(const char* str, int len, void* payload) {
  auto* options = static_cast<const GitTransferOptions*>(payload);
  if (options->progress && len > 0)
    options->progress(std::string_view(str, static_cast<size_t>(len)));
  return 0;
}

// Stops a fetch past its byte limit (the pack a server sends can be of any size).
int OnTransfer(const git_indexer_progress* stats, void* payload) {
  auto* options = static_cast<const GitTransferOptions*>(payload);
  if (options->max_bytes != 0 && stats->received_bytes > options->max_bytes) {
    g_error_set_str(GIT_ERROR_NET,
                    fmt::format("the server sent more than {} bytes, the limit of one fetch",
                                options->max_bytes)
                        .c_str());
    return -1;
  }
  return 0;
}

// libgit2's local transport lists every ref of the target repository as it connects; a
// concurrent push deleting its temporary incoming ref (GitRepository::Push) in between
// fails that listing ("reference 'refs/cairn/incoming/…' not found") before anything was
// transferred. The operation is then made again, up to kListingAttempts times (seen once
// in the 160 pushes of TeamTest.RacingPromotersOverFileUrlsHaveExactlyOneWinnerPerRound).
constexpr int kListingAttempts = 5;
bool IncomingRefVanished(const Libgit2& lib, int rc) {
  if (rc >= 0) return false;
  const git_error* e = lib.error_last();
  if (e == nullptr || e->message == nullptr) return false;
  std::string_view why = e->message;
  return why.find("refs/cairn/incoming/") != std::string_view::npos &&
         why.find("not found") != std::string_view::npos;
}
void PauseBeforeAttempt(int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt));
}

bool IsLocalUrl(const std::string& url) {
  return url.starts_with("file://") || url.starts_with("/");
}

std::string LocalPath(const std::string& url) {
  return url.starts_with("file://") ? url.substr(7) : url;
}

}  // namespace

Result<std::vector<GitRemoteRef>> GitRepository::ListRemote(const std::string& url,
                                                            const std::string& prefix,
                                                            const GitTransferOptions& options) {
  const Libgit2& lib = *impl_->lib;
  DeadlineScope deadline(options.timeout);
  RemotePtr remote(nullptr, RemoteDeleter{&lib});
  for (int attempt = 1;; ++attempt) {
    CAIRN_ASSIGN_OR_RETURN(remote, AnonymousRemote(lib, impl_->repo, url));
    git_remote_callbacks callbacks;
    lib.remote_init_callbacks(&callbacks, GIT_REMOTE_CALLBACKS_VERSION);
    int rc = lib.remote_connect(remote.get(), GIT_DIRECTION_FETCH, &callbacks, nullptr, nullptr);
    if (IncomingRefVanished(lib, rc) && attempt < kListingAttempts) {
      PauseBeforeAttempt(attempt);
      continue;
    }
    if (rc < 0) return NetStatus(lib, rc, "connect", url, options.timeout);
    break;
  }
  const git_remote_head** heads = nullptr;
  size_t count = 0;
  int rc = lib.remote_ls(&heads, &count, remote.get());
  if (rc < 0) return NetStatus(lib, rc, "list refs", url, options.timeout);
  std::vector<GitRemoteRef> out;
  for (size_t i = 0; i < count; ++i) {
    std::string name = heads[i]->name;
    if (name.starts_with(prefix)) out.push_back({name, OidHex(lib, &heads[i]->oid)});
  }
  lib.remote_disconnect(remote.get());
  return out;
}

Status GitRepository::Fetch(const std::string& url, const std::vector<std::string>& refspecs,
                            const GitTransferOptions& options) {
  const Libgit2& lib = *impl_->lib;
  DeadlineScope deadline(options.timeout);
  CAIRN_ASSIGN_OR_RETURN(RemotePtr remote, AnonymousRemote(lib, impl_->repo, url));
  git_fetch_options opts;
  lib.fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
  opts.callbacks.sideband_progress = OnSideband;
  opts.callbacks.transfer_progress = OnTransfer;
  opts.callbacks.payload = const_cast<GitTransferOptions*>(&options);
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  opts.update_fetchhead = 0;
  opts.prune = GIT_FETCH_NO_PRUNE;
  std::vector<char*> specs;
  for (const auto& r : refspecs) specs.push_back(const_cast<char*>(r.c_str()));
  git_strarray array{specs.data(), specs.size()};
  int rc = lib.remote_fetch(remote.get(), &array, &opts, "cairn fetch");
  for (int attempt = 2; IncomingRefVanished(lib, rc) && attempt <= kListingAttempts; ++attempt) {
    PauseBeforeAttempt(attempt);
    CAIRN_ASSIGN_OR_RETURN(remote, AnonymousRemote(lib, impl_->repo, url));
    rc = lib.remote_fetch(remote.get(), &array, &opts, "cairn fetch");
  }
  if (rc < 0) return NetStatus(lib, rc, "fetch", url, options.timeout);
  return Status::OK();
}

namespace {
struct PushState {
  const GitTransferOptions* options = nullptr;
  const std::vector<GitPushUpdate>* updates = nullptr;
  const Libgit2* lib = nullptr;
  std::map<std::string, std::string> statuses;  // dst ref -> server's reason ("" accepted)
  std::vector<GitPushOutcome> lost;             // leases that failed in negotiation
};

int OnPushSideband(const char* str, int len, void* payload) {
  auto* st = static_cast<PushState*>(payload);
  return OnSideband(str, len, const_cast<GitTransferOptions*>(st->options));
}

int OnPushUpdate(const char* refname, const char* status, void* payload) {
  auto* st = static_cast<PushState*>(payload);
  st->statuses[refname] = status != nullptr ? status : "";
  return 0;
}

// The lease: every ref must be on the server what the update expects, as the server
// advertised it to this very push.
int OnNegotiation(const git_push_update** updates, size_t len, void* payload) {
  auto* st = static_cast<PushState*>(payload);
  for (size_t i = 0; i < len; ++i) {
    std::string dst = updates[i]->dst_refname;
    std::string current = OidHex(*st->lib, &updates[i]->src);
    bool absent = current == std::string(GIT_OID_HEXSZ, '0');
    for (const auto& u : *st->updates) {
      if (u.ref != dst) continue;
      bool ok = u.expected_old ? (!absent && current == *u.expected_old) : absent;
      if (!ok) {
        GitPushOutcome o;
        o.ref = dst;
        o.lease_lost = true;
        o.current = absent ? "" : current;
        st->lost.push_back(std::move(o));
      }
    }
  }
  return st->lost.empty() ? 0 : GIT_EUSER;
}
}  // namespace

Result<std::vector<GitPushOutcome>> GitRepository::Push(const std::string& url,
                                                        const std::vector<GitPushUpdate>& updates,
                                                        const GitTransferOptions& options) {
  const Libgit2& lib = *impl_->lib;
  std::vector<GitPushOutcome> out;
  if (updates.empty()) return out;
  const bool deleting = std::any_of(updates.begin(), updates.end(),
                                    [](const GitPushUpdate& u) { return u.oid.empty(); });
  if (deleting && updates.size() != 1) {
    return Status::Internal("a push deletes one ref, alone");
  }
  // A local path or file:// uses libgit2's local transport, which overwrites refs without a
  // compare-and-swap: the objects go to unique incoming refs, and each ref is then moved
  // with a compare-and-swap under the ref's lock in the repository itself.
  const bool local = IsLocalUrl(url);
  if (deleting && local) {
    auto target = GitRepository::Open(LocalPath(url));
    if (!target.ok()) {
      return Status::Unreachable(fmt::format("open {}: {}", url, target.status().message()));
    }
    GitPushOutcome o;
    o.ref = updates[0].ref;
    Status s = (*target)->DeleteRef(updates[0].ref);
    o.accepted = s.ok();
    o.message = s.message();
    out.push_back(std::move(o));
    return out;
  }
  std::string tag = fmt::format("{}-{}", getpid(), SteadyMs());
  std::vector<std::string> local_refs;
  std::vector<std::string> dsts;
  for (size_t i = 0; i < updates.size(); ++i) {
    std::string ref = fmt::format("refs/cairn-push/{}/{}", tag, i);
    if (!updates[i].oid.empty()) {
      CAIRN_RETURN_IF_ERROR(SetRef(ref, updates[i].oid, std::nullopt, "cairn push"));
    }
    local_refs.push_back(updates[i].oid.empty() ? std::string() : ref);
    dsts.push_back(local ? fmt::format("refs/cairn/incoming/{}/{}", tag, i) : updates[i].ref);
  }
  auto cleanup = [&] {
    for (const auto& r : local_refs) {
      if (!r.empty()) DeleteRef(r).PermitUnchecked();
    }
  };
  PushState st;
  st.options = &options;
  st.updates = &updates;
  st.lib = &lib;
  int rc = 0;
  for (int attempt = 1;; ++attempt) {  // IncomingRefVanished: made again
    st.statuses.clear();
    st.lost.clear();
    DeadlineScope deadline(options.timeout);
    auto remote = AnonymousRemote(lib, impl_->repo, url);
    if (!remote.ok()) {
      cleanup();
      return remote.status();
    }
    git_push_options opts;
    lib.push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
    opts.callbacks.sideband_progress = OnPushSideband;
    opts.callbacks.push_update_reference = OnPushUpdate;
    if (!local) opts.callbacks.push_negotiation = OnNegotiation;
    opts.callbacks.payload = &st;
    std::vector<std::string> specs;
    for (size_t i = 0; i < updates.size(); ++i) specs.push_back(local_refs[i] + ":" + dsts[i]);
    std::vector<char*> ptrs;
    for (auto& s : specs) ptrs.push_back(s.data());
    git_strarray array{ptrs.data(), ptrs.size()};
    rc = lib.remote_push(remote->get(), &array, &opts);
    if (local && IncomingRefVanished(lib, rc) && st.statuses.empty() &&
        attempt < kListingAttempts) {
      PauseBeforeAttempt(attempt);
      continue;
    }
    if (rc < 0 && !st.lost.empty()) {
      cleanup();
      return st.lost;
    }
    if (rc == GIT_ENONFASTFORWARD) {
      // The server holds a tip this repository has never seen: someone moved it.
      cleanup();
      for (const auto& u : updates) {
        GitPushOutcome o;
        o.ref = u.ref;
        o.lease_lost = true;
        out.push_back(std::move(o));
      }
      return out;
    }
    if (rc < 0) {
      Status s = NetStatus(lib, rc, "push", url, options.timeout);
      cleanup();
      return s;
    }
    break;
  }
  cleanup();
  for (size_t i = 0; i < updates.size(); ++i) {
    GitPushOutcome o;
    o.ref = updates[i].ref;
    auto it = st.statuses.find(dsts[i]);
    if (it == st.statuses.end()) {
      o.message = "the server did not report on this ref";
    } else if (!it->second.empty()) {
      o.message = it->second;
    } else {
      o.accepted = true;
    }
    out.push_back(std::move(o));
  }
  if (!local) return out;
  // Move each ref in the repository itself, under its lock.
  auto target = GitRepository::Open(LocalPath(url));
  if (!target.ok()) {
    return Status::Unreachable(fmt::format("open {}: {}", url, target.status().message()));
  }
  for (size_t i = 0; i < updates.size(); ++i) {
    if (!out[i].accepted) continue;
    Status s =
        (*target)->SetRef(updates[i].ref, updates[i].oid, updates[i].expected_old, "cairn push");
    if (s.code() == Code::kMoved) {
      out[i].accepted = false;
      out[i].lease_lost = true;
      auto now = (*target)->ReadRef(updates[i].ref);
      if (now.ok() && *now) out[i].current = **now;
    } else if (!s.ok()) {
      out[i].accepted = false;
      out[i].message = s.message();
    }
    (*target)->DeleteRef(dsts[i]).PermitUnchecked();
  }
  return out;
}

}  // namespace cairn
