// Every step of every write path, crashed at on purpose (core/src/util/crash_point.h): each
// named point is reached and the process killed (SIGKILL) at least 20 times. After every
// kill the store opens, fsck and audit verify pass, each pointer is its last event's `to`,
// nothing acknowledged before the kill is missing — a write killed after its
// acknowledgement is there, one killed before it started is not — and the next command
// completes. The random-SIGKILL tests stay as a second, blind check.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr int kRounds = 20;

class CrashPointE2E : public ::testing::Test {
 protected:
  RunResult Run(std::vector<std::string> args, const std::string& crash_at = "") {
    args.insert(args.begin(), {"--store", store_});
    RunOptions o;
    o.env["CAIRN_ACTOR"] = "tester@e2e";
    if (!crash_at.empty()) o.env["CAIRN_CRASH_AT"] = crash_at;
    return RunCairn(args, o);
  }

  // A snapshot whose prompt says `text` (a new release each time).
  std::string Snapshot(const std::string& text, const std::string& crash_at = "",
                       RunResult* out = nullptr) {
    box_.Write("rel/prompts/system.md", text + " {{customer_name}}\n");
    auto r = Run({"snapshot", "create", rel_, "-m", text, "-q"}, crash_at);
    if (out != nullptr) *out = r;
    return r.exit_code == 0 ? r.out.substr(0, 64) : "";
  }

  std::set<std::string> Snapshots() { return SnapshotIds(store_); }

  Json Log(const std::string& deployment) {
    auto r = Run({"log", deployment, "--json"});
    return r.exit_code == 0 ? Json::parse(r.out) : Json::array();
  }

  // What must hold after any kill.
  void ExpectHealthy(const std::string& when) {
    auto status = Run({"status", "--json"});
    ASSERT_EQ(status.exit_code, 0) << when << ": " << status.err;
    auto fsck = Run({"fsck"});
    EXPECT_EQ(fsck.exit_code, 0) << when << ": " << fsck.out << fsck.err;
    auto audit = Run({"audit", "verify"});
    EXPECT_EQ(audit.exit_code, 0) << when << ": " << audit.out << audit.err;
    for (const auto& d : Json::parse(status.out)) {
      std::string name = d["deployment"].get<std::string>();
      Json log = Log(name);
      ASSERT_FALSE(log.empty()) << when << ": " << name;
      EXPECT_EQ(d["live"], log.back()["to"]) << when << ": " << name;
    }
  }

  // The move that the point `at` interrupted: before its write nothing changed; after its
  // acknowledgement it is there; in between either.
  void ExpectMove(const std::string& at, size_t before, size_t after, const std::string& when) {
    if (at == "db.write.before") {
      EXPECT_EQ(after, before) << when;
    }
    if (at == "db.write.acknowledged") {
      EXPECT_EQ(after, before + 1) << when;
    }
    EXPECT_TRUE(after == before || after == before + 1) << when;
  }

  Sandbox box_;
  std::string store_ = box_ / "store";
  std::string rel_;
};

TEST_F(CrashPointE2E, EveryPointOfSnapshotCreateLeavesAWholeStore) {
  ASSERT_EQ(Run({"init"}).exit_code, 0);
  rel_ = WriteMinimalRelease(box_, "rel");
  std::set<std::string> acknowledged;
  int round = 0;
  for (std::string at : {"db.write.before", "db.write.unacknowledged", "db.write.acknowledged",
                         "ingest.objects-stored"}) {
    for (int i = 0; i < kRounds; ++i, ++round) {
      std::string when = at + " round " + std::to_string(i);
      if (at == "ingest.objects-stored") {
        // Objects are stored ahead of the snapshot only when there are more than 8 MiB; a
        // new first chunk each round makes the file new (its other chunks are shared).
        std::string big(9 << 20, 'x');
        big.replace(0, 16, "round " + std::to_string(1000000000 + round));
        box_.Write("rel/config/big.bin", big);
      }
      RunResult killed;
      Snapshot("crash " + std::to_string(round), at, &killed);
      ASSERT_EQ(killed.signal, SIGKILL) << when << ": the point was not reached\n" << killed.err;
      ExpectHealthy(when);
      std::set<std::string> now = Snapshots();
      for (const auto& id : acknowledged) ASSERT_TRUE(now.contains(id)) << when << ": lost " << id;
      size_t extra = now.size() - acknowledged.size();
      if (at == "db.write.acknowledged") {
        EXPECT_EQ(extra, 1u) << when;
      }
      if (at == "db.write.before" || at == "ingest.objects-stored") {
        EXPECT_EQ(extra, 0u) << when;
      }
      acknowledged = now;
      std::string id = Snapshot("after " + std::to_string(round));
      ASSERT_FALSE(id.empty()) << when << ": the next snapshot failed";
      acknowledged.insert(id);
    }
    fs::remove(box_ / "rel/config/big.bin");
  }
}

TEST_F(CrashPointE2E, EveryPointOfPromoteAndRollbackLeavesAWholeChain) {
  ASSERT_EQ(Run({"init"}).exit_code, 0);
  rel_ = WriteMinimalRelease(box_, "rel");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(Snapshot("release " + std::to_string(i)));
  ASSERT_EQ(Run({"promote", ids[0], "--to", "prod", "--reason", "start"}).exit_code, 0);
  for (std::string at : {"db.write.before", "db.write.unacknowledged", "db.write.acknowledged"}) {
    for (int i = 0; i < kRounds; ++i) {
      bool rollback = i % 2 == 1;
      std::string when = at + (rollback ? " rollback " : " promote ") + std::to_string(i);
      Json before = Log("prod");
      std::string live = before.back()["to"];
      std::string next = live == ids[1] ? ids[2] : ids[1];
      auto r = rollback && before.size() > 1
                   ? Run({"rollback", "prod", "--reason", when, "--force"}, at)
                   : Run({"promote", next, "--to", "prod", "--reason", when}, at);
      ASSERT_EQ(r.signal, SIGKILL) << when << ": the point was not reached\n" << r.err;
      ExpectHealthy(when);
      Json after = Log("prod");
      for (size_t k = 0; k < before.size(); ++k) ASSERT_EQ(after[k], before[k]) << when;
      ExpectMove(at, before.size(), after.size(), when);
      // The next move completes.
      std::string now = after.back()["to"];
      auto again = Run({"promote", now == ids[0] ? ids[1] : ids[0], "--to", "prod", "--reason",
                        "after " + when});
      ASSERT_EQ(again.exit_code, 0) << when << ": " << again.err;
    }
  }
}

TEST_F(CrashPointE2E, EveryPointOfCheckoutLeavesCurrentWhole) {
  ASSERT_EQ(Run({"init"}).exit_code, 0);
  rel_ = WriteMinimalRelease(box_, "rel");
  std::vector<std::string> ids = {Snapshot("zero"), Snapshot("one")};
  std::string dir = box_ / "serve";
  ASSERT_EQ(Run({"checkout", ids[0], "--into", dir, "--keep", "1"}).exit_code, 0);
  for (std::string at :
       {"checkout.tree-written", "checkout.version-in-place", "checkout.current-switched"}) {
    for (int i = 0; i < kRounds; ++i) {
      std::string when = at + " round " + std::to_string(i);
      std::string was = fs::read_symlink(dir + "/current").string();
      int target = was.ends_with(ids[0]) ? 1 : 0;
      auto r = Run({"checkout", ids[target], "--into", dir, "--keep", "1"}, at);
      ASSERT_EQ(r.signal, SIGKILL) << when << ": the point was not reached\n" << r.err;
      // current names one complete version: the old one, or (once switched) the new one.
      std::string now = fs::read_symlink(dir + "/current").string();
      if (at == "checkout.current-switched") {
        EXPECT_EQ(now, ".versions/" + ids[target]) << when;
      } else {
        EXPECT_EQ(now, was) << when;
      }
      std::string text = box_.Read("serve/current/prompts/system.md");
      EXPECT_EQ(text,
                (now.ends_with(ids[0]) ? "zero" : "one") + std::string(" {{customer_name}}\n"))
          << when;
      // The next checkout lands, verifying what the killed one left.
      auto again = Run({"checkout", ids[target], "--into", dir, "--keep", "1", "--verify"});
      ASSERT_EQ(again.exit_code, 0) << when << ": " << again.err;
      ASSERT_EQ(fs::read_symlink(dir + "/current").string(), ".versions/" + ids[target]) << when;
      for (const auto& e : fs::directory_iterator(dir + "/.versions")) {
        std::string name = e.path().filename().string();
        EXPECT_TRUE(name == ".lock" || name == ids[target] || name == ids[target] + ".seal")
            << when << ": " << name << " left behind";
      }
    }
  }
}

// The format upgrade: killed with the copy complete but not in place, or in place with the
// format-1 database not yet set aside. Reads give what they gave before; the next write
// finishes the upgrade.
TEST_F(CrashPointE2E, EveryPointOfTheFormatUpgradeLeavesFormat1IntactOrFormat2Complete) {
  Sandbox reference;
  reference.CopyFixture("format1-store/.cairn", "store");
  auto run_in = [](const std::string& store, std::vector<std::string> args,
                   const std::string& crash_at = "") {
    args.insert(args.begin(), {"--store", store});
    RunOptions o;
    o.env["CAIRN_ACTOR"] = "tester@e2e";
    if (!crash_at.empty()) o.env["CAIRN_CRASH_AT"] = crash_at;
    return RunCairn(args, o);
  };
  const std::string status = run_in(reference / "store", {"status", "--json"}).out;
  const std::string log = run_in(reference / "store", {"log", "prod", "--json"}).out;
  ASSERT_FALSE(status.empty());
  for (std::string at : {"migrate.copied", "migrate.switched"}) {
    for (int i = 0; i < kRounds; ++i) {
      std::string when = at + " round " + std::to_string(i);
      Sandbox box;
      box.CopyFixture("format1-store/.cairn", "store");
      std::string store = box / "store";
      auto r =
          run_in(store, {"policy", "set", "staging", "--soak", "beta=1h", "--reason", when}, at);
      ASSERT_EQ(r.signal, SIGKILL) << when << ": the point was not reached\n" << r.err;
      EXPECT_EQ(fs::exists(store + "/db2/CURRENT"), at == "migrate.switched") << when;
      EXPECT_EQ(run_in(store, {"status", "--json"}).out, status) << when;
      EXPECT_EQ(run_in(store, {"log", "prod", "--json"}).out, log) << when;
      auto again =
          run_in(store, {"policy", "set", "staging", "--soak", "beta=1h", "--reason", when});
      ASSERT_EQ(again.exit_code, 0) << when << ": " << again.err;
      EXPECT_EQ(run_in(store, {"log", "prod", "--json"}).out, log) << when;
      EXPECT_EQ(run_in(store, {"audit", "verify"}).exit_code, 0) << when;
      EXPECT_EQ(run_in(store, {"fsck"}).exit_code, 0) << when;
      EXPECT_TRUE(fs::exists(store + "/db.format1")) << when;
    }
  }
}

// A recover killed before its copy is in place leaves no store at DIR/.cairn (a partial copy
// that passed for a recovered store would hide the loss); the next recover completes and
// leaves nothing behind.
TEST_F(CrashPointE2E, ARecoverKilledBeforeItsCopyIsInPlaceLeavesNoStore) {
  ASSERT_EQ(Run({"init"}).exit_code, 0);
  rel_ = WriteMinimalRelease(box_, "rel");
  std::string id = Snapshot("zero");
  ASSERT_EQ(Run({"promote", id, "--to", "prod", "--reason", "start"}).exit_code, 0);
  for (int i = 0; i < kRounds; ++i) {
    std::string when = "recover round " + std::to_string(i);
    std::string dir = box_ / ("new" + std::to_string(i));
    auto r = Run({"recover", "--into", dir}, "recover.copied");
    ASSERT_EQ(r.signal, SIGKILL) << when << ": the point was not reached\n" << r.err;
    EXPECT_FALSE(fs::exists(dir + "/.cairn")) << when;
    auto again = Run({"recover", "--into", dir});
    ASSERT_EQ(again.exit_code, 0) << when << ": " << again.out << again.err;
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename());
    EXPECT_EQ(left, std::vector<std::string>{".cairn"}) << when;
    auto log = RunCairn({"--store", dir + "/.cairn", "log", "prod", "--json"});
    EXPECT_EQ(log.exit_code, 0) << when;
  }
}

// gc killed after its records batch, after its objects, or inside either synced write: every
// snapshot it keeps is whole (fsck), what was live stays live, and the next gc finishes the
// job, leaving no unreferenced object.
TEST_F(CrashPointE2E, EveryPointOfGcLeavesEveryKeptSnapshotWhole) {
  ASSERT_EQ(Run({"init"}).exit_code, 0);
  rel_ = WriteMinimalRelease(box_, "rel");
  std::string live = Snapshot("live");
  ASSERT_EQ(Run({"promote", live, "--to", "prod", "--reason", "start"}).exit_code, 0);
  int round = 0;
  for (std::string at : {"gc.records-deleted", "gc.objects-deleted", "db.write.before",
                         "db.write.unacknowledged", "db.write.acknowledged"}) {
    for (int i = 0; i < kRounds; ++i, ++round) {
      std::string when = at + " round " + std::to_string(i);
      // Garbage for this round: a snapshot with a big file of its own (chunks, and a chunk
      // list), then a newer one without it.
      std::string big(3 << 20, 'g');
      big.replace(0, 16, "round " + std::to_string(1000000000 + round));
      box_.Write("rel/config/big.bin", big);
      std::string garbage = Snapshot("garbage " + std::to_string(round));
      fs::remove(box_ / "rel/config/big.bin");
      std::string head = Snapshot("head " + std::to_string(round));
      auto r = Run({"gc", "--grace", "0", "--yes"}, at);
      ASSERT_EQ(r.signal, SIGKILL) << when << ": the point was not reached\n" << r.err;
      ExpectHealthy(when);
      std::set<std::string> now = Snapshots();
      ASSERT_TRUE(now.contains(live) && now.contains(head)) << when;
      // Records go in gc's first synced write: a kill before it keeps the garbage snapshot,
      // one after its acknowledgement does not (in between: either).
      if (at == "db.write.before") {
        EXPECT_TRUE(now.contains(garbage)) << when;
      }
      if (at != "db.write.before" && at != "db.write.unacknowledged") {
        EXPECT_FALSE(now.contains(garbage)) << when;
      }
      auto again = Run({"gc", "--grace", "0", "--yes", "--json"});
      ASSERT_EQ(again.exit_code, 0) << when << ": " << again.err;
      auto fsck = Run({"fsck", "--json"});
      ASSERT_EQ(fsck.exit_code, 0) << when << fsck.out;
      EXPECT_EQ(Json::parse(fsck.out)["unreferenced_objects"], 0) << when;
      EXPECT_EQ(Snapshots(), (std::set<std::string>{live, head})) << when;
    }
  }
}

TEST_F(CrashPointE2E, AnUnknownPointIsRefusedRatherThanNeverReached) {
  ASSERT_EQ(Run({"init"}).exit_code, 0);
  auto r = Run({"status"}, "db.write.befor");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("CAIRN_CRASH_AT"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cairn::testing
