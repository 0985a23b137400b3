// Copying tables record by record and proving the copy: a running SHA-256 per table over
// length-prefixed keys and values, compared after reading the copy back. Used by the
// format upgrade (store/migrate.cc) and by `recover` (store/recover.cc).
#pragma once

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

// Reads every table of `db` back and compares it with `expected` (indexed by Table).
// kCorruption naming the table and `what` ("the upgraded copy") when one differs.
Status VerifyTables(const Db& db, const std::vector<TableDigest>& expected, std::string_view what);

}  // namespace cairn
