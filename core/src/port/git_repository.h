// Reading commits and trees straight from a git repository's object database, through
// libgit2 (loaded on first use; core/src/port/libgit2_adapter.cc is the one adapter): no
// checkout, no index, no working tree. What cairn does with the entries — which are
// allowed in a release — is the caller's business; this layer only reports them exactly.
//
// A GitRepository is used from one thread at a time; separate instances may be used from
// separate threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "port/sha1.h"

namespace cairn {

// What a tree entry is, from its mode.
enum class GitEntryType {
  kFile,        // 100644
  kExecutable,  // 100755
  kTree,        // 040000
  kSymlink,     // 120000
  kGitlink,     // 160000: a submodule's commit
  kOther,       // any other mode a hand-made tree can hold
};
const char* GitEntryTypeName(GitEntryType type);

struct GitTreeEntry {
  std::string path;    // '/'-separated, relative to the tree listed; names exactly as stored
  std::string name;    // the last component, exactly as stored (a hand-made tree can hold any
                       // bytes but NUL here, '/' included)
  uint32_t depth = 0;  // 0 for entries of the tree listed, 1 for their children, ...
  uint32_t mode = 0;   // as stored (raw)
  GitEntryType type = GitEntryType::kOther;
  std::string oid;    // 40 hex digits
  uint64_t size = 0;  // files and executables: from the object header
  // A tree at GitTreeLimits::max_depth: listed, but its entries are not.
  bool pruned = false;
};

// A blob's bytes, read in pieces. A loose object is streamed (inflated as it is read); a
// packed object is read whole by libgit2 1.5 (it has no streaming read of packs) and then
// handed out in pieces, so it costs its size in memory while it is open. Either way the
// bytes are hashed as they are read (SHA-1, as git names objects) and checked against the
// blob id when the last byte is read: a damaged object fails with kCorruption.
class GitBlobReader {
 public:
  virtual ~GitBlobReader();
  uint64_t size() const { return size_; }
  // Whether the bytes come from a stream (a loose object) rather than a whole read.
  bool streamed() const { return streamed_; }
  // Reads up to `len` bytes into `buf`; returns how many, 0 at the end.
  Result<size_t> Read(char* buf, size_t len);

 protected:
  GitBlobReader(uint64_t size, bool streamed, std::string oid);
  // Up to `len` bytes (at most what is left) from the object; short only at its end.
  virtual Result<size_t> ReadSome(char* buf, size_t len) = 0;
  const std::string& oid() const { return oid_; }

 private:
  uint64_t size_;
  bool streamed_;
  std::string oid_;
  uint64_t offset_ = 0;
  std::unique_ptr<Sha1> sha1_;
};

struct GitCommit {
  std::string id;    // 40 hex digits
  std::string tree;  // the commit's root tree, 40 hex digits
  // The full name of the reference REV went through ("refs/heads/main", "refs/tags/v1"); ""
  // when REV named an object directly (an id, `HEAD~2`).
  std::string ref;
  // The commit carries a signature header (gpgsig / gpgsig-sha256). Not verified.
  bool has_signature = false;
};

struct GitTreeLimits {
  uint32_t max_depth = 32;         // trees at this depth are listed, not descended (pruned)
  uint64_t max_entries = 1000000;  // entries in all
};

// One entry of a tree to write: a '/'-separated path (subtrees are made as needed), the
// object and its mode (0100644 file, 0040000 is never given: trees come from the paths).
struct GitTreeWrite {
  std::string path;
  std::string oid;
  uint32_t mode = 0100644;
};

// A commit as read back: its tree, its parents in order, and its raw message.
struct GitCommitInfo {
  std::string id;
  std::string tree;
  std::vector<std::string> parents;
  std::string message;
};

// A ref a remote advertises.
struct GitRemoteRef {
  std::string name;
  std::string oid;
};

// How long a network operation may take, and where its progress goes. Every socket cairn
// opens for git:// (and, later, http://) reads and writes with this deadline (libgit2 1.5
// has no network timeouts of its own): a server that accepts and never answers fails the
// operation with kUnreachable once it passes.
struct GitTransferOptions {
  std::chrono::milliseconds timeout{30000};
  // Lines the server sends (sideband: hook output, "Counting objects"), and cairn's own.
  std::function<void(std::string_view)> progress;
  // A fetch that receives more than this many bytes is stopped (0: no limit).
  uint64_t max_bytes = 0;
};

// One ref update of a push: move `ref` to `oid`, but only if it is now `expected_old` on the
// server (nullopt: only if the ref does not exist yet) — a lease.
struct GitPushUpdate {
  std::string ref;
  std::string oid;
  std::optional<std::string> expected_old;
};

// What the server said about one ref of a push: accepted, or refused with its reason.
struct GitPushOutcome {
  std::string ref;
  bool accepted = false;
  bool lease_lost = false;  // the ref was not what the lease expected: nothing was sent
  std::string current;      // with lease_lost: what the ref is on the server ("": absent)
  std::string message;      // the server's reason, when refused
};

class GitRepository {
 public:
  // Opens the repository at exactly `path` (a working tree's top, its .git, or a bare
  // repository; parent directories are not searched). kNotFound when it is not a
  // repository; kIO when libgit2 cannot be loaded.
  static Result<std::unique_ptr<GitRepository>> Open(const std::string& path);
  ~GitRepository();
  GitRepository(const GitRepository&) = delete;
  GitRepository& operator=(const GitRepository&) = delete;

  // The repository's git directory, absolute (libgit2's git_repository_path).
  const std::string& git_dir() const;

  // Resolves REV (a full or short id, a branch, a tag — annotated tags are peeled —, any
  // git revision expression) once, to a commit. kNotFound: no such revision; kUsage: REV is
  // ambiguous or names something that is not a commit.
  Result<GitCommit> ResolveCommit(const std::string& rev);

  // Every entry of the commit's tree below `subdir` ("" = the root tree), parents before
  // their children, each directory's entries in git's order. kNotFound when `subdir` does
  // not exist; kInvalidInput when it is not a tree, or holds more than max_entries.
  Result<std::vector<GitTreeEntry>> ListTree(const GitCommit& commit, const std::string& subdir,
                                             const GitTreeLimits& limits = {});

  // The bytes of blob `oid`. The size is read from the object header first: a blob larger
  // than `limit` is refused with kInvalidInput before anything is read (libgit2 reads a
  // packed blob whole into memory).
  Result<std::string> ReadBlob(const std::string& oid, uint64_t limit);

  // Opens blob `oid` for reading in pieces, refused like ReadBlob above `limit`. The reader
  // must not outlive this repository.
  Result<std::unique_ptr<GitBlobReader>> OpenBlob(const std::string& oid, uint64_t limit);

  // ---- writing: the transport repository of team mode (core/src/remote/) ----

  // Opens the bare repository at `path`, creating it (and its parents) when missing.
  static Result<std::unique_ptr<GitRepository>> OpenOrInitBare(const std::string& path);
  // Stores `bytes` as a blob; its id.
  Result<std::string> WriteBlob(std::string_view bytes);
  // Writes the tree holding `entries` (and the subtrees their paths need); its id. Paths
  // must be unique and none may be a prefix directory of a file (kInternal otherwise).
  Result<std::string> WriteTree(const std::vector<GitTreeWrite>& entries);
  // Writes a commit. Author and committer are both `name <email>` at `time_seconds` UTC, so
  // the same inputs always give the same commit id.
  Result<std::string> WriteCommit(const std::string& tree, const std::vector<std::string>& parents,
                                  const std::string& name, const std::string& email,
                                  int64_t time_seconds, const std::string& message);
  // Reads commit `oid`. kNotFound when absent; kInvalidInput when it is not a commit.
  Result<GitCommitInfo> ReadCommit(const std::string& oid);
  // The type of object `oid` ("commit", "tree", "blob", "tag"); kNotFound when absent.
  Result<std::string> ObjectType(const std::string& oid);
  // The object a ref points at; nullopt when there is no such ref.
  Result<std::optional<std::string>> ReadRef(const std::string& name);
  // Every ref whose name matches the glob (e.g. "refs/cairn/*"), name -> object id.
  Result<std::map<std::string, std::string>> ListRefs(const std::string& glob);
  // Sets `name` to `oid` under the ref's lock, only if it is now `expected_old` (nullopt:
  // only if it does not exist): a compare-and-swap. kMoved when the ref is not as expected.
  Status SetRef(const std::string& name, const std::string& oid,
                const std::optional<std::string>& expected_old, const std::string& log_message);
  // Removes ref `name` if it exists.
  Status DeleteRef(const std::string& name);

  // ---- the network ----

  // The refs `url` advertises under `prefix`. kUnreachable: no connection, or the deadline
  // passed; kNotFound: the URL names no repository.
  Result<std::vector<GitRemoteRef>> ListRemote(const std::string& url, const std::string& prefix,
                                               const GitTransferOptions& options);
  // Fetches `refspecs` from `url` into this repository (a "+" refspec takes rewritten refs).
  Status Fetch(const std::string& url, const std::vector<std::string>& refspecs,
               const GitTransferOptions& options);
  // Pushes local refs to `url`: each update's `ref` must name a local ref holding `oid`,
  // pushed to the same name on the server. Leases are checked against what the server
  // advertises before anything is sent: when one fails, nothing is sent and that outcome
  // has lease_lost. A server that refuses a ref (a hook, a hidden ref, a lost race inside
  // the server) is reported in the outcomes, with its message — libgit2 returns success for
  // those. kUnreachable: no connection or deadline passed.
  Result<std::vector<GitPushOutcome>> Push(const std::string& url,
                                           const std::vector<GitPushUpdate>& updates,
                                           const GitTransferOptions& options);

 private:
  struct Impl;
  explicit GitRepository(std::unique_ptr<Impl> impl);
  // Opens `path`; a missing repository is created bare with `create_bare`, else kNotFound.
  static Result<std::unique_ptr<GitRepository>> OpenAt(const std::string& path, bool create_bare);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn
