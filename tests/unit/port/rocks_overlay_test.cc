// Db::SetOverlay: reads see a batch laid over the database — point lookups, cursors forward
// and backward within a table's bounds, deletes — and nothing is written; removing the
// overlay restores the database's own view. Db::GetMany, with and without an overlay.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cairn/store.h"
#include "port/rocks.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

std::vector<std::string> Keys(const Db& db, Table table, bool backward = false) {
  std::vector<std::string> out;
  Cursor cur = db.NewCursor(table);
  if (backward) {
    for (cur.SeekToLast(); cur.Valid(); cur.Prev()) out.emplace_back(cur.key());
  } else {
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) out.emplace_back(cur.key());
  }
  EXPECT_TRUE(cur.status().ok());
  return out;
}

// A store holding trust keys "b" and "d" and, in the next table of the same family, policy
// key "p".
class RocksOverlayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Init(box_ / "s");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    Batch base(db());
    base.Put(Table::kTrust, "b", "base-b");
    base.Put(Table::kTrust, "d", "base-d");
    base.Put(Table::kPolicy, "p", "policy");
    ASSERT_TRUE(db().Write(base, /*sync=*/true).ok());
  }
  void TearDown() override { ASSERT_TRUE(store_->Close().ok()); }
  Db& db() { return StoreInternal::db(*store_); }

  testing::Sandbox box_;
  std::unique_ptr<Store> store_;
};

TEST_F(RocksOverlayTest, ReadsSeeTheBatchAndNothingIsWritten) {
  Db& db = this->db();

  Batch overlay(db);
  overlay.Put(Table::kTrust, "a", "new-a");
  overlay.Put(Table::kTrust, "d", "new-d");
  overlay.Delete(Table::kTrust, "b");
  overlay.Put(Table::kTrust, "e", "new-e");
  ASSERT_TRUE(db.SetOverlay(&overlay).ok());
  auto d = db.Get(Table::kTrust, "d");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->value_or(""), "new-d");
  auto b = db.Contains(Table::kTrust, "b");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(*b);
  EXPECT_EQ(Keys(db, Table::kTrust), (std::vector<std::string>{"a", "d", "e"}));
  EXPECT_EQ(Keys(db, Table::kTrust, /*backward=*/true), (std::vector<std::string>{"e", "d", "a"}));
  EXPECT_EQ(Keys(db, Table::kPolicy), (std::vector<std::string>{"p"}));  // bounds hold

  ASSERT_TRUE(db.SetOverlay(nullptr).ok());
  EXPECT_EQ(Keys(db, Table::kTrust), (std::vector<std::string>{"b", "d"}));
  auto again = db.Get(Table::kTrust, "d");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->value_or(""), "base-d");
}

// GetMany answers like one Get per key, in the order asked, with or without an overlay, and
// never reads past its table's prefix into the next table of the family.
TEST_F(RocksOverlayTest, GetManyAnswersLikeGetForEachKey) {
  Db& db = this->db();
  const std::vector<std::string> keys = {"d", "p", "a", "b", "d", ""};
  auto check = [&](const char* when) {
    auto many = db.GetMany(Table::kTrust, keys);
    ASSERT_TRUE(many.ok()) << many.status().ToString();
    ASSERT_EQ(many->size(), keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      auto one = db.Get(Table::kTrust, keys[i]);
      ASSERT_TRUE(one.ok());
      EXPECT_EQ((*many)[i], *one) << when << ": key " << keys[i];
    }
  };
  check("database");
  EXPECT_EQ((*db.GetMany(Table::kTrust, keys))[0].value_or(""), "base-d");
  EXPECT_FALSE((*db.GetMany(Table::kTrust, keys))[1].has_value());  // kPolicy's key
  Batch overlay(db);
  overlay.Put(Table::kTrust, "a", "new-a");
  overlay.Delete(Table::kTrust, "b");
  ASSERT_TRUE(db.SetOverlay(&overlay).ok());
  check("overlay");
  EXPECT_EQ((*db.GetMany(Table::kTrust, keys))[2].value_or(""), "new-a");
  EXPECT_FALSE((*db.GetMany(Table::kTrust, keys))[3].has_value());
  ASSERT_TRUE(db.SetOverlay(nullptr).ok());
  EXPECT_TRUE(db.GetMany(Table::kTrust, {})->empty());
}

}  // namespace
}  // namespace cairn
