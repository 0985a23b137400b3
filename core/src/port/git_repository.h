// Reading commits and trees straight from a git repository's object database, through
// libgit2 (loaded on first use; core/src/port/libgit2_adapter.cc is the one adapter): no
// checkout, no index, no working tree. What cairn does with the entries — which are
// allowed in a release — is the caller's business; this layer only reports them exactly.
//
// A GitRepository is used from one thread at a time; separate instances may be used from
// separate threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
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

 private:
  struct Impl;
  explicit GitRepository(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn
