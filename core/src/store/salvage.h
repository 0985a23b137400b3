// Salvage: how `recover` copies a store whose table or blob files are damaged
// (store/recover.cc decides when). RocksDB's merged view of a table stops at the first
// damaged block of *any* file, so records are found file by file instead: each table file
// is read on its own up to its damage and back from its end, what the log replayed is read
// from memory, and every key found is then looked up through the whole database (which
// picks the newest version of a key exactly) — or, when that lookup crosses the damage,
// taken from the damaged file's own readable copy. Immutable records (objects, snapshots,
// events, signatures, attestations) are copied; every derived record (pointers, time index,
// live history, trust and policy records, counters) is rebuilt from what was copied, so the
// copy is consistent by construction:
//   - an object is kept only if its bytes verify, a snapshot only if every object it names
//     is kept, a signature or attestation only with its snapshot (and report);
//   - each hash chain keeps its intact prefix: it is cut at the first event that is
//     missing, altered, or names a snapshot, trust event or policy event that was not kept.
// The stat cache (host-local, droppable) is not copied. Single-threaded; `to` must be a new
// store opened for a bulk load (nothing else uses it).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cairn/status.h"
#include "cairn/store.h"
#include "port/rocks.h"
#include "store/schema.h"

namespace cairn {

// Called once for each record or file that is lost: what (as `recover` lists it) and why.
using LostFn = std::function<void(std::string what, std::string detail)>;

// What `recover` calls the record `key` of `table` when it lists it ("prod event #4",
// "snapshot 1a2b…", "trust event #2"); nullopt for records that have no name of their own
// (indexes, pointers and other derived records).
std::optional<std::string> RecordName(Table table, std::string_view key);

// Copies what can be salvaged of `from` (opened read-only) into `to`; `*records` counts the
// records written. `damaged` are the files Db::VerifyFiles found damaged (each table file
// is checked again here; every damaged one is listed). Errors are those of the new store
// (I/O); damage in `from` is reported through `lost`, never as an error.
Status Salvage(const Db& from, const std::vector<DamagedFile>& damaged, Store& to,
               const LostFn& lost, uint64_t* records);

}  // namespace cairn
