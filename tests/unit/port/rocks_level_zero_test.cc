// Db::MergeLevelZero: which level-0 files are merged (the newest run, growing geometrically),
// and that short-lived writers checkpointing over and over keep level 0 short and lose
// nothing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "port/rocks.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

constexpr uint64_t kKiB = 1024;

// Files given oldest first, as (name, size); sequence numbers follow that order.
std::vector<LevelZeroFile> OldestFirst(const std::vector<std::pair<std::string, uint64_t>>& f) {
  std::vector<LevelZeroFile> out;
  uint64_t seq = 100;
  for (const auto& [name, size] : f) out.push_back({name, size, seq += 10});
  return out;
}

TEST(LevelZeroRunTest, FewerThanFourSmallFilesAreLeftAlone) {
  EXPECT_TRUE(LevelZeroRunToMerge({}).empty());
  EXPECT_TRUE(LevelZeroRunToMerge(OldestFirst({{"a", 8 * kKiB}, {"b", 8 * kKiB}, {"c", 8 * kKiB}}))
                  .empty());
}

TEST(LevelZeroRunTest, TheNewestRunIsMergedNewestFirst) {
  auto run = LevelZeroRunToMerge(
      OldestFirst({{"a", 8 * kKiB}, {"b", 8 * kKiB}, {"c", 8 * kKiB}, {"d", 8 * kKiB}}));
  EXPECT_EQ(run, (std::vector<std::string>{"d", "c", "b", "a"}));
}

TEST(LevelZeroRunTest, AnOlderFileJoinsOnlyWhileItIsNoLargerThanFourTimesTheNewerOnes) {
  // 3 × 10 KiB newer: a 120 KiB file joins (≤ 4 × 30), the 601 KiB one beyond it does not
  // (> 4 × 150).
  auto run = LevelZeroRunToMerge(OldestFirst({{"older", 601 * kKiB},
                                              {"big", 120 * kKiB},
                                              {"x", 10 * kKiB},
                                              {"y", 10 * kKiB},
                                              {"z", 10 * kKiB}}));
  EXPECT_EQ(run, (std::vector<std::string>{"z", "y", "x", "big"}));
  // 121 KiB is too large to join, and the three newer files alone are too few.
  EXPECT_TRUE(
      LevelZeroRunToMerge(
          OldestFirst({{"big", 121 * kKiB}, {"x", 10 * kKiB}, {"y", 10 * kKiB}, {"z", 10 * kKiB}}))
          .empty());
}

TEST(LevelZeroRunTest, NoFileAboveOneMebibyteIsMergedAgain) {
  // 4 × 300 KiB newer would let a 1,025 KiB file join by the ratio, not by the size cap.
  auto files = OldestFirst({{"large", 1025 * kKiB},
                            {"a", 300 * kKiB},
                            {"b", 300 * kKiB},
                            {"c", 300 * kKiB},
                            {"d", 300 * kKiB}});
  EXPECT_EQ(LevelZeroRunToMerge(files), (std::vector<std::string>{"d", "c", "b", "a"}));
  files[0].size = 1024 * kKiB;
  EXPECT_EQ(LevelZeroRunToMerge(files).size(), 5u);
}

TEST(LevelZeroRunTest, OrderComesFromSequenceNumbersNotFromTheListing) {
  std::vector<LevelZeroFile> files = {
      {"old", 8 * kKiB, 10}, {"new", 8 * kKiB, 40}, {"mid2", 8 * kKiB, 30}, {"mid1", 8 * kKiB, 20}};
  EXPECT_EQ(LevelZeroRunToMerge(files), (std::vector<std::string>{"new", "mid2", "mid1", "old"}));
  // A run stops at the first file too large to join: an older small file is never reached
  // past it (a merge must not jump over a file in age order).
  files = {{"oldest", 8 * kKiB, 10},
           {"large", 900 * kKiB, 20},
           {"a", 8 * kKiB, 30},
           {"b", 8 * kKiB, 40},
           {"c", 8 * kKiB, 50}};
  EXPECT_TRUE(LevelZeroRunToMerge(files).empty());
}

// How many level-0 files a long run of equal checkpoints leaves, and the most one merge
// rewrites: the file sizes after each merge, simulated with the picker itself.
TEST(LevelZeroRunTest, ManyEqualCheckpointsLeaveFewFilesAndMergesStaySmall) {
  std::vector<LevelZeroFile> level0;
  uint64_t seq = 0;
  size_t most = 0;
  uint64_t largest_merge = 0;
  for (int checkpoint = 0; checkpoint < 1000; ++checkpoint) {
    level0.push_back({"f" + std::to_string(checkpoint), 9 * kKiB, ++seq});
    auto run = LevelZeroRunToMerge(level0);
    if (!run.empty()) {
      uint64_t size = 0;
      std::erase_if(level0, [&](const LevelZeroFile& f) {
        bool in = std::find(run.begin(), run.end(), f.name) != run.end();
        if (in) size += f.size;
        return in;
      });
      largest_merge = std::max(largest_merge, size);
      level0.push_back({"m" + std::to_string(checkpoint), size, ++seq});
    }
    most = std::max(most, level0.size());
  }
  // 1,000 checkpoints of 9 KiB (8,000 moves or more): at most 12 files (one per checkpoint
  // unmerged), no merge above 2 MiB.
  EXPECT_LE(most, 12u);
  EXPECT_LE(largest_merge, 2048 * kKiB);
}

// A store written by many short-lived writers, each checkpointing after its write (the
// worst case: every write flushes a level-0 file).
class LevelZeroStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> OpenForWrite() {
    StoreOpenOptions o;
    o.read_only = false;
    auto s = Store::Open(path_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Read back through a fresh read-only open: the pointer names the last of `count` writes,
  // and event i holds value(i).
  void ExpectStored(int count, const std::function<std::string(int)>& value) {
    StoreOpenOptions ro;
    auto store = Store::Open(path_, ro);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Db& db = StoreInternal::db(**store);
    auto pointer = db.Get(Table::kDeployments, "prod");
    ASSERT_TRUE(pointer.ok() && *pointer);
    EXPECT_EQ(**pointer, std::to_string(count - 1));
    for (int i = 0; i < count; ++i) {
      auto event = db.Get(Table::kEvents, fmt::format("prod-{:04}", i));
      ASSERT_TRUE(event.ok() && *event) << i;
      EXPECT_EQ(**event, value(i)) << i;
    }
    ASSERT_TRUE((*store)->Close().ok());
  }

  testing::Sandbox box_;
  std::string path_ = box_ / "s";
};

TEST_F(LevelZeroStoreTest, ShortLivedWritersKeepLevelZeroShortAndLoseNothing) {
  auto init = Store::Init(path_);
  ASSERT_TRUE(init.ok()) << init.status().ToString();
  ASSERT_TRUE((*init)->Close().ok());
  const std::string filler(900, 'e');
  size_t most = 0;
  for (int i = 0; i < 60; ++i) {
    auto store = OpenForWrite();
    ASSERT_NE(store, nullptr);
    Db& db = StoreInternal::db(*store);
    Batch batch(db);
    batch.Put(Table::kDeployments, "prod", std::to_string(i));
    batch.Put(Table::kEvents, fmt::format("prod-{:04}", i), filler + std::to_string(i));
    batch.Put(Table::kEventTime, fmt::format("prod-{:04}", i), "");
    ASSERT_TRUE(db.Write(batch, /*sync=*/true).ok());
    Status checkpoint = db.Checkpoint(/*max_wal_bytes=*/0, /*max_wal_files=*/0);
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.ToString();
    most = std::max(most, db.LevelZeroFiles(Table::kEvents));
    ASSERT_TRUE(store->Close().ok());
  }
  EXPECT_LE(most, 4u) << "level 0 was not merged";

  ExpectStored(60, [&](int i) { return filler + std::to_string(i); });
}

// 2 MiB that zstd cannot shrink, different for each `seed`.
std::string Incompressible(int seed) {
  std::string out(2 << 20, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(seed + 1);
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return out;
}

// Compacting level 0 away keeps the newest version of every key: a pointer overwritten in
// every level-0 file, and events spread over them.
TEST_F(LevelZeroStoreTest, CompactingLevelZeroKeepsTheNewestVersionOfEveryKey) {
  auto init = Store::Init(path_);
  ASSERT_TRUE(init.ok()) << init.status().ToString();
  Db& db = StoreInternal::db(**init);
  for (int i = 0; i < 10; ++i) {
    Batch batch(db);
    batch.Put(Table::kDeployments, "prod", std::to_string(i));
    batch.Put(Table::kEvents, fmt::format("prod-{:04}", i), Incompressible(i));
    ASSERT_TRUE(db.Write(batch, /*sync=*/true).ok());
    ASSERT_TRUE(db.Flush({Table::kEvents}).ok());  // one level-0 file each, 2 MiB: unmerged
  }
  ASSERT_TRUE(db.MergeLevelZero().ok());
  size_t files = db.LevelZeroFiles(Table::kEvents);  // init's own file, and ours
  ASSERT_GE(files, 10u);
  ASSERT_TRUE(db.CompactLevelZero(/*at_least=*/files + 1).ok());  // fewer than asked: nothing
  EXPECT_EQ(db.LevelZeroFiles(Table::kEvents), files);
  Status compacted = db.CompactLevelZero(/*at_least=*/4);
  ASSERT_TRUE(compacted.ok()) << compacted.ToString();
  EXPECT_EQ(db.LevelZeroFiles(Table::kEvents), 0u);
  // A second round lands on the level the first one filled.
  for (int i = 10; i < 14; ++i) {
    Batch batch(db);
    batch.Put(Table::kDeployments, "prod", std::to_string(i));
    batch.Put(Table::kEvents, fmt::format("prod-{:04}", i), Incompressible(i));
    ASSERT_TRUE(db.Write(batch, /*sync=*/true).ok());
    ASSERT_TRUE(db.Flush({Table::kEvents}).ok());
  }
  ASSERT_TRUE(db.CompactLevelZero(/*at_least=*/4).ok());
  EXPECT_EQ(db.LevelZeroFiles(Table::kEvents), 0u);
  ASSERT_TRUE((*init)->Close().ok());

  ExpectStored(14, Incompressible);
}

}  // namespace
}  // namespace cairn
