#include "cairn/revision.h"

#include <gtest/gtest.h>

#include "cairn/ingest.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

using testing::Sandbox;

class RevisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Init(box_ / "store");
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    CreateSnapshotOptions o;
    o.dir = testing::WriteMinimalRelease(box_, "rel");
    o.message = "m";
    std::vector<Problem> problems;
    auto r = CreateSnapshot(*store_, o, &problems);
    ASSERT_TRUE(r.ok());
    id_ = r->snapshot.id;
  }

  // Plants a snapshot-family key (no valid manifest needed: resolution reads keys only).
  void PlantKey(const std::string& hex) {
    Db& db = StoreInternal::db(*store_);
    Batch b(db);
    b.Put(Table::kSnapshots, Digest::Parse(hex, true)->Raw(), "{}");
    ASSERT_TRUE(db.Write(b, true).ok());
  }

  Sandbox box_;
  std::unique_ptr<Store> store_;
  SnapshotId id_;
};

TEST_F(RevisionTest, FullIdAndPrefixesResolve) {
  EXPECT_EQ(*ResolveRevision(*store_, id_.Hex()), id_);
  EXPECT_EQ(*ResolveRevision(*store_, "sha256:" + id_.Hex()), id_);
  EXPECT_EQ(*ResolveRevision(*store_, id_.Hex().substr(0, 8)), id_);
  EXPECT_EQ(*ResolveRevision(*store_, id_.Hex().substr(0, 13)), id_) << "odd length";
  std::string upper = id_.Hex().substr(0, 10);
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(*ResolveRevision(*store_, upper), id_);
}

TEST_F(RevisionTest, ShortOrMalformedPrefixIsAUsageError) {
  EXPECT_EQ(ResolveRevision(*store_, id_.Hex().substr(0, 7)).status().code(), Code::kUsage);
  EXPECT_EQ(ResolveRevision(*store_, "not-hex!").status().code(), Code::kUsage);
  EXPECT_EQ(ResolveRevision(*store_, "").status().code(), Code::kUsage);
}

TEST_F(RevisionTest, UnknownIsNotFound) {
  std::string other = id_.Hex();
  other[0] = other[0] == '0' ? '1' : '0';
  EXPECT_TRUE(ResolveRevision(*store_, other).status().IsNotFound());
  EXPECT_TRUE(ResolveRevision(*store_, other.substr(0, 9)).status().IsNotFound());
}

TEST_F(RevisionTest, AmbiguousPrefixListsTheCandidates) {
  std::string a = "abcdef01" + std::string(56, '1');
  std::string b = "abcdef01" + std::string(56, '2');
  PlantKey(a);
  PlantKey(b);
  auto r = ResolveRevision(*store_, "abcdef01");
  ASSERT_EQ(r.status().code(), Code::kUsage);
  EXPECT_NE(r.status().message().find(a), std::string::npos);
  EXPECT_NE(r.status().message().find(b), std::string::npos);
  EXPECT_EQ(*ResolveRevision(*store_, "abcdef011"), *SnapshotId::Parse(a));
}

TEST(RevisionPath, SplitsAtTheFirstColon) {
  auto r = SplitRevisionPath("1a2b3c4d:prompts/system.md");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rev, "1a2b3c4d");
  EXPECT_EQ(r->path, "prompts/system.md");
  auto d = SplitRevisionPath("sha256:abcd:x.md");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->rev, "sha256:abcd");
  EXPECT_FALSE(SplitRevisionPath("nocolon").ok());
  EXPECT_FALSE(SplitRevisionPath("abc:").ok());
}

}  // namespace
}  // namespace cairn
