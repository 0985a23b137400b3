// The acknowledgement record, `db2/ACKED` (docs/format.md, "Acknowledged writes"): where
// the database stood after the last write cairn reported as done. RocksDB cannot tell a
// log truncated by damage from one torn by a crash during an unacknowledged write (both end
// early), and its point-in-time recovery silently drops everything after a damaged record.
// With this record an open can tell: the database must reach at least `sequence`, the log
// and MANIFEST named here must be at least as long as recorded.
//
// 128 bytes: two 64-byte slots written in turn (generation % 2), each with its own check,
// so a write torn by a crash leaves the other slot, one write older, intact. Written only
// by the process holding the writer lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cairn/status.h"
#include "port/env.h"

namespace cairn {

inline constexpr const char* kAckFileName = "ACKED";

struct AckPosition {
  uint64_t sequence = 0;         // RocksDB's last sequence number once the write was durable
  uint64_t wal_number = 0;       // the log file holding it (0: in table files only)
  uint64_t wal_bytes = 0;        // that log's size once synced
  uint64_t manifest_number = 0;  // the MANIFEST current then (0: unknown)
  uint64_t manifest_bytes = 0;   // its size then
};

struct AckRecord {
  uint64_t generation = 0;
  AckPosition position;
};

// Reads `<db_dir>/ACKED`: std::nullopt when it does not exist; kCorruption when it exists
// but neither slot is intact.
Result<std::optional<AckRecord>> ReadAckRecord(const std::string& db_dir);

// Creates `<db_dir>/ACKED` holding `position` at generation 1, durably (a temporary file,
// fsynced, renamed, the directory fsynced).
Status CreateAckRecord(Env& env, const std::string& db_dir, const AckPosition& position);

// Overwrites the slot of `generation` in place and fdatasyncs it.
Status UpdateAckRecord(Env& env, const std::string& db_dir, uint64_t generation,
                       const AckPosition& position);

// The slot bytes (exposed for tests of the format).
std::string EncodeAckSlot(uint64_t generation, const AckPosition& position);
std::optional<AckRecord> DecodeAckSlot(std::string_view slot);

}  // namespace cairn
