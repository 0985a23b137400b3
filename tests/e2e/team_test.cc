// End-to-end: team mode — stores sharing deployments, evidence, trust and policy through a
// bare git repository over file:// and through a real `git daemon --enable=receive-pack` on
// 127.0.0.1, started and stopped by the tests. Races of real processes, rewritten history,
// refusing servers, unreachable and silent servers, and hostile objects made with plain git.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/canonical_json.h"
#include "cairn/signing.h"
#include "cairn/trust.h"
#include "support/git_test.h"
#include "support/sandbox.h"

extern char** environ;

namespace cairn::testing {
namespace {

using Json = nlohmann::json;

// A free TCP port on 127.0.0.1 (bound, read, closed: another process could take it in
// between, which a test would report as a failure to start).
int TeamFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

bool TeamConnectable(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// A background process, killed (and reaped) when it goes out of scope.
class TeamBackground {
 public:
  explicit TeamBackground(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~TeamBackground() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  TeamBackground(const TeamBackground&) = delete;
  TeamBackground& operator=(const TeamBackground&) = delete;
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

class TeamTest : public GitTest {
 protected:
  void SetUp() override {
    keys_ = std::make_unique<TestKeys>(box_);
    Git({"init", "-q", "--bare", box_ / "remote.git"});
    ASSERT_EQ(In("a", {"init"}).exit_code, 0);
    for (const char* v : {"v1", "v2", "v3"}) {
      box_.CopyFixture(std::string("releases/") + v, std::string("rel-") + v);
      auto r = In("a", {"snapshot", "create", box_ / (std::string("rel-") + v), "-m", v, "--json"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ids_.push_back(Json::parse(r.out)["id"].get<std::string>());
    }
    // A 2-of-2 root, a release signer, a signed v1.
    auto root =
        In("a", {"trust", "init", "--root", keys_->Public("root1"), "--root",
                 keys_->Public("root2"), "--threshold", "2", "--key", keys_->Private("root1"),
                 "--key", keys_->Private("root2"), "--reason", "board"});
    ASSERT_EQ(root.exit_code, 0) << root.err;
    auto add = In("a", {"trust", "add", "rel", keys_->Public("release"), "--role", "release",
                        "--key", keys_->Private("root1"), "--key", keys_->Private("root2"),
                        "--reason", "release lead"});
    ASSERT_EQ(add.exit_code, 0) << add.err;
    ASSERT_EQ(In("a", {"sign", ids_[0], "--key", keys_->Private("release")}).exit_code, 0);
    // An eval result with a report: an attestation and an object travel as evidence.
    box_.Write("report.json", "{\"cases\": 10}\n");
    auto attest = In("a", {"attest", ids_[0], "--eval", "golden", "--score", "0.9", "--report",
                           box_ / "report.json", "--key", keys_->Private("release")});
    ASSERT_EQ(attest.exit_code, 0) << attest.err;
    auto p = In("a", {"promote", ids_[0], "--to", "prod", "--reason", "v1 first", "--key",
                      keys_->Private("release")});
    ASSERT_EQ(p.exit_code, 0) << p.err;
  }

  // cairn on <box>/<who>/.cairn.
  RunResult In(const std::string& who, std::vector<std::string> args,
               const RunOptions& options = {}) {
    args.insert(args.begin(), {"--store", box_ / (who + "/.cairn")});
    return RunCairn(args, options);
  }

  std::vector<std::string> RootArgs() {
    return {"--root", KeyIdOf("root1"), "--root", KeyIdOf("root2")};
  }
  std::string KeyIdOf(const std::string& who) {
    auto key = PublicKey::Load(keys_->Public(who));
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return key.ok() ? key->id().ToString() : "";
  }

  // Clones the remote at `url` into <box>/<who>.
  void CloneInto(const std::string& url, const std::string& who) {
    std::vector<std::string> args = {"clone", url, box_ / who};
    for (const auto& a : RootArgs()) args.push_back(a);
    auto r = RunCairn(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::string Live(const std::string& who, const std::string& deployment = "prod") {
    auto r = In(who, {"log", deployment, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Json events = Json::parse(r.out);
    return events.empty() ? "" : events.back()["to"].get<std::string>();
  }

  void ExpectClean(const std::string& who) {
    auto audit = In(who, {"audit", "verify"});
    EXPECT_EQ(audit.exit_code, 0) << who << ": " << audit.out << audit.err;
    auto fsck = In(who, {"fsck"});
    EXPECT_EQ(fsck.exit_code, 0) << who << ": " << fsck.out << fsck.err;
  }

  // Starts git daemon serving <box> on a free port; the URL of remote.git through it.
  std::string StartDaemon() {
    port_ = TeamFreePort();
    daemon_ = std::make_unique<TeamBackground>(std::vector<std::string>{
        "/usr/bin/git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
        "--listen=127.0.0.1", "--port=" + std::to_string(port_), "--base-path=" + box_.path(),
        box_.path()});
    EXPECT_TRUE(daemon_->started());
    for (int i = 0; i < 100 && !TeamConnectable(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(TeamConnectable(port_)) << "git daemon did not start on port " << port_;
    return "git://127.0.0.1:" + std::to_string(port_) + "/remote.git";
  }

  std::string FileUrl() { return "file://" + box_ / "remote.git"; }

  // a sends prod and the snapshots v2 and v3 (so other stores can promote them).
  void Share() {
    auto r = In("a", {"push", "origin", "prod", "--snapshot", ids_[1], "--snapshot", ids_[2]});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Events of prod on the remote, by plain git: the first-parent chain ends with the
  // snapshot commit event #1 made live.
  size_t RemoteEvents() {
    std::string out = Out({"--git-dir", box_ / "remote.git", "rev-list", "--first-parent",
                           "--count", "refs/cairn/deployments/prod"});
    return std::stoul(out) - 1;
  }

  std::unique_ptr<TestKeys> keys_;
  std::vector<std::string> ids_;  // v1, v2, v3
  std::unique_ptr<TeamBackground> daemon_;
  int port_ = 0;
};

TEST_F(TeamTest, RoundTripThroughAFileRemoteKeepsEveryChainAndSignature) {
  ASSERT_EQ(In("a", {"remote", "add", "origin", FileUrl()}).exit_code, 0);
  auto push = In("a", {"push", "origin", "prod", "--snapshot", ids_[1], "--json"});
  ASSERT_EQ(push.exit_code, 0) << push.err;
  Json pushed = Json::parse(push.out);
  EXPECT_EQ(pushed["events"], 1);
  EXPECT_EQ(pushed["trust_events"], 2);
  EXPECT_EQ(pushed["evidence"], 2);  // v1's signature and its eval result
  CloneInto(FileUrl(), "b");
  EXPECT_EQ(Live("b"), ids_[0]);
  ExpectClean("a");
  ExpectClean("b");
  // The clone judges v1's evidence as the first store does.
  auto verify_a = In("a", {"verify", ids_[0], "--json"});
  auto verify_b = In("b", {"verify", ids_[0], "--json"});
  EXPECT_EQ(verify_b.exit_code, 0) << verify_b.err;
  EXPECT_EQ(verify_a.out, verify_b.out);
  // b promotes v2 through the remote (signed); a pulls it.
  auto p = In("b", {"promote", ids_[1], "--to", "prod", "--reason", "v2 from b", "--key",
                    keys_->Private("release")});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(RemoteEvents(), 2u);
  auto pull = In("a", {"pull", "origin", "--json"});
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  EXPECT_EQ(Json::parse(pull.out)["events"], 1);
  EXPECT_EQ(Live("a"), ids_[1]);
  // a rolls back through the remote; b pulls and sees it.
  auto rb = In("a", {"rollback", "prod", "--reason", "INC-1: wrong refunds"});
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  ASSERT_EQ(In("b", {"pull"}).exit_code, 0);
  EXPECT_EQ(Live("b"), ids_[0]);
  ExpectClean("a");
  ExpectClean("b");
  // Plain git reads the log: one commit per move, with who and why.
  std::string log = Out({"--git-dir", box_ / "remote.git", "log", "--first-parent",
                         "--format=%an|%s|%b", "refs/cairn/deployments/prod"});
  EXPECT_NE(log.find("rollback prod #3"), std::string::npos) << log;
  EXPECT_NE(log.find("INC-1: wrong refunds"), std::string::npos) << log;
  EXPECT_NE(log.find("rel|promote prod #2"), std::string::npos) << log;
  std::string prompt = Out({"--git-dir", box_ / "remote.git", "show",
                            "refs/cairn/snapshots/" + ids_[0] + ":prompts/system.md"});
  EXPECT_EQ(prompt + "\n", box_.Read("rel-v1/prompts/system.md"));
}

TEST_F(TeamTest, PerCaseResultsTravelSoTheCloneRecomputesEveryVerdict) {
  auto g4 = [](const std::string& f) { return FixturePath("evals/golden-v4/" + f); };
  for (int v = 0; v < 2; ++v) {
    auto r = In("a", {"attest", ids_[v], "--eval", "golden-v4", "--cases",
                      g4(v == 0 ? "v1.jsonl" : "v2.jsonl"), "--dataset", g4("dataset.jsonl"),
                      "--judge-model", "gpt-4o-2024-08-06", "--judge-prompt",
                      g4("judge-prompt.txt"), "--key", keys_->Private("release")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto policy =
      In("a", {"policy", "set", "prod", "--non-inferior", "golden-v4=0.02", "--reason", "CX-3",
               "--key", keys_->Private("root1"), "--key", keys_->Private("root2")});
  ASSERT_EQ(policy.exit_code, 0) << policy.err;
  auto p = In("a", {"promote", ids_[1], "--to", "prod", "--reason", "v2, non-inferior"});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  ASSERT_EQ(In("a", {"remote", "add", "origin", FileUrl()}).exit_code, 0);
  ASSERT_EQ(In("a", {"push", "origin", "prod"}).exit_code, 0);
  CloneInto(FileUrl(), "b");  // its audit recomputes the stored verdict from the case files
  auto audit = In("b", {"audit", "verify", "--json"});
  ASSERT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_EQ(Json::parse(audit.out)["verdicts_recomputed"], 1) << audit.out;
  ExpectClean("b");
}

TEST_F(TeamTest, APullOfNothingNewChangesNothingAndIsIdempotent) {
  ASSERT_EQ(In("a", {"remote", "add", "origin", FileUrl()}).exit_code, 0);
  Share();
  CloneInto(FileUrl(), "b");
  for (int i = 0; i < 2; ++i) {
    auto pull = In("b", {"pull", "--json"});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    Json j = Json::parse(pull.out);
    EXPECT_EQ(j["events"], 0);
    EXPECT_EQ(j["snapshots"], 0);
    EXPECT_EQ(j["evidence"], 0);
  }
}

TEST_F(TeamTest, CloneRefusesARemoteWhoseRootIsNotThePinnedOne) {
  ASSERT_EQ(In("a", {"remote", "add", "origin", FileUrl()}).exit_code, 0);
  Share();
  auto r = RunCairn(
      {"clone", FileUrl(), box_ / "c", "--root", KeyIdOf("root1"), "--root", KeyIdOf("root3")});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("pinned"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(box_ / "c/.cairn"));
  auto none = RunCairn({"clone", FileUrl(), box_ / "d"});
  EXPECT_EQ(none.exit_code, 2) << none.err;
}

TEST_F(TeamTest, ARewrittenChainOnTheServerIsRefusedAndTheVerifiedTipKept) {
  ASSERT_EQ(In("a", {"remote", "add", "origin", FileUrl()}).exit_code, 0);
  Share();
  CloneInto(FileUrl(), "b");
  ASSERT_EQ(In("a", {"promote", ids_[1], "--to", "prod", "--reason", "v2"}).exit_code, 0);
  ASSERT_EQ(In("b", {"pull"}).exit_code, 0);
  ASSERT_EQ(Live("b"), ids_[1]);
  // Someone with write access to the server resets prod to its first event, then builds a
  // different second event on it with plain git.
  std::string git_dir = box_ / "remote.git";
  std::string first = Out({"--git-dir", git_dir, "rev-parse", "refs/cairn/deployments/prod~1"});
  std::string snap = Out({"--git-dir", git_dir, "rev-parse", "refs/cairn/snapshots/" + ids_[2]});
  std::string event = Out({"--git-dir", git_dir, "show", "refs/cairn/deployments/prod:event.json"});
  std::string forged = event;
  forged.replace(forged.find("\"v2\""), 4, "\"v3\"");
  std::string blob = Out({"--git-dir", git_dir, "hash-object", "-w", "--stdin"}, forged);
  std::string tree =
      Out({"--git-dir", git_dir, "mktree"}, "100644 blob " + blob + "\tevent.json\n");
  std::string commit =
      Out({"--git-dir", git_dir, "commit-tree", tree, "-p", first, "-p", snap, "-m", "forged"});
  Git({"--git-dir", git_dir, "update-ref", "refs/cairn/deployments/prod", commit});
  auto pull = In("b", {"pull"});
  EXPECT_EQ(pull.exit_code, 5) << pull.err;
  EXPECT_NE(pull.err.find("rewritten"), std::string::npos) << pull.err;
  EXPECT_EQ(Live("b"), ids_[1]);
  ExpectClean("b");
  // A fresh clone sees the forged event itself: its hash does not match.
  auto c = RunCairn(
      {"clone", FileUrl(), box_ / "c", "--root", KeyIdOf("root1"), "--root", KeyIdOf("root2")});
  EXPECT_EQ(c.exit_code, 5) << c.err;
}

TEST_F(TeamTest, HostileSnapshotTreesAreRefusedWithNothingImported) {
  ASSERT_EQ(In("a", {"remote", "add", "origin", FileUrl()}).exit_code, 0);
  ASSERT_EQ(In("a", {"push", "origin", "prod"}).exit_code, 0);
  CloneInto(FileUrl(), "b");
  // v3 travels alone; b has not seen it. Its commit on the server is then rebuilt with plain
  // git around the same manifest.
  ASSERT_EQ(In("a", {"push", "origin", "--snapshot", ids_[2]}).exit_code, 0);
  std::string git_dir = box_ / "remote.git";
  std::string good = Out({"--git-dir", git_dir, "rev-parse", "refs/cairn/snapshots/" + ids_[2]});
  std::string good_tree = Out({"--git-dir", git_dir, "rev-parse", good + "^{tree}"});
  std::string ls = Out({"--git-dir", git_dir, "ls-tree", good_tree});
  std::string blob = Out({"--git-dir", git_dir, "hash-object", "-w", "--stdin"}, "evil");
  // An extra entry ("../x" cannot be written by git mktree; ".git" and a symlink can).
  for (const std::string& extra :
       {"100644 blob " + blob + "\t.git", "120000 blob " + blob + "\tlink",
        "100644 blob " + blob + "\textra.txt"}) {
    std::string tree = Out({"--git-dir", git_dir, "mktree"}, ls + "\n" + extra + "\n");
    std::string commit = Out({"--git-dir", git_dir, "commit-tree", tree, "-m", "hostile"});
    Git({"--git-dir", git_dir, "update-ref", "refs/cairn/snapshots/" + ids_[2], commit});
    auto pull = In("b", {"pull"});
    EXPECT_EQ(pull.exit_code, 5) << extra << ": " << pull.err;
    auto has = In("b", {"show", ids_[2]});
    EXPECT_NE(has.exit_code, 0) << extra;
  }
  // A deployment ref that points at a blob.
  Git({"--git-dir", git_dir, "update-ref", "-d", "refs/cairn/snapshots/" + ids_[2]});
  Git({"--git-dir", git_dir, "update-ref", "refs/cairn/deployments/staging", blob});
  auto pull = In("b", {"pull"});
  EXPECT_EQ(pull.exit_code, 5) << pull.err;
  ExpectClean("b");
}

TEST_F(TeamTest, RacingPromotersOverGitDaemonHaveExactlyOneWinnerPerRound) {
  std::string url = StartDaemon();
  ASSERT_EQ(In("a", {"remote", "add", "origin", url}).exit_code, 0);
  Share();
  CloneInto(url, "b");
  const int kRounds = 20;
  const int kProcesses = 8;
  std::string live = ids_[0];
  size_t winners_total = 0;
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_EQ(In("a", {"pull"}).exit_code, 0);
    ASSERT_EQ(In("b", {"pull"}).exit_code, 0);
    std::string target = ids_[(round % 2) + 1] == live ? ids_[0] : ids_[(round % 2) + 1];
    std::vector<std::future<RunResult>> runs;
    for (int p = 0; p < kProcesses; ++p) {
      std::string who = p % 2 == 0 ? "a" : "b";
      runs.push_back(std::async(std::launch::async, [this, who, target, live, round, p] {
        return In(
            who, {"--lock-timeout", "60000", "promote", target, "--to", "prod", "--reason",
                  "round " + std::to_string(round) + " by " + std::to_string(p), "--expect", live});
      }));
    }
    int winners = 0;
    for (auto& f : runs) {
      RunResult r = f.get();
      if (r.exit_code == 0) {
        ++winners;
      } else {
        EXPECT_EQ(r.exit_code, 9) << r.err;
      }
    }
    EXPECT_EQ(winners, 1) << "round " << round;
    winners_total += static_cast<size_t>(winners);
    live = target;
  }
  ASSERT_EQ(In("a", {"pull"}).exit_code, 0);
  ASSERT_EQ(In("b", {"pull"}).exit_code, 0);
  EXPECT_EQ(RemoteEvents(), 1 + winners_total);
  auto log = In("a", {"log", "prod", "--json"});
  ASSERT_EQ(log.exit_code, 0);
  EXPECT_EQ(Json::parse(log.out).size(), 1 + winners_total);
  ExpectClean("a");
  ExpectClean("b");
}

TEST_F(TeamTest, RacingPromotersOverFileUrlsHaveExactlyOneWinnerPerRound) {
  ASSERT_EQ(In("a", {"remote", "add", "origin", FileUrl()}).exit_code, 0);
  Share();
  CloneInto(FileUrl(), "b");
  std::string live = ids_[0];
  for (int round = 0; round < 20; ++round) {
    ASSERT_EQ(In("a", {"pull"}).exit_code, 0);
    ASSERT_EQ(In("b", {"pull"}).exit_code, 0);
    std::string target = live == ids_[1] ? ids_[2] : ids_[1];
    std::vector<std::future<RunResult>> runs;
    for (int p = 0; p < 8; ++p) {
      std::string who = p % 2 == 0 ? "a" : "b";
      runs.push_back(std::async(std::launch::async, [this, who, target, live] {
        return In(who, {"--lock-timeout", "60000", "promote", target, "--to", "prod", "--reason",
                        "race", "--expect", live});
      }));
    }
    int winners = 0;
    for (auto& f : runs) {
      RunResult r = f.get();
      if (r.exit_code == 0)
        ++winners;
      else
        EXPECT_EQ(r.exit_code, 9) << r.err;
    }
    EXPECT_EQ(winners, 1) << "round " << round;
    live = target;
  }
  EXPECT_EQ(RemoteEvents(), 21u);
}

TEST_F(TeamTest, ALostRaceSaysWhoMovedItAndChangesNothing) {
  ASSERT_EQ(In("a", {"remote", "add", "origin", FileUrl()}).exit_code, 0);
  Share();
  CloneInto(FileUrl(), "b");
  ASSERT_EQ(
      In("b", {"--actor", "bob", "promote", ids_[1], "--to", "prod", "--reason", "CX-2 bob's"})
          .exit_code,
      0);
  auto lost = In("a", {"promote", ids_[2], "--to", "prod", "--reason", "mine"});
  EXPECT_EQ(lost.exit_code, 9) << lost.err;
  EXPECT_NE(lost.err.find("bob"), std::string::npos) << lost.err;
  EXPECT_NE(lost.err.find(ids_[1].substr(0, 12)), std::string::npos) << lost.err;
  EXPECT_NE(lost.err.find("cairn pull"), std::string::npos) << lost.err;
  EXPECT_EQ(Live("a"), ids_[0]);
  ASSERT_EQ(In("a", {"pull"}).exit_code, 0);
  auto rb = In("a", {"rollback", "prod", "--reason", "back"});
  EXPECT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_EQ(Live("a"), ids_[0]);
}

TEST_F(TeamTest, AServerThatRefusesIsReportedWithItsMessage) {
  std::string url = StartDaemon();
  ASSERT_EQ(In("a", {"remote", "add", "origin", url}).exit_code, 0);
  std::string hook = box_ / "remote.git/hooks/pre-receive";
  box_.Write("remote.git/hooks/pre-receive",
             "#!/bin/sh\necho 'CHG-7: prod is frozen until Monday' >&2\nexit 1\n");
  chmod(hook.c_str(), 0755);
  auto r = In("a", {"push", "origin", "prod"});
  EXPECT_EQ(r.exit_code, 11) << r.err;
  EXPECT_NE(r.err.find("CHG-7: prod is frozen"), std::string::npos) << r.err;
  auto remotes = In("a", {"remote", "list", "--json"});
  EXPECT_TRUE(Json::parse(remotes.out)[0]["upstream_of"].empty()) << remotes.out;
  unlink(hook.c_str());
  // Refs under refs/cairn/ hidden by the server.
  Git({"--git-dir", box_ / "remote.git", "config", "receive.hideRefs", "refs/cairn"});
  auto hidden = In("a", {"push", "origin", "prod"});
  EXPECT_EQ(hidden.exit_code, 11) << hidden.err;
  auto check = In("a", {"remote", "check", "origin"});
  EXPECT_EQ(check.exit_code, 11) << check.err;
  Git({"--git-dir", box_ / "remote.git", "config", "--unset", "receive.hideRefs"});
  auto ok = In("a", {"remote", "check", "origin"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(TeamTest, AnUnreachableOrSilentRemoteFailsWithinTheTimeout) {
  int closed = TeamFreePort();
  ASSERT_EQ(In("a", {"remote", "add", "gone", "git://127.0.0.1:" + std::to_string(closed) + "/x"})
                .exit_code,
            0);
  auto gone = In("a", {"pull", "gone"});
  EXPECT_EQ(gone.exit_code, 10) << gone.err;
  // A server that accepts connections and never answers.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  listen(fd, 16);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::string url = "git://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/x";
  ASSERT_EQ(In("a", {"remote", "add", "silent", url}).exit_code, 0);
  auto start = std::chrono::steady_clock::now();
  auto silent = In("a", {"pull", "silent", "--timeout", "2"});
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(silent.exit_code, 10) << silent.err;
  EXPECT_LT(took, 10.0);
  EXPECT_NE(silent.err.find("within 2 s"), std::string::npos) << silent.err;
  close(fd);
  auto bad_url = In("a", {"remote", "add", "x", "git://user:secret@example.com/x"});
  EXPECT_EQ(bad_url.exit_code, 2) << bad_url.err;
}

TEST_F(TeamTest, AHostFollowingProdThroughTheRemoteSwitchesWithinTwoSeconds) {
  ASSERT_EQ(In("a", {"remote", "add", "origin", FileUrl()}).exit_code, 0);
  Share();
  CloneInto(FileUrl(), "host");
  CloneInto(FileUrl(), "b");
  std::string serve = box_ / "serve";
  std::atomic<bool> switched{false};
  std::chrono::steady_clock::time_point promoted_at;  // when the promote started
  std::atomic<bool> promoted{false};
  std::chrono::steady_clock::time_point switched_at;
  int follower_pid = 0;
  RunOptions o;
  o.on_start = [&](int pid) { follower_pid = pid; };
  o.stdout_sink = [&](std::string_view line) {
    if (promoted && line.find(ids_[1].substr(0, 12)) != std::string_view::npos && !switched) {
      switched_at = std::chrono::steady_clock::now();
      switched = true;
    }
  };
  o.kill_after_ms = 20000;
  std::thread follower([&] {
    In("host", {"checkout", "prod", "--into", serve, "--follow", "--interval", "200"}, o);
  });
  for (int i = 0; i < 100 && !std::filesystem::exists(serve + "/current"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  bool started = std::filesystem::exists(serve + "/current");
  RunResult p;
  if (started) {
    promoted_at = std::chrono::steady_clock::now();
    promoted = true;
    p = In("b", {"promote", ids_[1], "--to", "prod", "--reason", "v2 from b"});
    for (int i = 0; i < 100 && !switched; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (follower_pid > 0) kill(follower_pid, SIGTERM);
  follower.join();
  ASSERT_TRUE(started);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  ASSERT_TRUE(switched);
  double seconds = std::chrono::duration<double>(switched_at - promoted_at).count();
  EXPECT_LT(seconds, 2.0);
  EXPECT_EQ(std::filesystem::read_symlink(serve + "/current").filename().string(), ids_[1]);
}

TEST_F(TeamTest, TrustAndPolicyChangesGoThroughTheRemoteSoNoStoreForks) {
  ASSERT_EQ(In("a", {"remote", "add", "origin", FileUrl()}).exit_code, 0);
  Share();
  CloneInto(FileUrl(), "b");
  auto add_ci =
      In("b", {"trust", "add", "ci", keys_->Public("ci"), "--role", "ci", "--key",
               keys_->Private("root1"), "--key", keys_->Private("root2"), "--reason", "CI"});
  ASSERT_EQ(add_ci.exit_code, 0) << add_ci.err;
  // a has not pulled: its change would fork the trust chain, so the remote refuses it.
  auto add_sec =
      In("a", {"trust", "add", "security", keys_->Public("security"), "--role", "security", "--key",
               keys_->Private("root1"), "--key", keys_->Private("root2"), "--reason", "sec"});
  EXPECT_EQ(add_sec.exit_code, 9) << add_sec.err;
  auto list = In("a", {"trust", "list", "--json"});
  EXPECT_EQ(list.out.find("\"security\""), std::string::npos) << list.out;
  ASSERT_EQ(In("a", {"pull"}).exit_code, 0);
  add_sec =
      In("a", {"trust", "add", "security", keys_->Public("security"), "--role", "security", "--key",
               keys_->Private("root1"), "--key", keys_->Private("root2"), "--reason", "sec"});
  ASSERT_EQ(add_sec.exit_code, 0) << add_sec.err;
  auto policy = In("a", {"policy", "set", "prod", "--require-signatures", "1", "--signer-role",
                         "release", "--reason", "CX-1", "--key", keys_->Private("root1"), "--key",
                         keys_->Private("root2")});
  ASSERT_EQ(policy.exit_code, 0) << policy.err;
  ASSERT_EQ(In("b", {"pull"}).exit_code, 0);
  auto shown = In("b", {"policy", "show", "prod", "--json"});
  EXPECT_NE(shown.out.find("release"), std::string::npos) << shown.out;
  auto trusted = In("b", {"trust", "list", "--json"});
  EXPECT_NE(trusted.out.find("\"security\""), std::string::npos) << trusted.out;
  ExpectClean("a");
  ExpectClean("b");
}

TEST_F(TeamTest, ATrustChangeTheRootDidNotApproveIsRefusedOnPull) {
  ASSERT_EQ(In("a", {"remote", "add", "origin", FileUrl()}).exit_code, 0);
  Share();
  CloneInto(FileUrl(), "b");
  // Someone with write access to the server and one of the two root keys appends a trust
  // event trusting their own key: well formed, correctly hashed, one root signature of two.
  std::string git_dir = box_ / "remote.git";
  std::string tip = Out({"--git-dir", git_dir, "rev-parse", "refs/cairn/trust"});
  Json last = Json::parse(Out({"--git-dir", git_dir, "show", "refs/cairn/trust:event.json"}));
  auto head = TrustEvent::FromJson(last);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  auto outsider = PublicKey::Load(keys_->Public("outsider"));
  auto root1 = PrivateKey::Load(keys_->Private("root1"));
  ASSERT_TRUE(outsider.ok() && root1.ok());
  TrustEvent e;
  e.seq = head->seq + 1;
  e.time_micros = head->time_micros + 1000000;
  e.actor = "mallory";
  e.action = TrustAction::kAdd;
  e.name = "mallory";
  e.key_id = outsider->id();
  e.public_key = *outsider;
  e.roles = {"release"};
  e.reason = "trust me";
  e.prev = head->hash;
  auto hash = e.ComputeHash();
  ASSERT_TRUE(hash.ok());
  e.hash = *hash;
  auto sig = root1->Sign(TrustChangeSigningMessage(e.hash));
  ASSERT_TRUE(sig.ok());
  e.signatures.push_back({root1->id(), *sig});
  auto bytes = CanonicalJson(e.ToJson());
  ASSERT_TRUE(bytes.ok());
  std::string blob = Out({"--git-dir", git_dir, "hash-object", "-w", "--stdin"}, *bytes);
  std::string tree =
      Out({"--git-dir", git_dir, "mktree"}, "100644 blob " + blob + "\tevent.json\n");
  std::string commit = Out({"--git-dir", git_dir, "commit-tree", tree, "-p", tip, "-m", "add"});
  Git({"--git-dir", git_dir, "update-ref", "refs/cairn/trust", commit});
  auto pull = In("b", {"pull"});
  EXPECT_EQ(pull.exit_code, 5) << pull.err;
  EXPECT_NE(pull.err.find("root"), std::string::npos) << pull.err;
  auto list = In("b", {"trust", "list", "--json"});
  EXPECT_EQ(list.out.find("mallory"), std::string::npos) << list.out;
  ExpectClean("b");
}

// Killed at each step of team mode's write paths 20 times: after the push and before the
// local write of a promote, and with a pull's objects stored but not its records. After
// every kill both stores open, fsck and audit verify pass, and the next pull completes and
// agrees with the remote.
TEST_F(TeamTest, KilledAtEveryStepOfPushAndPullTheStoresStayWholeAndCatchUp) {
  ASSERT_EQ(In("a", {"remote", "add", "origin", FileUrl()}).exit_code, 0);
  Share();
  CloneInto(FileUrl(), "b");
  RunOptions crash;
  for (int round = 0; round < 20; ++round) {
    std::string target = ids_[1 + round % 2];
    crash.env = {{"CAIRN_CRASH_AT", "publish.pushed"}};
    auto killed = In("a", {"promote", target, "--to", "prod", "--reason", "crash"}, crash);
    ASSERT_EQ(killed.signal, SIGKILL) << "round " << round << ": " << killed.err;
    EXPECT_NE(Live("a"), target) << "round " << round;  // not written here...
    ExpectClean("a");
    crash.env = {{"CAIRN_CRASH_AT", "pull.objects-stored"}};
    auto pull_killed = In("b", {"pull"}, crash);
    ASSERT_EQ(pull_killed.signal, SIGKILL) << "round " << round << ": " << pull_killed.err;
    ExpectClean("b");
    ASSERT_EQ(In("a", {"pull"}).exit_code, 0);  // ...but on the remote: the pull takes it
    ASSERT_EQ(In("b", {"pull"}).exit_code, 0);
    EXPECT_EQ(Live("a"), target) << "round " << round;
    EXPECT_EQ(Live("b"), target) << "round " << round;
  }
  EXPECT_EQ(RemoteEvents(), 21u);
  ExpectClean("a");
  ExpectClean("b");
}

}  // namespace
}  // namespace cairn::testing
