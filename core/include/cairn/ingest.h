// Creating snapshots from a release directory, or from a commit of a git repository.
//
// Atomicity and durability: validation reads the whole tree first and writes nothing if
// any problem is found. Objects are then written (without the write-ahead log) and
// flushed to fsynced table and blob files; the snapshot record, its indexes and the stat
// cache follow last in one synced write batch. A crash at any point leaves at most
// unreferenced objects (removed by gc), never a snapshot with a missing object.
// Requires a Store opened read-write.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cairn/progress.h"
#include "cairn/signature.h"
#include "cairn/signing.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"
#include "cairn/validate.h"

namespace cairn {

// A release read from a commit's tree in a local git repository's object database (no
// checkout, index or working tree is used).
struct GitReleaseSource {
  std::string repo;    // the repository: a working tree's top, its .git, or a bare repository
  std::string rev;     // a commit id, branch, tag or any git revision; resolved once
  std::string subdir;  // the release root inside the tree; "" = the whole tree
};

// Files of a git release are limited to this size each: libgit2 reads a packed blob whole
// into memory (docs/cli.md, "Limits").
inline constexpr uint64_t kMaxGitBlobBytes = 512ull << 20;

struct CreateSnapshotOptions {
  std::string dir;                      // the release directory (when `git` is not set)
  std::optional<GitReleaseSource> git;  // a git release instead of a directory
  std::string message;                  // required, non-empty
  std::string app;                      // overrides snapshot.json's "app" when not empty
  std::string author;                   // who creates it (user@host, CAIRN_ACTOR, --actor)
  // null: {"type":"directory","path":<absolute dir>} or, for a git release, {"type":"git",
  // "repo":<as given>,"path":<its git directory>,"commit":<id>,"ref":<full ref or null>,
  // "subdir":<path or "">,"signed":<has a signature header; not verified>}
  Json source = Json();
  int compression_level = 3;  // zstd level for objects
  unsigned threads = 0;       // 0: one per core
  bool use_stat_cache = true;
  ProgressSink* progress = nullptr;
  // When set (`snapshot create --sign KEY`), the snapshot's signature by this key is written
  // in the same synced batch as the snapshot. A revoked key is refused (kConflict) before
  // anything is written.
  const PrivateKey* sign_with = nullptr;
};

struct CreateSnapshotResult {
  Snapshot snapshot;
  uint64_t files = 0;
  uint64_t files_hashed = 0;                   // read and hashed (not recognised by the stat cache)
  uint64_t objects_written = 0;                // new objects (chunks not counted)
  uint64_t bytes_written = 0;                  // stored bytes of new object records
  std::vector<SnapshotId> same_content;        // earlier snapshots with identical components
  std::optional<SnapshotSignature> signature;  // with `sign_with`
};

// Validates and stores `options.dir` (or `options.git`). On validation failure returns
// kInvalidInput and fills *problems (every problem of the release, named by its path in
// the directory or in the commit's tree); the store is unchanged.
Result<CreateSnapshotResult> CreateSnapshot(Store& store, const CreateSnapshotOptions& options,
                                            std::vector<Problem>* problems);

// Validates a release directory without a store (used by tests and `cairn validate`).
Status ValidateRelease(const std::string& dir, std::vector<Problem>* problems);
// Validates the release `options` names (a directory or a git commit) without a store.
Status ValidateRelease(const CreateSnapshotOptions& options, std::vector<Problem>* problems);

// Rules on names: an app name is [a-z0-9][a-z0-9._-]{0,63}.
bool IsValidAppName(std::string_view app);

}  // namespace cairn
