// Durability end to end: SIGKILL during `snapshot create`, a 4 GiB file in bounded memory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "cairn/digest.h"
#include "support/sandbox.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;

// Deterministic text-like documents, so the crash test has real work to interrupt.
void WriteLargeRelease(const Sandbox& box, const std::string& dir, int files, unsigned seed) {
  WriteMinimalRelease(box, dir);
  std::mt19937 rng(seed);
  static const char* kWords[] = {"refund", "order",   "customer", "policy", "shipping", "the",
                                 "within", "days",    "support",  "agent",  "escalate", "a",
                                 "return", "damaged", "item",     "label",  "carrier",  "of"};
  for (int i = 0; i < files; ++i) {
    std::string text;
    size_t size = 8000 + rng() % 60000;
    while (text.size() < size) {
      text += kWords[rng() % std::size(kWords)];
      text += (rng() % 12 == 0) ? ".\n" : " ";
    }
    box.Write(dir + "/config/docs/" + std::to_string(i % 20) + "/doc" + std::to_string(i) + ".txt",
              text);
  }
}

void ExpectStoreIntact(const Sandbox& box, const std::string& when) {
  auto fsck = Cairn(box, {"fsck", "--json"});
  ASSERT_EQ(fsck.exit_code, 0) << when << "\n" << fsck.out << fsck.err;
  Json report = Json::parse(fsck.out);
  EXPECT_TRUE(report["ok"].get<bool>()) << when << "\n" << fsck.out;
  auto list = Cairn(box, {"snapshot", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << when << list.err;
  for (const auto& s : Json::parse(list.out)) {
    auto show = Cairn(box, {"show", s["id"].get<std::string>(), "--json"});
    EXPECT_EQ(show.exit_code, 0) << when << show.err;
  }
}

TEST(Durability, SigkillAtFiftyRandomMomentsNeverLeavesASnapshotMissingAnObject) {
  Sandbox box;
  ASSERT_EQ(Cairn(box, {"init"}).exit_code, 0);
  std::string rel = box / "rel";
  WriteLargeRelease(box, "rel", 600, 7);
  // Measure one uninterrupted run to spread the kills over a whole run.
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(Cairn(box, {"snapshot", "create", rel, "-m", "baseline"}).exit_code, 0);
  auto full_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
  std::mt19937 rng(42);
  int completed = 0;
  for (int round = 0; round < 50; ++round) {
    // Change ~5% of the documents so every round has new objects to write.
    for (int k = 0; k < 30; ++k) {
      int i = static_cast<int>(rng() % 600);
      box.Write("rel/config/docs/" + std::to_string(i % 20) + "/doc" + std::to_string(i) + ".txt",
                "round " + std::to_string(round) + " edit " + std::to_string(k) +
                    std::string(20000 + rng() % 20000, static_cast<char>('a' + round % 26)));
    }
    RunOptions o;
    o.kill_after_ms = static_cast<int>(rng() % static_cast<unsigned>(full_ms * 12 / 10 + 1));
    auto r = Cairn(box, {"snapshot", "create", rel, "-m", "round " + std::to_string(round)}, o);
    if (r.exit_code == 0) ++completed;
    ExpectStoreIntact(box, "after round " + std::to_string(round) + " (kill at " +
                               std::to_string(o.kill_after_ms) + " ms)");
    if (HasFatalFailure()) return;
  }
  // The store still takes snapshots after all that.
  ASSERT_EQ(Cairn(box, {"snapshot", "create", rel, "-m", "after"}).exit_code, 0);
  ExpectStoreIntact(box, "at the end");
  RecordProperty("completed_rounds", completed);
  // Kills on both sides of the commit: some runs were cut short, some finished.
  EXPECT_GT(completed, 0) << "every kill landed before the commit";
  EXPECT_LT(completed, 50) << "no kill landed before the commit";
}

TEST(Durability, FourGibFileIsStreamedInBoundedMemory) {
  Sandbox box;
  ASSERT_EQ(Cairn(box, {"init"}).exit_code, 0);
  std::string rel = WriteMinimalRelease(box, "rel");
  std::string big = rel + "/config/weights.bin";
  constexpr off_t kSize = 4ll << 30;
  {
    int fd = ::open(big.c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, kSize - 5), 0);  // sparse: reads as zeros
    ASSERT_EQ(::pwrite(fd, "tail!", 5, kSize - 5), 5);
    ::close(fd);
  }
  auto create = Cairn(box, {"snapshot", "create", rel, "-m", "big", "--json"});
  ASSERT_EQ(create.exit_code, 0) << create.err;
  if (!kSanitized) {  // ASan: see kSanitized
    EXPECT_LT(create.max_rss_kb, 300 * 1024) << "peak memory of snapshot create";
  }
  std::string id = Json::parse(create.out)["id"];
  Sha256 streamed;
  uint64_t bytes = 0;
  RunOptions o;
  o.stdout_sink = [&](std::string_view piece) {
    streamed.Update(piece);
    bytes += piece.size();
  };
  auto cat = Cairn(box, {"cat", id + ":config/weights.bin"}, o);
  ASSERT_EQ(cat.exit_code, 0) << cat.err;
  if (!kSanitized) {  // ASan: see kSanitized
    EXPECT_LT(cat.max_rss_kb, 300 * 1024) << "peak memory of cat";
  }
  ASSERT_EQ(bytes, static_cast<uint64_t>(kSize));
  EXPECT_EQ(streamed.Finish().ToString(), FileDigest(big));
}

}  // namespace
}  // namespace cairn::testing
