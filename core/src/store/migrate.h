// Upgrading a format-1 store to format 2 (docs/format.md, "Upgrading from format 1").
//
// Format 2 is built beside format 1, in `.db2-tmp-<pid>/`, from a read-only open of `db/`;
// it is checked record by record against the source, fsynced, and switched in with one
// rename to `db2/`. Format 1 is then renamed to `db.format1/` (kept, never read again), so
// that neither an old cairn nor this one can take it for the live store. A SIGKILL at any
// moment leaves format 1 intact (no `db2/`) or format 2 complete. Concurrent upgraders and
// format-1 writers are excluded by holding the lock RocksDB itself uses, `db/LOCK`.
#pragma once

#include <chrono>
#include <string>

#include "cairn/status.h"
#include "port/env.h"

namespace cairn {

struct UpgradeReport {
  bool upgraded = false;  // false: another process had done it already
  uint64_t records = 0;   // records copied (every table)
  std::string kept;       // where the format-1 database now is
};

// Upgrades the store at `store_path` (a store directory holding `db/`). Waits up to
// `lock_timeout` for a format-1 writer (kBusy after that). kCorruption when the copy does
// not read back as written (nothing switched). Idempotent.
Result<UpgradeReport> UpgradeFormat1Store(const std::string& store_path,
                                          std::chrono::milliseconds lock_timeout, Env& env);

// Finishes an upgrade a crash interrupted between its two renames: when both `db2/` and a
// format-1 `db/` exist, renames `db/` to `db.format1/` and returns that path ("" when
// there was nothing to do). Call with db2's writer lock held.
Result<std::string> RetireFormat1Leftover(const std::string& store_path, Env& env);

}  // namespace cairn
