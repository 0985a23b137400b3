// Records that index snapshots (docs/format.md): the snapshot log and the content index.
//   snapshot_log:  key = be64 seq; value = 32-byte id + canonical JSON summary
//                  {"app","author","components","content","created","message","size"}
//   content_index: key = 32-byte content digest + 32-byte id; value = ""
#pragma once

#include <string>
#include <string_view>

#include "cairn/snapshot.h"
#include "store/schema.h"

namespace cairn {

std::string EncodeSnapshotLogValue(const Snapshot& snapshot);
Result<SnapshotSummary> DecodeSnapshotLogEntry(std::string_view key, std::string_view value);

}  // namespace cairn
