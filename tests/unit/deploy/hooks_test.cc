#include "cairn/hooks.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/sandbox.h"

namespace cairn {
namespace {

class HooksTest : public ::testing::Test {
 protected:
  // Writes an executable hook script into the stage directory.
  void Hook(const std::string& stage, const std::string& name, const std::string& body,
            unsigned mode = 0755) {
    std::string rel = "store/hooks/" + stage + ".d/" + name;
    box_.Write(rel, "#!/bin/sh\n" + body);
    ::chmod((box_ / rel).c_str(), mode);
  }
  Result<std::vector<HookRun>> Run(HookStage stage, HookOptions o = {},
                                   const Json& context = Json{{"deployment", "prod"}},
                                   const std::map<std::string, std::string>& env = {}) {
    return RunHooks(store_, stage, context, env, o);
  }
  bool ProcessGone(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/stat");
    if (!in) return true;
    std::string line;
    std::getline(in, line);
    auto close = line.rfind(')');
    return close != std::string::npos && line.size() > close + 2 && line[close + 2] == 'Z';
  }

  testing::Sandbox box_;
  std::string store_ = box_ / "store";
};

TEST_F(HooksTest, RunInNameOrderWithContextOnStdinAndStoreAsWorkingDirectory) {
  Hook("pre-promote", "20-second", "echo second >> order.log\n");
  Hook("pre-promote", "10-first", "echo first >> order.log; cat > stdin.json\n");
  Hook("pre-promote", ".hidden", "echo hidden >> order.log\n");
  Hook("pre-promote", "30-backup~", "echo backup >> order.log\n");
  auto runs = Run(HookStage::kPrePromote, {}, Json{{"deployment", "prod"}, {"to", "abc"}});
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].name, "10-first");
  EXPECT_TRUE((*runs)[0].ok());
  EXPECT_EQ(box_.Read("store/order.log"), "first\nsecond\n");
  EXPECT_EQ(box_.Read("store/stdin.json"), "{\"deployment\":\"prod\",\"to\":\"abc\"}\n");
}

TEST_F(HooksTest, EnvironmentIsSanitised) {
  ::setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak", 1);
  Hook("post-promote", "env", "env > env.txt\n");
  auto runs = Run(HookStage::kPostPromote, {}, Json::object(), {{"CAIRN_DEPLOYMENT", "prod"}});
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_TRUE(runs.ok());
  std::string env = box_.Read("store/env.txt");
  EXPECT_EQ(env.find("do-not-leak"), std::string::npos);
  EXPECT_NE(env.find("CAIRN_DEPLOYMENT=prod\n"), std::string::npos);
  EXPECT_NE(env.find("CAIRN_HOOK=post-promote\n"), std::string::npos);
  EXPECT_NE(env.find("CAIRN_STORE=" + store_ + "\n"), std::string::npos);
  EXPECT_NE(env.find("PATH=/usr/local/bin:/usr/bin:/bin\n"), std::string::npos);
}

TEST_F(HooksTest, OnlyCairnVariablesMayBeAdded) {
  Hook("pre-promote", "env", "env > env.txt\n");
  auto runs = Run(HookStage::kPrePromote, {}, Json::object(), {{"LD_PRELOAD", "x.so"}});
  ASSERT_FALSE(runs.ok());
  EXPECT_NE(runs.status().message().find("LD_PRELOAD"), std::string::npos)
      << runs.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(box_ / "store/env.txt")) << "the hook ran anyway";
  runs = Run(HookStage::kPrePromote, {}, Json::object(), {{"CAIRN_X", std::string("a\0b", 3)}});
  ASSERT_FALSE(runs.ok());
  EXPECT_NE(runs.status().message().find("CAIRN_X"), std::string::npos);
}

// A hook cairn cannot watch (poll fails) is killed with its group, reaped, and fails: a
// pre-promote gate never passes by failing to run.
TEST_F(HooksTest, AHookThatCannotBeWatchedFailsClosedAndIsKilled) {
  Hook("pre-promote", "gate", "echo $$ > gate.pid; sleep 2; touch finished; exit 0\n");
  HookOptions o;
  static std::atomic<int> calls{0};
  calls = 0;
  o.poll = [](pollfd* fds, unsigned long n, int t) {
    if (++calls > 3) {
      errno = ENOMEM;
      return -1;
    }
    return ::poll(fds, n, t);
  };
  auto runs = Run(HookStage::kPrePromote, o);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 1u);
  const HookRun& run = (*runs)[0];
  EXPECT_FALSE(run.ok()) << "the gate passed although it was never watched to the end";
  EXPECT_NE(run.failure.find("poll"), std::string::npos) << run.failure;
  EXPECT_NE(run.Outcome().find("failed closed"), std::string::npos) << run.Outcome();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_FALSE(std::filesystem::exists(box_ / "store/finished")) << "the hook was not killed";
  std::string pid = box_.Read("store/gate.pid");
  pid.erase(pid.find_last_not_of('\n') + 1);
  EXPECT_TRUE(ProcessGone(pid));
}

TEST_F(HooksTest, FailureIsReportedWithStderrAndStopsTheStageWhenAsked) {
  Hook("pre-promote", "10-refuse", "echo 'reason must name a ticket' >&2; exit 3\n");
  Hook("pre-promote", "20-never", "touch ran\n");
  HookOptions o;
  o.stop_at_first_failure = true;
  auto runs = Run(HookStage::kPrePromote, o);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_FALSE((*runs)[0].ok());
  EXPECT_EQ((*runs)[0].exit_code, 3);
  EXPECT_EQ((*runs)[0].Outcome(), "exit 3");
  EXPECT_EQ((*runs)[0].PrintableErr(), "reason must name a ticket");
  EXPECT_FALSE(std::filesystem::exists(store_ + "/ran"));
  // Without stopping, every hook runs.
  runs = Run(HookStage::kPrePromote);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), 2u);
  EXPECT_TRUE(std::filesystem::exists(store_ + "/ran"));
}

TEST_F(HooksTest, TimeoutKillsTheHookAndWhatItStarted) {
  Hook("pre-promote", "slow", "sleep 30 & echo $! > child.pid; sleep 30\n");
  HookOptions o;
  o.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto runs = Run(HookStage::kPrePromote, o);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_TRUE((*runs)[0].timed_out);
  EXPECT_FALSE((*runs)[0].ok());
  EXPECT_NE((*runs)[0].Outcome().find("timed out"), std::string::npos);
  EXPECT_LT(took, std::chrono::seconds(5));
  std::string pid = box_.Read("store/child.pid");
  pid.erase(pid.find_last_not_of('\n') + 1);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = ProcessGone(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "background child " << pid << " survived the timeout";
}

TEST_F(HooksTest, BackgroundChildHoldingTheOutputDoesNotHoldTheCaller) {
  Hook("post-rollback", "detach", "sleep 30 & exit 0\n");
  auto start = std::chrono::steady_clock::now();
  auto runs = Run(HookStage::kPostRollback);
  ASSERT_TRUE(runs.ok());
  EXPECT_TRUE((*runs)[0].ok()) << (*runs)[0].Outcome();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(HooksTest, GarbageOutputIsBoundedAndMadePrintable) {
  Hook("pre-promote", "garbage",
       "head -c 1000000 /dev/urandom >&2; head -c 300000 /dev/zero; exit 1\n");
  HookOptions o;
  o.max_output = 4096;
  auto runs = Run(HookStage::kPrePromote, o);
  ASSERT_TRUE(runs.ok());
  const HookRun& r = (*runs)[0];
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_LE(r.err.size(), 4096u + 20);
  EXPECT_LE(r.out.size(), 4096u + 20);
  for (unsigned char c : r.PrintableErr()) {
    EXPECT_TRUE(c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f) || c >= 0x80);
  }
}

TEST_F(HooksTest, HookThatIgnoresALargeContextDoesNotBreakTheCaller) {
  Hook("post-promote", "quiet", "exit 0\n");
  Json big = {{"blob", std::string(4 << 20, 'x')}};
  auto runs = Run(HookStage::kPostPromote, {}, big);
  ASSERT_TRUE(runs.ok());
  EXPECT_TRUE((*runs)[0].ok()) << (*runs)[0].Outcome();
}

// A gate stage fails closed on every entry that cannot run — a hook meant to refuse a move
// must not pass by not running; a post stage skips it and says why.
TEST_F(HooksTest, AnEntryThatCannotRunFailsAGateStageAndIsSkippedAfterTheMove) {
  Hook("pre-promote", "10-not-exec", "touch ran\n", 0644);
  std::filesystem::create_directories(box_ / "store/hooks/pre-promote.d/20-a-dir");
  std::filesystem::create_symlink(box_ / "nowhere", box_ / "store/hooks/pre-promote.d/30-dangling");
  auto runs = Run(HookStage::kPrePromote);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 3u);
  std::vector<std::string> why;
  for (const auto& r : *runs) {
    EXPECT_FALSE(r.ok()) << r.name;
    EXPECT_FALSE(r.skipped) << r.name;
    why.push_back(r.not_runnable);
  }
  EXPECT_EQ(why, (std::vector<std::string>{"not executable", "a directory", "a dangling symlink"}));
  EXPECT_NE((*runs)[0].Outcome().find("fails the move"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(store_ + "/ran"));

  Hook("post-promote", "not-exec", "touch ran\n", 0644);
  auto post = Run(HookStage::kPostPromote);
  ASSERT_TRUE(post.ok());
  ASSERT_EQ(post->size(), 1u);
  EXPECT_TRUE((*post)[0].skipped);
  EXPECT_TRUE((*post)[0].ok());
  EXPECT_EQ((*post)[0].Outcome(), "not executable (skipped)");
}

TEST_F(HooksTest, MissingStageDirectoryMeansNoHooks) {
  auto runs = Run(HookStage::kPostRollback);
  ASSERT_TRUE(runs.ok());
  EXPECT_TRUE(runs->empty());
}

TEST_F(HooksTest, HookKilledBySignalIsAFailure) {
  Hook("pre-promote", "crash", "kill -9 $$\n");
  auto runs = Run(HookStage::kPrePromote);
  ASSERT_TRUE(runs.ok());
  EXPECT_FALSE((*runs)[0].ok());
  EXPECT_EQ((*runs)[0].signal, 9);
}

}  // namespace
}  // namespace cairn
