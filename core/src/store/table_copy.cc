#include "store/table_copy.h"

#include <fmt/format.h>

#include "store/schema.h"

namespace cairn {

void HashRecord(Sha256& h, std::string_view key, std::string_view value) {
  std::string lengths;
  keys::AppendLe64(&lengths, key.size());
  keys::AppendLe64(&lengths, value.size());
  h.Update(lengths);
  h.Update(key);
  h.Update(value);
}

Status CopyTable(const Db& from, Table table, Db& to, Batch& batch,
                 const std::function<void(std::string& key, std::string& value)>& rewrite,
                 TableDigest* out, std::string* last_key) {
  Sha256 h;
  *out = TableDigest();
  Cursor cur = from.NewCursor(table);
  std::string key, value;
  for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
    key.assign(cur.key());
    value.assign(cur.value());
    last_key->assign(key);
    if (rewrite) rewrite(key, value);
    batch.Put(table, key, value);
    HashRecord(h, key, value);
    ++out->records;
    if (batch.ByteSize() >= kCopyBatchBytes) {
      CAIRN_RETURN_IF_ERROR(to.Write(batch, /*sync=*/false, /*no_wal=*/true));
      batch.Clear();
    }
  }
  out->digest = h.Finish();
  return cur.status();
}

Status VerifyTables(const Db& db, const std::vector<TableDigest>& expected, std::string_view what) {
  for (size_t t = 0; t < static_cast<size_t>(Table::kCount); ++t) {
    Table table = static_cast<Table>(t);
    Sha256 h;
    uint64_t records = 0;
    Cursor cur = db.NewCursor(table);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      HashRecord(h, cur.key(), cur.value());
      ++records;
    }
    CAIRN_RETURN_IF_ERROR(cur.status());
    if (records != expected[t].records || h.Finish() != expected[t].digest) {
      return Status::Corruption(
          fmt::format("{} of table {} does not read back as written ({} records written, {} read)",
                      what, TableName(table), expected[t].records, records));
    }
  }
  return Status::OK();
}

}  // namespace cairn
