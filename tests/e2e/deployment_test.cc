// End-to-end: deployments moved by the real binary — many processes at once, SIGKILL at
// random moments, and the revisions every command accepts.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;

class DeployE2E : public ::testing::Test {
 protected:
  RunResult Cairn(std::vector<std::string> args, RunOptions o = {}) {
    args.insert(args.begin(), {"--store", box_ / "store"});
    o.env["CAIRN_ACTOR"] = "tester@e2e";
    return RunCairn(args, o);
  }
  void SetUpSnapshots(int n) {
    ASSERT_EQ(Cairn({"init"}).exit_code, 0);
    std::string rel = WriteMinimalRelease(box_, "rel");
    for (int i = 0; i < n; ++i) {
      box_.Write("rel/prompts/system.md", "Release " + std::to_string(i) + " {{customer_name}}\n");
      auto r = Cairn({"snapshot", "create", rel, "-m", "r" + std::to_string(i), "-q"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ids_.push_back(r.out.substr(0, 64));
    }
  }
  std::string Live(const std::string& deployment = "prod") {
    auto r = Cairn({"show", deployment, "--json"});
    if (r.exit_code != 0) return "";
    return Json::parse(r.out)["id"];
  }
  Sandbox box_;
  std::vector<std::string> ids_;
};

TEST_F(DeployE2E, PromoteRollbackLogLiveAndRevisionsInEveryCommand) {
  SetUpSnapshots(3);
  ASSERT_EQ(Cairn({"promote", ids_[0].substr(0, 8), "--to", "prod", "--reason", "v1"}).exit_code,
            0);
  ASSERT_EQ(Cairn({"promote", ids_[1], "--to", "prod", "--reason", "v2"}).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", ids_[2], "--to", "prod", "--reason", "v3"}).exit_code, 0);
  auto again = Cairn({"promote", ids_[2], "--to", "prod", "--reason", "dup"});
  EXPECT_EQ(again.exit_code, 6);
  EXPECT_NE(again.err.find("already live"), std::string::npos);
  auto rb = Cairn({"rollback", "prod", "--reason", "evals dropped"});
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_EQ(Live(), ids_[1]);
  // prod@{N} and prod@TIME in show, diff, cat and promote.
  EXPECT_EQ(Json::parse(Cairn({"show", "prod@{1}", "--json"}).out)["id"], ids_[2]);
  auto diff = Cairn({"diff", "prod@{1}", "prod", "--json"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_EQ(Json::parse(diff.out)["from"], ids_[2]);
  auto log = Cairn({"log", "prod", "--json"});
  ASSERT_EQ(log.exit_code, 0);
  Json events = Json::parse(log.out);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3]["action"], "rollback");
  EXPECT_EQ(events[3]["actor"], "tester@e2e");
  std::string t2 = events[1]["time"];
  auto cat = Cairn({"cat", "prod@" + t2 + ":prompts/system.md"});
  ASSERT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_EQ(cat.out, "Release 1 {{customer_name}}\n");
  auto live = Cairn({"live", "prod", "--at", t2, "--json"});
  ASSERT_EQ(live.exit_code, 0) << live.err;
  EXPECT_EQ(Json::parse(live.out)["live"], ids_[1]);
  EXPECT_EQ(Cairn({"live", "prod", "--at", "2001-01-01 00:00"}).exit_code, 3);
  ASSERT_EQ(Cairn({"promote", "prod@{1}", "--to", "staging", "--reason", "copy"}).exit_code, 0);
  EXPECT_EQ(Live("staging"), ids_[2]);
  auto status = Cairn({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0);
  EXPECT_EQ(Json::parse(status.out).size(), 2u);
  auto audit = Cairn({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  auto moved = Cairn({"promote", ids_[0], "--to", "prod", "--reason", "x", "--expect", ids_[2]});
  EXPECT_EQ(moved.exit_code, 9) << moved.err;
  EXPECT_EQ(Cairn({"rollback", "prod", "--to", "prod", "--reason", "x"}).exit_code, 6);
  EXPECT_EQ(Cairn({"promote", ids_[0], "--to", "Bad Name", "--reason", "x"}).exit_code, 2);
}

TEST_F(DeployE2E, EightProcessesFiftyPromotesEachWithExpect) {
  SetUpSnapshots(4);
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "prod", "--reason", "start"}).exit_code, 0);
  std::mutex mu;
  std::multiset<std::string> succeeded;
  int other_failures = 0;
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 rng(w);
      for (int i = 0; i < 50; ++i) {
        std::string current = Live();
        std::string next = current;
        while (next == current) next = ids_[rng() % ids_.size()];
        std::string reason = "w" + std::to_string(w) + "-" + std::to_string(i);
        RunOptions o;
        auto r = Cairn({"--lock-timeout", "60000", "promote", next, "--to", "prod", "--reason",
                        reason, "--expect", current},
                       o);
        std::lock_guard<std::mutex> lock(mu);
        if (r.exit_code == 0) {
          succeeded.insert(reason);
        } else if (r.exit_code != 9 && r.exit_code != 6) {
          ++other_failures;
          ADD_FAILURE() << "exit " << r.exit_code << ": " << r.err;
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(other_failures, 0);
  auto log = Cairn({"log", "prod", "--json"});
  ASSERT_EQ(log.exit_code, 0);
  Json events = Json::parse(log.out);
  EXPECT_EQ(events.size(), succeeded.size() + 1) << "one event per successful promote";
  std::multiset<std::string> logged;
  for (size_t i = 1; i < events.size(); ++i) logged.insert(events[i]["reason"]);
  EXPECT_EQ(logged, succeeded) << "every success is in the log exactly once";
  EXPECT_EQ(Cairn({"audit", "verify"}).exit_code, 0);
  EXPECT_GT(succeeded.size(), 0u);
}

TEST_F(DeployE2E, SigkillAtTwoHundredMomentsLeavesPointerEqualToLastEvent) {
  SetUpSnapshots(4);
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "prod", "--reason", "start"}).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", ids_[1], "--to", "prod", "--reason", "second"}).exit_code, 0);
  std::mt19937 rng(7);
  int finished = 0;
  for (int round = 0; round < 200; ++round) {
    RunOptions o;
    // Every fifth move gets five seconds, so a slow machine (or a sanitized build) cannot
    // make every round a kill: the test asserts both sides.
    o.kill_after_ms = static_cast<int>(rng() % 40);
    if (round % 5 == 4) o.kill_after_ms = 5000;
    RunResult r;
    if (rng() % 3 == 0) {
      r = Cairn({"rollback", "prod", "--reason", "r" + std::to_string(round)}, o);
    } else {
      std::string current = Live();
      std::string next = current;
      while (next == current) next = ids_[rng() % ids_.size()];
      r = Cairn({"promote", next, "--to", "prod", "--reason", "p" + std::to_string(round)}, o);
    }
    if (r.exit_code == 0) ++finished;
    auto audit = Cairn({"audit", "verify", "--json"});
    ASSERT_EQ(audit.exit_code, 0) << "round " << round << ": " << audit.out << audit.err;
    auto log = Cairn({"log", "prod", "--json"});
    ASSERT_EQ(log.exit_code, 0);
    Json events = Json::parse(log.out);
    ASSERT_EQ(Live(), events.back()["to"]) << "round " << round;
  }
  RecordProperty("finished_moves", finished);
  EXPECT_GT(finished, 0) << "every kill landed before the move";
  EXPECT_LT(finished, 200) << "no kill landed during a move";
}

}  // namespace
}  // namespace cairn::testing
