// Records that index snapshots (docs/format.md): the snapshot log and the content index.
//   snapshot_log:  key = be64 seq; value = 32-byte id + canonical JSON summary
//                  {"app","arrived","author","components","content","created","message","size"}
//                  ("arrived" is absent from entries written before it was recorded)
//   content_index: key = 32-byte content digest + 32-byte id; value = ""
#pragma once

#include <string>
#include <string_view>

#include "cairn/snapshot.h"
#include "store/schema.h"

namespace cairn {

// The log entry of `snapshot`, which arrived in the store at `arrived_micros`.
SnapshotSummary SummaryOf(const Snapshot& snapshot, int64_t arrived_micros);
std::string EncodeSnapshotLogValue(const SnapshotSummary& summary);
Result<SnapshotSummary> DecodeSnapshotLogEntry(std::string_view key, std::string_view value);

}  // namespace cairn
