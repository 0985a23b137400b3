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
  std::string path;   // '/'-separated, relative to the tree listed; names exactly as stored
  uint32_t mode = 0;  // as stored (raw)
  GitEntryType type = GitEntryType::kOther;
  std::string oid;    // 40 hex digits
  uint64_t size = 0;  // blobs (files, executables, symlinks): from the object header
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
  uint32_t max_depth = 32;         // directories below the tree listed
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
  // not exist; kInvalidInput when it is not a tree, or the tree exceeds `limits`.
  Result<std::vector<GitTreeEntry>> ListTree(const GitCommit& commit, const std::string& subdir,
                                             const GitTreeLimits& limits = {});

  // The bytes of blob `oid`. The size is read from the object header first: a blob larger
  // than `limit` is refused with kInvalidInput before anything is read (libgit2 reads a
  // packed blob whole into memory).
  Result<std::string> ReadBlob(const std::string& oid, uint64_t limit);

 private:
  struct Impl;
  explicit GitRepository(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn
