// Format 1 -> format 2, end to end on fixtures/format1-store (made by the last format-1
// cairn, scripts/make-format1-store.sh): read commands read format 1 as it is and change
// nothing; the first write upgrades it with nothing lost; a SIGKILL at any moment of the
// upgrade leaves format 1 intact or format 2 complete.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;

const char* kV1 = "9f86c58b8d084df9acc57b25ea290a3e6fc6a3eb67b9843356f224cb07fb18b5";
const char* kV2 = "66f7f1d56dc474e59a70e8ddc822c00476a189fbdd362716ba71d44857a25a60";
const char* kV3 = "780741bc01897fdf432da162a77837226266cc85f8c62143d0038c8293253f86";

RunResult CairnAsMigrationTest(const Sandbox& box, std::vector<std::string> args,
                               RunOptions o = {}) {
  args.insert(args.begin(), {"--store", box / "store"});
  o.env.emplace("CAIRN_ACTOR", "migration-test");
  return RunCairn(args, o);
}

// What every read command says about the store's history (none of it may change).
std::map<std::string, std::string> History(const Sandbox& box) {
  std::map<std::string, std::string> out;
  const std::vector<std::vector<std::string>> reads = {
      {"snapshot", "list", "--json"},
      {"show", kV1, "--json"},
      {"show", kV2, "--json"},
      {"show", kV3, "--json"},
      {"log", "prod", "--json"},
      {"log", "beta", "--json"},
      {"trust", "list", "--json"},
      {"trust", "log", "--json"},
      {"policy", "show", "prod", "--json"},
      {"policy", "log", "--json"},
      {"verify", kV1, "--json"},
      {"verify", kV2, "--deep", "--json"},
      {"live", "prod", "--at", "2030-01-01T00:00:00Z", "--json"},
      {"cat", std::string(kV3) + ":models/primary.json"},
      {"diff", kV1, kV2}};
  for (const auto& args : reads) {
    auto r = CairnAsMigrationTest(box, args);
    std::string name;
    for (const auto& a : args) name += a + " ";
    EXPECT_EQ(r.exit_code, 0) << name << "\n" << r.err;
    out[name] = r.out;
  }
  return out;
}

// Compares entry by entry, so that a failure names the command that changed.
void ExpectSameHistory(const std::map<std::string, std::string>& got,
                       const std::map<std::string, std::string>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [command, out] : want) {
    auto it = got.find(command);
    ASSERT_NE(it, got.end()) << command;
    EXPECT_EQ(it->second, out) << "the output of 'cairn " << command << "' changed";
  }
}

void ExpectAuditClean(const Sandbox& box) {
  auto audit = CairnAsMigrationTest(box, {"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

// Path, size and digest of every file under `dir`: proof that nothing was written.
std::map<std::string, std::string> Tree(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string rel = fs::relative(e.path(), dir).string();
    out[rel] = e.is_regular_file() ? FileDigest(e.path().string()) : "dir";
  }
  return out;
}

void ExpectFormat2(const Sandbox& box) {
  EXPECT_TRUE(fs::exists(box / "store/db2/CURRENT"));
  EXPECT_FALSE(fs::exists(box / "store/db"));
  EXPECT_TRUE(fs::exists(box / "store/db.format1/CURRENT"));
  for (const auto& e : fs::directory_iterator(box / "store")) {
    EXPECT_FALSE(e.path().filename().string().starts_with(".db2-tmp-")) << e.path();
  }
}

TEST(Migration, ReadCommandsReadAFormat1StoreAsItIsAndWriteNothing) {
  Sandbox box;
  box.CopyFixture("format1-store/.cairn", "store");
  auto before = Tree(box / "store");
  auto history = History(box);
  EXPECT_NE(history["log prod --json "].find(kV2), std::string::npos);
  ExpectAuditClean(box);
  auto status = CairnAsMigrationTest(box, {"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("prod"), std::string::npos);
  EXPECT_NE(status.out.find("beta"), std::string::npos);
  auto fsck = CairnAsMigrationTest(box, {"fsck"});
  EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
  auto after = Tree(box / "store");
  EXPECT_EQ(before, after);
  EXPECT_FALSE(fs::exists(box / "store/db2"));
}

TEST(Migration, TheFirstWriteUpgradesToFormat2WithNothingLost) {
  Sandbox box;
  box.CopyFixture("format1-store/.cairn", "store");
  auto history = History(box);
  auto promote =
      CairnAsMigrationTest(box, {"promote", kV1, "--to", "staging", "--reason", "CX-200: try it"});
  ASSERT_EQ(promote.exit_code, 0) << promote.out << promote.err;
  EXPECT_NE(promote.err.find("upgraded the store"), std::string::npos) << promote.err;
  EXPECT_NE(promote.err.find("from format 1 to format 2"), std::string::npos) << promote.err;
  ExpectFormat2(box);
  ExpectSameHistory(History(box), history);
  // Once upgraded, nothing more is said.
  auto again = CairnAsMigrationTest(box, {"promote", kV2, "--to", "staging", "--reason", "CX-201"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err.find("upgraded"), std::string::npos) << again.err;
  // The pre-promote hook came along: a reason without a ticket is refused on prod.
  auto blocked =
      CairnAsMigrationTest(box, {"promote", kV1, "--to", "prod", "--reason", "no ticket"});
  EXPECT_EQ(blocked.exit_code, 7) << blocked.out << blocked.err;
  // Rollback walks back the format-1 history: prod was v1 before v2 was re-instated — by a
  // rollback (event #4) that rolled back from v1, so v1 was judged bad there and returns only
  // with --force, through every gate of prod (its ticket hook included).
  auto refused = CairnAsMigrationTest(box, {"rollback", "prod", "--reason", "INC-9"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("(event #4: \"INC-2: v2 was fine after all\")"), std::string::npos)
      << refused.err;
  auto back = CairnAsMigrationTest(box, {"rollback", "prod", "--force", "--reason", "INC-9"});
  ASSERT_EQ(back.exit_code, 0) << back.out << back.err;
  // The format-1 events recorded no hooks: counted as such, never a problem.
  auto audit = CairnAsMigrationTest(box, {"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_NE(audit.out.find("events predate hook records"), std::string::npos) << audit.out;
  auto show = CairnAsMigrationTest(box, {"show", "prod", "--json"});
  EXPECT_NE(show.out.find(kV1), std::string::npos);
  ExpectAuditClean(box);
  auto fsck = CairnAsMigrationTest(box, {"fsck"});
  EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
}

TEST(Migration, ASigkillAtAnyMomentLeavesFormat1IntactOrFormat2Complete) {
  Sandbox box;
  box.CopyFixture("format1-store/.cairn", "store");
  auto history = History(box);
  // How long an upgrade takes here, so the kills spread over all of it.
  auto t0 = std::chrono::steady_clock::now();
  auto full = CairnAsMigrationTest(box, {"promote", kV1, "--to", "staging", "--reason", "CX-1"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  int span_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  std::mt19937 rng(7);
  int before_switch = 0, after_switch = 0;
  for (int i = 0; i < 40; ++i) {
    fs::remove_all(box / "store");
    box.CopyFixture("format1-store/.cairn", "store");
    RunOptions o;
    o.kill_after_ms = static_cast<int>(rng() % static_cast<unsigned>(span_ms + 1));
    auto killed =
        CairnAsMigrationTest(box, {"promote", kV1, "--to", "staging", "--reason", "CX-1"}, o);
    SCOPED_TRACE("kill after " + std::to_string(o.kill_after_ms) + " ms");
    bool has2 = fs::exists(box / "store/db2/CURRENT");
    bool has1 = fs::exists(box / "store/db/CURRENT");
    ASSERT_TRUE(has1 || has2) << "neither format is there";
    if (killed.signal != 0) (has2 ? after_switch : before_switch)++;
    // Either way, every read command tells the whole history...
    ExpectSameHistory(History(box), history);
    ExpectAuditClean(box);
    // ...and the next write finishes the job (staging holds v1 or nothing now).
    auto next = CairnAsMigrationTest(box, {"promote", kV2, "--to", "staging", "--reason", "CX-2"});
    ASSERT_EQ(next.exit_code, 0) << next.err;
    ExpectFormat2(box);
    ExpectSameHistory(History(box), history);
    ExpectAuditClean(box);
  }
  // The kills landed on both sides of the switch (otherwise this proved half of it).
  EXPECT_GT(before_switch, 0);
  EXPECT_GT(after_switch, 0);
}

}  // namespace
}  // namespace cairn::testing
