#include "cairn/store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/schema.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

using testing::Sandbox;

TEST(Store, InitCreatesAStoreThatOpensAndRecordsItsFormat) {
  Sandbox box;
  auto s = Store::Init(box / "s");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto v = StoreInternal::db(**s).Get(Table::kMeta, keys::kFormatVersion);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value_or(""), std::to_string(kStoreFormatVersion));
  EXPECT_TRUE(std::filesystem::is_directory(box / "s/hooks/pre-promote.d"));
  EXPECT_TRUE(std::filesystem::is_directory(box / "s/hooks/pre-rollback.d"));
}

TEST(Store, InitRefusesAnExistingStoreOrNonEmptyDirectory) {
  Sandbox box;
  ASSERT_TRUE(Store::Init(box / "s").ok());
  EXPECT_EQ(Store::Init(box / "s").status().code(), Code::kConflict);
  box.Write("full/file", "x");
  EXPECT_EQ(Store::Init(box / "full").status().code(), Code::kConflict);
  std::filesystem::create_directory(box / "empty");
  EXPECT_TRUE(Store::Init(box / "empty").ok());
}

TEST(Store, OpenOfSomethingElseIsNotFoundWithAdvice) {
  Sandbox box;
  auto s = Store::Open(box / "nothing", StoreOpenOptions{});
  ASSERT_TRUE(s.status().IsNotFound());
  EXPECT_NE(s.status().message().find("cairn init"), std::string::npos);
}

TEST(Store, NewerFormatIsRefused) {
  Sandbox box;
  {
    auto s = Store::Init(box / "s");
    ASSERT_TRUE(s.ok());
    Db& db = StoreInternal::db(**s);
    Batch b(db);
    b.Put(Table::kMeta, keys::kFormatVersion, "99");
    ASSERT_TRUE(db.Write(b, true).ok());
  }
  auto s = Store::Open(box / "s", StoreOpenOptions{});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("upgrade cairn"), std::string::npos);
}

TEST(Store, LocatePrefersExplicitThenEnvironmentThenWalksUp) {
  Sandbox box;
  ASSERT_TRUE(Store::Init(box / "repo/.cairn").ok());
  std::filesystem::create_directories(box / "repo/a/b");
  EXPECT_EQ(*Store::Locate("/x", "/y", box / "repo/a/b"), "/x");
  EXPECT_EQ(*Store::Locate("", "/y", box / "repo/a/b"), "/y");
  EXPECT_EQ(*Store::Locate("", nullptr, box / "repo/a/b"), box / "repo/.cairn");
  EXPECT_EQ(*Store::Locate("", "", box / "repo"), box / "repo/.cairn");
  auto none = Store::Locate("", nullptr, box.path());
  EXPECT_TRUE(none.status().IsNotFound());
  EXPECT_NE(none.status().message().find("cairn init"), std::string::npos);
}

TEST(Store, SecondWriterWaitsThenFailsWithBusy) {
  Sandbox box;
  auto writer = Store::Init(box / "s");
  ASSERT_TRUE(writer.ok());
  // RocksDB's lock is per process: a second open in this process reports the lock held,
  // which is what another process sees.
  StoreOpenOptions o;
  o.read_only = false;
  o.lock_timeout = std::chrono::milliseconds(200);
  std::string waited;
  o.on_wait = [&](const std::string& m) { waited = m; };
  auto start = std::chrono::steady_clock::now();
  auto second = Store::Open(box / "s", o);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kBusy);
  EXPECT_GE(elapsed, std::chrono::milliseconds(200));
  EXPECT_FALSE(waited.empty());
  // Readers never wait.
  o.read_only = true;
  EXPECT_TRUE(Store::Open(box / "s", o).ok());
}

}  // namespace
}  // namespace cairn
