// The schema's byte layout (docs/format.md, "Families and tables") and the table-bounded
// cursors that let tables share a family.
#include "store/schema.h"

#include <gtest/gtest.h>

#include <set>

#include "cairn/store.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

TEST(Schema, Format2HasThreeFamiliesAndOneBytePrefixes) {
  const Schema& s = Schema::Format2();
  EXPECT_EQ(s.families(), (std::vector<std::string>{"default", "objects", "stat_cache"}));
  EXPECT_EQ(s.families()[s.FamilyOf(Table::kObjects)], "objects");
  EXPECT_EQ(s.families()[s.FamilyOf(Table::kStatCache)], "stat_cache");
  EXPECT_EQ(s.PrefixOf(Table::kObjects), "");
  EXPECT_EQ(s.PrefixOf(Table::kDeployments), "d");
  EXPECT_EQ(s.PrefixOf(Table::kEvents), "e");
  std::set<std::string> prefixes;
  for (size_t t = 0; t < static_cast<size_t>(Table::kCount); ++t) {
    auto table = static_cast<Table>(t);
    if (s.FamilyOf(table) != 0) continue;
    std::string p(s.PrefixOf(table));
    ASSERT_EQ(p.size(), 1u) << TableName(table);
    EXPECT_LT(static_cast<unsigned char>(p[0]), 0xffu);
    EXPECT_TRUE(prefixes.insert(p).second) << "prefix reused: " << TableName(table);
  }
}

// The inverse of family + prefix, which recover's salvage needs to read a table file alone.
TEST(Schema, EveryStoredKeyMapsBackToItsTable) {
  for (const Schema* s : {&Schema::Format1(), &Schema::Format2()}) {
    for (size_t t = 0; t < static_cast<size_t>(Table::kCount); ++t) {
      auto table = static_cast<Table>(t);
      std::string full = std::string(s->PrefixOf(table)) + "key";
      auto owner = s->TableOf(s->families()[s->FamilyOf(table)], full);
      ASSERT_TRUE(owner) << TableName(table);
      EXPECT_EQ(owner->first, table);
      EXPECT_EQ(owner->second, "key");
    }
  }
  EXPECT_FALSE(Schema::Format2().TableOf("default", std::string(1, '\xfe') + "x"));
  EXPECT_FALSE(Schema::Format2().TableOf("no-such-family", "Mx"));
}

TEST(Schema, Format1HasOneFamilyPerTableWithoutPrefixes) {
  const Schema& s = Schema::Format1();
  EXPECT_EQ(s.families().size(), static_cast<size_t>(Table::kCount));
  EXPECT_EQ(s.families()[s.FamilyOf(Table::kMeta)], "default");
  EXPECT_EQ(s.families()[s.FamilyOf(Table::kEventTime)], "event_time");
  EXPECT_EQ(s.PrefixOf(Table::kEvents), "");
}

TEST(Schema, KeysAreTheBytesDocsFormatMdShows) {
  EXPECT_EQ(Hex(EventKey("prod", 3)), "70726f64000000000000000003");
  EXPECT_EQ(Hex(Schema::Format2().TimeKey(-1)), "7fffffffffffffff");
  EXPECT_EQ(Hex(Schema::Format2().TimeKey(0)), "8000000000000000");
  EXPECT_EQ(Hex(Schema::Format2().TimeKey(INT64_MIN)), "0000000000000000");
  EXPECT_EQ(Hex(Schema::Format2().TimeKey(INT64_MAX)), "ffffffffffffffff");
  EXPECT_EQ(Hex(Schema::Format1().TimeKey(1)), "0000000000000001");
  EXPECT_EQ(Hex(Schema::Format1().TimeKey(-5)), "0000000000000000");  // clamped
}

TEST(Schema, TimeKeysSortLikeTimes) {
  std::vector<int64_t> times = {INT64_MIN, -62135596800000000, -1000000, -1, 0, 1,
                                1000000,   1795528980000000,   INT64_MAX};
  for (size_t i = 1; i < times.size(); ++i) {
    EXPECT_LT(Schema::Format2().TimeKey(times[i - 1]), Schema::Format2().TimeKey(times[i]))
        << times[i - 1] << " vs " << times[i];
  }
}

// Adjacent tables share the default family: a cursor sees its own table only, in both
// directions, and shows keys without the prefix.
TEST(Schema, CursorsStayInsideTheirTable) {
  testing::Sandbox box;
  auto store = Store::Init(box / "s");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Db& db = StoreInternal::db(**store);
  Batch b(db);
  b.Put(Table::kSnapshotLog, "k", "x");  // 'l' (before 'o')
  b.Put(Table::kObjectMeta, "a", "1");   // 'o'
  b.Put(Table::kObjectMeta, "\xff\xff", "2");
  b.Put(Table::kPolicy, "z", "y");  // 'p' (after 'o')
  ASSERT_TRUE(db.Write(b, true).ok());
  Cursor c = db.NewCursor(Table::kObjectMeta);
  std::vector<std::string> keys;
  for (c.SeekToFirst(); c.Valid(); c.Next()) keys.emplace_back(c.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "\xff\xff"}));
  c.SeekToLast();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), "\xff\xff");
  c.Prev();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), "a");
  c.Prev();
  EXPECT_FALSE(c.Valid());
  c.Seek("b");
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), "\xff\xff");
  c.Seek("\xff\xff\xff");
  EXPECT_FALSE(c.Valid());
  Cursor empty = db.NewCursor(Table::kAttestations);
  empty.SeekToLast();
  EXPECT_FALSE(empty.Valid());
  EXPECT_EQ(*db.Get(Table::kPolicy, "z").value(), "y");
  EXPECT_FALSE(db.Get(Table::kObjectMeta, "z").value().has_value());
}

}  // namespace
}  // namespace cairn
