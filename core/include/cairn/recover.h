// recover: salvage a damaged store into a new one. Everything still readable is copied,
// checked, and written to a fresh store; the damaged store is only ever read. What can be
// proven lost is listed: acknowledged writes beyond the intact part of the log, records
// that are readable only beyond a damaged log record (so their order with what was lost is
// unknown), unreadable table ranges, and events that name snapshots the copy lacks.
// Not thread-safe with respect to `into` (nothing else may use it while this runs).
#pragma once

#include <string>
#include <vector>

#include "cairn/status.h"

namespace cairn {

struct RecoveredLoss {
  std::string what;    // "prod event #4", "snapshot 1a2b…", "table events", "writes"
  std::string detail;  // why it is lost, or what it was
};

struct RecoverReport {
  std::string from;           // the damaged store
  std::string into;           // the new store
  uint64_t records = 0;       // records copied into the new store
  uint64_t acknowledged = 0;  // the last acknowledged write (0: unknown)
  uint64_t reached = 0;       // the last write the intact log holds
  std::vector<RecoveredLoss> lost;
  bool complete() const { return lost.empty(); }
};

// Copies what is readable of the store at `from` (a store directory) into a new store
// created at `into` (a store directory, created like Store::Init: it must not exist or
// be empty). The new store passes fsck and audit verify. kNotFound when `from` is not a
// store; kConflict when `into` exists and is not empty; kCorruption when nothing of `from`
// can be read (then nothing is created).
Result<RecoverReport> Recover(const std::string& from, const std::string& into);

}  // namespace cairn
