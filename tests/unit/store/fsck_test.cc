#include "cairn/fsck.h"

#include <gtest/gtest.h>

#include "cairn/ingest.h"
#include "store/object_codec.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

class FsckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Init(box_ / "store");
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    testing::WriteMinimalRelease(box_, "rel");
    box_.Write("rel/config/big.bin", std::string(2 * (1 << 20) + 5, 'q'));
    CreateSnapshotOptions o;
    o.dir = box_ / "rel";
    o.message = "m";
    std::vector<Problem> problems;
    auto r = CreateSnapshot(*store_, o, &problems);
    ASSERT_TRUE(r.ok());
    snapshot_ = r->snapshot;
  }

  void Put(Table cf, std::string_view key, std::string_view value) {
    Db& db = StoreInternal::db(*store_);
    Batch b(db);
    b.Put(cf, key, value);
    ASSERT_TRUE(db.Write(b, true).ok());
  }
  void Delete(Table cf, std::string_view key) {
    Db& db = StoreInternal::db(*store_);
    Batch b(db);
    b.Delete(cf, key);
    ASSERT_TRUE(db.Write(b, true).ok());
  }

  testing::Sandbox box_;
  std::unique_ptr<Store> store_;
  Snapshot snapshot_;
};

TEST_F(FsckTest, CleanStoreHasNoProblems) {
  auto r = Fsck(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->snapshots, 1u);
  EXPECT_EQ(r->unreferenced_objects, 0u);
  // 8 files (snapshot.json included); big.bin's 3 chunks hold 2 distinct byte strings.
  EXPECT_EQ(r->objects, 8u + 2u);
}

TEST_F(FsckTest, FlippedByteInAnObjectIsReported) {
  const Digest& d = snapshot_.Find("prompts/system.md")->digest;
  std::string rec = *StoreInternal::db(*store_).Get(Table::kObjects, d.Raw()).value();
  rec.back() ^= 0x20;
  Put(Table::kObjects, d.Raw(), rec);
  auto r = Fsck(*store_);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].what, "object " + d.ToString());
}

TEST_F(FsckTest, MissingObjectIsReportedAgainstTheSnapshot) {
  const Digest& d = snapshot_.Find("tools/lookup.json")->digest;
  Delete(Table::kObjects, d.Raw());
  Delete(Table::kObjectMeta, d.Raw());
  auto r = Fsck(*store_);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].what, "snapshot " + snapshot_.id.Hex());
  EXPECT_NE(r->problems[0].message.find("tools/lookup.json"), std::string::npos);
}

TEST_F(FsckTest, EditedManifestIsReported) {
  std::string bytes =
      *StoreInternal::db(*store_).Get(Table::kSnapshots, snapshot_.id.digest().Raw()).value();
  bytes[bytes.find("\"m\"") + 1] = 'X';
  Put(Table::kSnapshots, snapshot_.id.digest().Raw(), bytes);
  auto r = Fsck(*store_);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->ok());
  EXPECT_NE(r->problems[0].message.find("different id"), std::string::npos);
}

// A snapshot no list shows (its log entry lost) is reported, not passed over.
TEST_F(FsckTest, SnapshotWithoutALogEntryIsReported) {
  Delete(Table::kSnapshotLog, SnapshotLogKey(0));
  auto r = Fsck(*store_);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].what, "snapshot " + snapshot_.id.Hex());
  EXPECT_NE(r->problems[0].message.find("no entry in the snapshot log"), std::string::npos)
      << r->problems[0].message;
}

TEST_F(FsckTest, MetaWithoutRecordIsReported) {
  const Digest& d = snapshot_.Find("prompts/system.md")->digest;
  Delete(Table::kObjects, d.Raw());
  auto r = Fsck(*store_);
  ASSERT_TRUE(r.ok());
  bool found = false;
  for (const auto& p : r->problems) found |= p.message.find("has no record") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST_F(FsckTest, UnreferencedObjectsAreCountedNotErrors) {
  Db& db = StoreInternal::db(*store_);
  Batch b(db);
  Digest orphan = Digest::Of("orphan");
  ASSERT_TRUE(AddObjectToBatch(b, orphan, std::string("\0orphan", 7), 6).ok());
  ASSERT_TRUE(db.Write(b, true).ok());
  auto r = Fsck(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->unreferenced_objects, 1u);
}

}  // namespace
}  // namespace cairn
