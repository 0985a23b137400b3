// End-to-end: hooks around promote and rollback with the real binary — the three sample
// hooks shipped in hooks/, and hooks that fail, time out or write garbage.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

class HooksE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Cairn({"init"}).exit_code, 0);
    std::string rel = WriteMinimalRelease(box_, "rel");
    for (int i = 0; i < 2; ++i) {
      box_.Write("rel/prompts/system.md", "Release " + std::to_string(i) + " {{customer_name}}\n");
      auto r = Cairn({"snapshot", "create", rel, "-m", "r" + std::to_string(i), "-q"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ids_.push_back(r.out.substr(0, 64));
    }
  }
  RunResult Cairn(std::vector<std::string> args, RunOptions o = {}) {
    args.insert(args.begin(), {"--store", store_});
    o.env["CAIRN_ACTOR"] = "tester@e2e";
    return RunCairn(args, o);
  }
  // Installs a sample hook from the project's hooks/ folder, the way docs/hooks.md says.
  void InstallSample(const std::string& sample, const std::string& stage, const std::string& as) {
    std::string to = store_ + "/hooks/" + stage + ".d/" + as;
    fs::copy_file(FixturePath("../hooks/" + sample), to);
    ::chmod(to.c_str(), 0755);
  }
  void WriteHook(const std::string& stage, const std::string& name, const std::string& body) {
    std::string rel = "store/hooks/" + stage + ".d/" + name;
    box_.Write(rel, "#!/bin/sh\n" + body);
    ::chmod((box_ / rel).c_str(), 0755);
  }
  int Events() {
    auto r = Cairn({"log", "prod", "--json"});
    return r.exit_code == 0 ? static_cast<int>(Json::parse(r.out).size()) : 0;
  }
  RunResult Promote(int i, const std::string& reason, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"promote", ids_[i], "--to", "prod", "--reason", reason};
    args.insert(args.end(), extra.begin(), extra.end());
    return Cairn(args);
  }

  Sandbox box_;
  std::string store_ = box_ / "store";
  std::vector<std::string> ids_;
};

TEST_F(HooksE2E, RequireTicketSampleBlocksAReasonWithoutATicket) {
  InstallSample("require-ticket", "pre-promote", "10-require-ticket");
  auto r = Promote(0, "launch the bot");
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.err.find("pre-promote hook 10-require-ticket refused the move (exit 1)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("the reason must name a ticket"), std::string::npos) << r.err;
  EXPECT_EQ(Events(), 0);
  EXPECT_EQ(Cairn({"show", "prod"}).exit_code, 3);  // no pointer either
  r = Promote(0, "CX-142: launch the bot");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Events(), 1);
}

// Issue 14, finding 2: a gate hook that cannot run — not executable, a directory, a dangling
// symlink — blocks the move, naming it, instead of passing by not running.
TEST_F(HooksE2E, AGateHookThatCannotRunBlocksTheMoveNamingIt) {
  for (const auto& [name, why] :
       {std::pair{"10-freeze", "not executable"}, std::pair{"20-freeze", "a directory"},
        std::pair{"30-freeze", "a dangling symlink"}}) {
    fs::remove_all(store_ + "/hooks/pre-promote.d");
    fs::create_directories(store_ + "/hooks/pre-promote.d");
    std::string path = store_ + "/hooks/pre-promote.d/" + name;
    if (std::string(why) == "not executable") {
      box_.Write("store/hooks/pre-promote.d/" + std::string(name), "#!/bin/sh\nexit 1\n");
      ::chmod(path.c_str(), 0644);
    } else if (std::string(why) == "a directory") {
      fs::create_directories(path);
    } else {
      fs::create_symlink(box_ / "freeze-that-was-moved", path);
    }
    auto r = Promote(0, "CX-1: launch");
    EXPECT_EQ(r.exit_code, 7) << name << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("pre-promote hook ") + name + " refused the move (" + why),
              std::string::npos)
        << r.err;
    EXPECT_EQ(Events(), 0);
  }
}

// Issue 14, finding 2: a --store whose database is a symlink to the real store's ran no
// hooks (they were looked up beside the path given); they are the real store's hooks now.
TEST_F(HooksE2E, AStoreReachedThroughASymlinkedDatabaseRunsTheRealStoresHooks) {
  WriteHook("pre-promote", "10-freeze", "echo frozen >&2; exit 1\n");
  fs::create_directories(box_ / "elsewhere");
  fs::create_directory_symlink(store_ + "/db2", box_ / "elsewhere/db2");
  RunOptions o;
  o.env["CAIRN_ACTOR"] = "tester@e2e";
  auto r = RunCairn({"--store", box_ / "elsewhere", "promote", ids_[0], "--to", "prod", "--reason",
                     "CX-1: around the freeze"},
                    o);
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.err.find("pre-promote hook 10-freeze refused the move"), std::string::npos) << r.err;
  EXPECT_EQ(Events(), 0);
}

TEST_F(HooksE2E, SiemSampleAppendsEveryMoveAsOneJsonLine) {
  InstallSample("siem-log", "post-promote", "50-siem-log");
  InstallSample("siem-log", "post-rollback", "50-siem-log");
  ASSERT_EQ(Promote(0, "v1").exit_code, 0);
  ASSERT_EQ(Promote(1, "v2").exit_code, 0);
  ASSERT_EQ(Cairn({"rollback", "prod", "--reason", "INC-7"}).exit_code, 0);
  std::istringstream lines(box_.Read("store/hooks/siem.jsonl"));
  std::string line;
  std::vector<Json> events;
  while (std::getline(lines, line)) events.push_back(Json::parse(line));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["hook"], "post-promote");
  EXPECT_EQ(events[0]["event"]["seq"], 1);
  EXPECT_EQ(events[1]["from"], ids_[0]);
  EXPECT_EQ(events[2]["hook"], "post-rollback");
  EXPECT_EQ(events[2]["action"], "rollback");
  EXPECT_EQ(events[2]["reason"], "INC-7");
  EXPECT_EQ(events[2]["event"]["to"], ids_[0]);
  // The hook saw exactly the event that was stored.
  auto log = Json::parse(Cairn({"log", "prod", "--json"}).out);
  EXPECT_EQ(events[2]["event"]["hash"], log[2]["hash"]);
}

TEST_F(HooksE2E, ChangeWindowSampleBlocksOutsideTheWindowButNeverARollback) {
  InstallSample("change-window", "pre-promote", "20-change-window");
  box_.Write("store/hooks/change-window.conf", "DAYS=\"1 2 3 4 5 6 7\"\nSTART=00:00\nEND=24:00\n");
  ASSERT_EQ(Promote(0, "v1").exit_code, 0);
  ASSERT_EQ(Promote(1, "v2").exit_code, 0);
  box_.Write("store/hooks/change-window.conf", "START=00:00\nEND=00:00\nDEPLOYMENTS=\"prod\"\n");
  auto r = Promote(0, "v1 again");
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.err.find("outside the change window"), std::string::npos) << r.err;
  EXPECT_EQ(Events(), 2);
  // Incidents are never blocked by the window: rollback runs no pre-promote hook.
  EXPECT_EQ(Cairn({"rollback", "prod", "--reason", "INC-9"}).exit_code, 0);
  // Other deployments are outside the window's scope.
  EXPECT_EQ(Cairn({"promote", ids_[1], "--to", "beta", "--reason", "try"}).exit_code, 0);
}

TEST_F(HooksE2E, FailingPostHookWarnsButTheMoveStands) {
  WriteHook("post-promote", "notify", "echo 'chat webhook down' >&2; exit 1\n");
  auto r = Promote(0, "v1");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("hook notify failed (exit 1); the move stands"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("chat webhook down"), std::string::npos);
  EXPECT_EQ(Events(), 1);
}

TEST_F(HooksE2E, TimedOutPreHookBlocksWithinTheTimeout) {
  WriteHook("pre-promote", "slow", "sleep 20\n");
  auto start = std::chrono::steady_clock::now();
  auto r = Promote(0, "v1", {"--hook-timeout", "1"});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
  EXPECT_LT(took, std::chrono::seconds(8));
  EXPECT_EQ(Events(), 0);
}

TEST_F(HooksE2E, HookWritingGarbageIsShownSafely) {
  WriteHook("pre-promote", "garbage",
            "printf 'bad\\033[2J\\001\\377\\376 bytes\\n' >&2; head -c 200000 /dev/urandom >&2; "
            "exit 4\n");
  auto r = Promote(0, "v1");
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_NE(r.err.find("(exit 4)"), std::string::npos) << r.err.substr(0, 300);
  EXPECT_EQ(r.err.find('\033'), std::string::npos);  // no terminal escapes reach the user
  EXPECT_LT(r.err.size(), 100000u);
  EXPECT_EQ(Events(), 0);
}

TEST_F(HooksE2E, PreHookGetsTheContextOnStdinAndInItsEnvironment) {
  WriteHook("pre-promote", "record",
            "cat > seen.json; printf '%s|%s|%s' \"$CAIRN_DEPLOYMENT\" \"$CAIRN_TO\" "
            "\"$CAIRN_REASON\" > seen.env; pwd > seen.cwd\n");
  ASSERT_EQ(Promote(0, "CX-1 launch").exit_code, 0);
  Json seen = Json::parse(box_.Read("store/seen.json"));
  EXPECT_EQ(seen["hook"], "pre-promote");
  EXPECT_EQ(seen["deployment"], "prod");
  EXPECT_EQ(seen["to"], ids_[0]);
  EXPECT_TRUE(seen["from"].is_null());
  EXPECT_EQ(seen["reason"], "CX-1 launch");
  EXPECT_TRUE(seen["checks"].is_array());
  EXPECT_FALSE(seen.contains("event"));
  EXPECT_EQ(box_.Read("store/seen.env"), "prod|" + ids_[0] + "|CX-1 launch");
  EXPECT_EQ(box_.Read("store/seen.cwd"), fs::canonical(store_).string() + "\n");
}

}  // namespace
}  // namespace cairn::testing
