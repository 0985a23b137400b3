// fsck: a full integrity check of a store. Verifies the checksums of every database file
// (the logs, MANIFEST and CURRENT are checked by every open), re-hashes every object (chunks and
// whole objects), checks that every snapshot's manifest hashes to its id and follows the schema,
// and that every object a snapshot references is present and intact. Read-only.
#pragma once

#include <string>
#include <vector>

#include "cairn/progress.h"
#include "cairn/store.h"

namespace cairn {

struct FsckProblem {
  std::string what;     // "object sha256:...", "snapshot 1a2b..."
  std::string message;  // what is wrong
};

struct FsckReport {
  uint64_t objects = 0;
  uint64_t snapshots = 0;
  uint64_t bytes_checked = 0;
  uint64_t unreferenced_objects = 0;  // not an error: `gc` removes them
  std::vector<FsckProblem> problems;
  bool ok() const { return problems.empty(); }
};

// Errors in the returned Status mean the check itself could not run (I/O); integrity
// problems are in the report.
Result<FsckReport> Fsck(const Store& store, ProgressSink* progress = nullptr);

}  // namespace cairn
