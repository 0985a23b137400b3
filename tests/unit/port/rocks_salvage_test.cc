// The salvage primitives `recover` builds on: each table file checked and read on its own,
// around a damaged block, and what the log replayed read from memory alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "cairn/store.h"
#include "port/rocks.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

using testing::Sandbox;

constexpr int kRecords = 3000;

std::string KeyOf(int i) { return keys::EncodeBe64(static_cast<uint64_t>(i)); }

// A value that does not compress away, so the records span many 4 KiB blocks.
std::string ValueOf(int i) {
  std::string v;
  uint64_t x = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(i + 1);
  for (int k = 0; k < 12; ++k) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v += keys::EncodeBe64(x);
  }
  return v;
}

// A store whose snapshot-log table holds kRecords records in one table file.
std::string StoreWithOneTableFile(const Sandbox& box) {
  auto store = Store::Init(box / "s");
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  Db& db = StoreInternal::db(**store);
  Batch batch(db);
  for (int i = 0; i < kRecords; ++i) batch.Put(Table::kSnapshotLog, KeyOf(i), ValueOf(i));
  EXPECT_TRUE(db.Write(batch, /*sync=*/true).ok());
  EXPECT_TRUE(db.Flush({Table::kSnapshotLog}).ok());
  EXPECT_TRUE((*store)->Close().ok());
  return box / "s/db2";
}

std::unique_ptr<Db> OpenForSalvage(const std::string& dir) {
  DbOpenOptions o;
  o.read_only = true;
  o.recovery = DbOpenOptions::LogRecovery::kPointInTime;
  auto db = Db::Open(dir, Schema::Format2(), o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(*db) : nullptr;
}

// The default family's biggest table file.
TableFile BiggestTableFile(const Db& db, const std::string& dir, uint64_t* size) {
  std::vector<DamagedFile> damaged;
  auto files = db.LiveTableFiles(&damaged);
  EXPECT_TRUE(files.ok());
  TableFile best;
  *size = 0;
  for (const auto& f : *files) {
    uint64_t s = std::filesystem::file_size(dir + "/" + f.name);
    if (f.family == "default" && s > *size) {
      *size = s;
      best = f;
    }
  }
  return best;
}

TEST(RocksSalvage, AnIntactTableFileIsReadWholeOnItsOwn) {
  Sandbox box;
  std::string dir = StoreWithOneTableFile(box);
  auto db = OpenForSalvage(dir);
  ASSERT_TRUE(db);
  uint64_t size = 0;
  TableFile file = BiggestTableFile(*db, dir, &size);
  ASSERT_GT(size, 100u << 10);
  std::set<std::string> seen;
  Status s = db->ReadTableFile(file, [&](Table table, std::string_view key, std::string_view v) {
    if (table != Table::kSnapshotLog) return;
    int i = static_cast<int>(*keys::DecodeBe64(key));
    EXPECT_EQ(v, ValueOf(i));
    seen.emplace(key);
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRecords));
}

// RocksDB's merged view stops at the damaged block; read on its own, the file yields every
// record before it and every record after it.
TEST(RocksSalvage, ADamagedBlockCostsOnlyTheRecordsItHeld) {
  Sandbox box;
  std::string dir = StoreWithOneTableFile(box);
  uint64_t size = 0;
  std::string name;
  {
    auto db = OpenForSalvage(dir);
    ASSERT_TRUE(db);
    name = BiggestTableFile(*db, dir, &size).name;
  }
  testing::FlipByte(dir + "/" + name, size / 3);  // a data block: the index sits at the end
  auto db = OpenForSalvage(dir);
  ASSERT_TRUE(db);
  std::vector<DamagedFile> damaged;
  auto files = db->LiveTableFiles(&damaged);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_EQ(damaged[0].file, name);

  // The merged view stops at the damage.
  uint64_t merged = 0;
  Cursor cur = db->NewCursor(Table::kSnapshotLog);
  for (cur.SeekToFirst(); cur.Valid(); cur.Next()) ++merged;
  EXPECT_TRUE(cur.status().IsCorruption()) << cur.status().ToString();

  std::set<int> seen;
  TableFile file{name, "default"};
  Status s = db->ReadTableFile(file, [&](Table table, std::string_view key, std::string_view v) {
    if (table != Table::kSnapshotLog) return;
    int i = static_cast<int>(*keys::DecodeBe64(key));
    EXPECT_EQ(v, ValueOf(i)) << i;
    seen.insert(i);
  });
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(name), std::string::npos) << s.message();
  // A 4 KiB block holds a few dozen of these records: at most two blocks' worth are lost.
  EXPECT_GT(seen.size(), static_cast<size_t>(kRecords - 100)) << "merged view read " << merged;
  EXPECT_LT(seen.size(), static_cast<size_t>(kRecords));
  EXPECT_GT(seen.size(), merged + 1000);
  EXPECT_TRUE(seen.contains(0));
  EXPECT_TRUE(seen.contains(kRecords - 1));
}

TEST(RocksSalvage, AnObjectsTableFileIsNotReadOnItsOwn) {
  Sandbox box;
  std::string dir = StoreWithOneTableFile(box);
  auto db = OpenForSalvage(dir);
  ASSERT_TRUE(db);
  Status s = db->ReadTableFile(TableFile{"000001.sst", "objects"},
                               [](Table, std::string_view, std::string_view) {});
  EXPECT_EQ(s.code(), Code::kUsage);
}

// What a read-only open replayed from the log, without any table file.
TEST(RocksSalvage, AMemoryCursorSeesOnlyWhatTheLogReplayed) {
  Sandbox box;
  std::string dir = StoreWithOneTableFile(box);
  {
    StoreOpenOptions o;
    o.read_only = false;
    auto store = Store::Open(box / "s", o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Db& db = StoreInternal::db(**store);
    Batch batch(db);
    batch.Put(Table::kSnapshotLog, KeyOf(kRecords), "in the log");
    ASSERT_TRUE(db.Write(batch, /*sync=*/true).ok());
    ASSERT_TRUE((*store)->Close().ok());
  }
  auto db = OpenForSalvage(dir);
  ASSERT_TRUE(db);
  std::vector<std::string> keys;
  Cursor cur = db->NewMemoryCursor(Table::kSnapshotLog);
  for (cur.SeekToFirst(); cur.Valid(); cur.Next()) keys.emplace_back(cur.key());
  ASSERT_TRUE(cur.status().ok()) << cur.status().ToString();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0], KeyOf(kRecords));
}

}  // namespace
}  // namespace cairn
