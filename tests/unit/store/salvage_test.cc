// Salvage (store/salvage.h, what `recover` runs on a damaged store) on a snapshot whose
// manifest survived a damaged block but whose log entry did not.
#include "store/salvage.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "cairn/ingest.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"
#include "port/rocks.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

using testing::Sandbox;
using testing::WriteMinimalRelease;

std::set<std::string> Listed(const Store& store) {
  std::set<std::string> ids;
  auto list = ListSnapshots(store);
  EXPECT_TRUE(list.ok()) << list.status().ToString();
  if (list.ok()) {
    for (const auto& s : *list) ids.insert(s.id.Hex());
  }
  return ids;
}

// The manifests are there and complete, so the snapshots are kept; without their log
// entries they would be in the copy but in no list (`snapshot list`, gc's "newest of an
// app"). Recover writes the missing entries, in order of creation, after the others.
TEST(SalvageTest, ASnapshotWhoseLogEntryWasLostIsListedAgain) {
  Sandbox box;
  std::set<std::string> ids;
  {
    auto store = Store::Init(box / "from");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (const char* name : {"a", "b", "c"}) {
      std::string dir = WriteMinimalRelease(box, name);
      box.Write(std::string(name) + "/config/which.txt", name);
      CreateSnapshotOptions o;
      o.dir = dir;
      o.message = name;
      o.author = "tester@test";
      std::vector<Problem> problems;
      auto created = CreateSnapshot(**store, o, &problems);
      ASSERT_TRUE(created.ok()) << created.status().ToString();
      ids.insert(created->snapshot.id.Hex());
    }
    ASSERT_EQ(Listed(**store), ids);
    // The log entries of the first and the last snapshot are gone.
    Db& db = StoreInternal::db(**store);
    Batch batch(db);
    batch.Delete(Table::kSnapshotLog, SnapshotLogKey(0));
    batch.Delete(Table::kSnapshotLog, SnapshotLogKey(2));
    ASSERT_TRUE(db.Write(batch, /*sync=*/true).ok());
    ASSERT_EQ(Listed(**store).size(), 1u);
    ASSERT_TRUE((*store)->Close().ok());
  }

  // Salvaged as recover does it: the source read-only, the copy a bulk load.
  DbOpenOptions from_options;
  from_options.read_only = true;
  from_options.recovery = DbOpenOptions::LogRecovery::kPointInTime;
  auto from = Db::Open(box / "from/db2", Schema::Format2(), from_options);
  ASSERT_TRUE(from.ok()) << from.status().ToString();
  {
    auto created = Store::Init(box / "into");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    ASSERT_TRUE((*created)->Close().ok());
    StoreOpenOptions bulk;
    bulk.read_only = false;
    bulk.sync_each_write = false;
    auto to = Store::Open(box / "into", bulk);
    ASSERT_TRUE(to.ok()) << to.status().ToString();
    std::string lost;
    uint64_t records = 0;
    Status salvaged = Salvage(
        **from, {}, **to,
        [&](std::string what, std::string detail) { lost += what + ": " + detail + "\n"; },
        &records);
    ASSERT_TRUE(salvaged.ok()) << salvaged.ToString();
    EXPECT_EQ(lost, "");
    ASSERT_TRUE((*to)->Close().ok());
  }
  ASSERT_TRUE((*from)->Close().ok());
  StoreOpenOptions ro;
  auto copy = Store::Open(box / "into", ro);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(Listed(**copy), ids);
  auto list = ListSnapshots(**copy);
  ASSERT_TRUE(list.ok());
  // One entry each, the surviving one first, then the others by creation.
  ASSERT_EQ(list->size(), 3u);
  std::set<uint64_t> seqs;
  for (const auto& s : *list) seqs.insert(s.seq);
  EXPECT_EQ(seqs.size(), 3u);
  ASSERT_TRUE((*copy)->Close().ok());
}

}  // namespace
}  // namespace cairn
