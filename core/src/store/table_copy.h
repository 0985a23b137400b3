// Copying tables record by record and proving the copy: a running SHA-256 per table over
// length-prefixed keys and values, compared after reading the copy back. Used by the
// format upgrade (store/migrate.cc) and by `recover` (store/recover.cc).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/digest.h"
#include "port/rocks.h"

namespace cairn {

// What was written into one table.
struct TableDigest {
  uint64_t records = 0;
  Digest digest;
};

// Folds one record into a table's running hash: length-prefixed key and value.
void HashRecord(Sha256& h, std::string_view key, std::string_view value);

// Bounds a bulk copy's memory, whatever the size of the tables.
inline constexpr size_t kCopyBatchBytes = 32u << 20;

// Copies every record of `table` from `from` into `to` through `batch`, a bulk load: the
// batch is written without the log whenever it holds kCopyBatchBytes (the caller writes
// the rest). `rewrite`, when set, may change each key and value before it is written.
// `*out` counts and hashes what was written and `*last_key` is the last key read, also
// when reading stops early: the returned Status is the cursor's (kCorruption at a damaged
// block) or a write's error.
Status CopyTable(const Db& from, Table table, Db& to, Batch& batch,
                 const std::function<void(std::string& key, std::string& value)>& rewrite,
                 TableDigest* out, std::string* last_key);

// Reads every table of `db` back and compares it with `expected` (indexed by Table).
// kCorruption naming the table and `what` ("the upgraded copy") when one differs.
Status VerifyTables(const Db& db, const std::vector<TableDigest>& expected, std::string_view what);

}  // namespace cairn
