// Db::SetOverlay: reads see a batch laid over the database — point lookups, cursors forward
// and backward within a table's bounds, deletes — and nothing is written; removing the
// overlay restores the database's own view.
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

TEST(RocksOverlayTest, ReadsSeeTheBatchAndNothingIsWritten) {
  testing::Sandbox box;
  auto store = Store::Init(box / "s");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Db& db = StoreInternal::db(**store);
  Batch base(db);
  base.Put(Table::kTrust, "b", "base-b");
  base.Put(Table::kTrust, "d", "base-d");
  base.Put(Table::kPolicy, "p", "policy");  // the next table in the same family
  ASSERT_TRUE(db.Write(base, /*sync=*/true).ok());

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
  ASSERT_TRUE((*store)->Close().ok());
}

}  // namespace
}  // namespace cairn
