// gc: removes what nothing needs — snapshots that were never live, carry no valid evidence by
// a key trusted now and arrived long enough ago — with their objects, records and stat-cache
// entries, and reclaims the space of their blob files. What is kept, and why, is decided by
// one function (GcRoots in core/src/store/gc.cc); docs/cli.md lists the rules.
//
// gc runs on a read-write store (it holds the writer lock for its whole run, so no snapshot
// create, promotion or pull runs beside it) or, for a dry run, on a read-only one. A crash at
// any moment leaves every remaining snapshot complete: records go first in one synced batch,
// then objects, chunk lists before the chunks they name. What a crash leaves behind is
// unreferenced, and the next gc removes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cairn/progress.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"

namespace cairn {

// Snapshots that arrived in the store less than this long ago are kept (`--grace`).
inline constexpr int64_t kDefaultGcGraceMicros = int64_t{14} * 24 * 3600 * 1000000;

struct GcOptions {
  // Keep every snapshot that arrived (was created here, or pulled) within this long before
  // now. 0 keeps none for being recent.
  int64_t grace_micros = kDefaultGcGraceMicros;
  // Keep every snapshot a serving host reported loading within this long before now.
  int64_t receipt_window_micros = int64_t{24} * 3600 * 1000000;
  // Decide and report, delete nothing (works on a read-only store).
  bool dry_run = false;
  ProgressSink* progress = nullptr;
};

// Why a snapshot is kept. A snapshot kept for several reasons is counted under the first.
enum class GcKeepReason {
  kLive,      // live now, or ever live, on some deployment
  kEvidence,  // a valid signature or attestation by a key trusted now
  kRecent,    // arrived within the grace period (or arrival unknown: see below)
  kAppHead,   // the newest snapshot of its app: the parent of the next one
  kServed,    // a host reported loading it within the receipt window
};
inline constexpr size_t kGcKeepReasons = 5;
const char* GcKeepReasonName(GcKeepReason reason);

struct GcSnapshot {
  SnapshotId id;
  std::string app;
  std::string message;
  int64_t created_micros = 0;
  std::optional<int64_t> arrived_micros;  // nullopt: recorded before arrival times were
};

struct GcReport {
  bool dry_run = false;
  std::vector<GcSnapshot> deleted;  // snapshots deleted (or, in a dry run, to delete)
  uint64_t kept = 0;                // snapshots kept
  uint64_t kept_by[kGcKeepReasons] = {};
  uint64_t objects = 0;               // objects deleted, chunks included
  uint64_t object_bytes = 0;          // their stored bytes (compressed, as on disk)
  uint64_t unreferenced_objects = 0;  // of `objects`, those no snapshot had named (left by
                                      // interrupted creates and pulls)
  uint64_t signatures = 0;            // records of deleted snapshots
  uint64_t attestations = 0;
  uint64_t stat_cache_entries = 0;  // entries naming deleted or missing objects
  // Snapshot log entries written before arrival times were recorded: gc gave them one (now),
  // so their grace period starts with this run (a dry run only counts them).
  uint64_t arrival_recorded = 0;
  uint64_t disk_bytes_before = 0;  // the database directory, before and after (equal in a
  uint64_t disk_bytes_after = 0;   // dry run)
};

// Runs gc. A read-only store is accepted only for a dry run (kUsage otherwise).
// Errors: kCorruption when a record it must read to decide is damaged (nothing is deleted
// then), kIO (a full disk too), kBusy never (the caller's open took the lock).
Result<GcReport> CollectGarbage(Store& store, const GcOptions& options);

}  // namespace cairn
