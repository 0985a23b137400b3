// Creating snapshots from a release directory.
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

struct CreateSnapshotOptions {
  std::string dir;            // the release directory
  std::string message;        // required, non-empty
  std::string app;            // overrides snapshot.json's "app" when not empty
  std::string author;         // who creates it (user@host, CAIRN_ACTOR, --actor)
  Json source = Json();       // null: {"type":"directory","path":<absolute dir>}
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

// Validates and stores `options.dir`. On validation failure returns kInvalidInput and
// fills *problems (every problem of the directory); the store is unchanged.
Result<CreateSnapshotResult> CreateSnapshot(Store& store, const CreateSnapshotOptions& options,
                                            std::vector<Problem>* problems);

// Validates a release directory without a store (used by tests and `--dry-run`).
Status ValidateRelease(const std::string& dir, std::vector<Problem>* problems);

// Rules on names: an app name is [a-z0-9][a-z0-9._-]{0,63}.
bool IsValidAppName(std::string_view app);

}  // namespace cairn
