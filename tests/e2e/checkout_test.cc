// End-to-end: `cairn checkout` on a serving directory — a reader during 100 switches,
// planted symlinks, and --follow reacting to promote and rollback.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr int kParts = 20;

class CheckoutE2E : public ::testing::Test {
 protected:
  RunResult Cairn(std::vector<std::string> args, RunOptions o = {}) {
    args.insert(args.begin(), {"--store", box_ / "store"});
    o.env["CAIRN_ACTOR"] = "tester@e2e";
    return RunCairn(args, o);
  }
  // Snapshots whose every file names its release, so a mix of two is visible.
  void SetUpSnapshots(int n) {
    ASSERT_EQ(Cairn({"init"}).exit_code, 0);
    std::string rel = WriteMinimalRelease(box_, "rel");
    for (int i = 0; i < n; ++i) {
      std::string mark = "release " + std::to_string(i) + "\n";
      box_.Write("rel/prompts/system.md", mark);
      for (int p = 0; p < kParts; ++p) {
        box_.Write("rel/config/part-" + std::to_string(p) + ".txt", mark);
      }
      auto r = Cairn({"snapshot", "create", rel, "-m", "r" + std::to_string(i), "-q"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ids_.push_back(r.out.substr(0, 64));
    }
  }
  // Edits a file of a checked-out version the way a person on the host would.
  static void Tamper(const std::string& version, const std::string& rel, const std::string& text) {
    std::string path = version + "/" + rel;
    ::chmod(fs::path(path).parent_path().c_str(), 0755);
    ::chmod(path.c_str(), 0644);
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr) << path;
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
  static std::string ReadFile(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) return "<missing>";
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    return text;
  }
  std::string CurrentTarget(const std::string& dir) {
    std::error_code ec;
    return fs::read_symlink(dir + "/current", ec).string();
  }

  Sandbox box_;
  std::vector<std::string> ids_;
};

// Reads one whole version the way a serving host should: resolve `current` once (open it
// as a directory), then read every file relative to it. Returns the set of marks seen;
// more than one is a mix. Sets *missing when `current` could not be opened.
std::set<std::string> ReadOnce(const std::string& dir, bool* missing) {
  std::set<std::string> marks;
  int root = ::open((dir + "/current").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    *missing = true;
    return marks;
  }
  auto read_at = [&](const std::string& rel) {
    int fd = ::openat(root, rel.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      marks.insert("<missing " + rel + ">");
      return;
    }
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    marks.insert(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0));
  };
  read_at("prompts/system.md");
  for (int p = 0; p < kParts; ++p) read_at("config/part-" + std::to_string(p) + ".txt");
  ::close(root);
  return marks;
}

TEST_F(CheckoutE2E, ReaderNeverSeesAMixOrAMissingCurrentDuring100Switches) {
  SetUpSnapshots(3);
  std::string dir = box_ / "serve";
  ASSERT_EQ(Cairn({"checkout", ids_[0], "--into", dir}).exit_code, 0);
  std::atomic<bool> done{false};
  std::atomic<long> reads{0}, mixes{0}, missing{0};
  std::mutex m;
  std::string first_bad;
  std::thread reader([&] {
    while (!done.load()) {
      bool miss = false;
      auto marks = ReadOnce(dir, &miss);
      ++reads;
      if (miss) ++missing;
      if (!miss && marks.size() != 1) {
        ++mixes;
        std::lock_guard<std::mutex> g(m);
        if (first_bad.empty()) {
          for (const auto& s : marks) first_bad += s + "|";
        }
      }
    }
  });
  int switches = 0;
  for (int i = 1; i <= 100; ++i) {
    auto r = Cairn({"checkout", ids_[i % 3], "--into", dir, "--keep", "3"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ++switches;
    EXPECT_EQ(CurrentTarget(dir), ".versions/" + ids_[i % 3]);
  }
  done = true;
  reader.join();
  EXPECT_EQ(switches, 100);
  EXPECT_GT(reads.load(), 100);
  EXPECT_EQ(mixes.load(), 0) << first_bad;
  EXPECT_EQ(missing.load(), 0);
  // Nothing but the three versions, their seals and the lock is left in .versions.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir + "/.versions")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 7);
}

TEST_F(CheckoutE2E, PlantedSymlinksDoNotLeadWritesOutside) {
  SetUpSnapshots(2);
  std::string outside = box_ / "outside";
  fs::create_directories(outside);
  std::string dir = box_ / "serve";
  fs::create_directories(dir);
  fs::create_directory_symlink(outside, dir + "/.versions");
  auto r = Cairn({"checkout", ids_[0], "--into", dir});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_NE(r.err.find(".versions is not a directory cairn created"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(outside));

  // A `current` planted to point outside is replaced, never written through.
  fs::remove(dir + "/.versions");
  ASSERT_EQ(Cairn({"checkout", ids_[0], "--into", dir}).exit_code, 0);
  fs::remove(dir + "/current");
  fs::create_directory_symlink(outside, dir + "/current");
  r = Cairn({"checkout", ids_[1], "--into", dir, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["switched"], true);
  EXPECT_EQ(CurrentTarget(dir), ".versions/" + ids_[1]);
  EXPECT_TRUE(fs::is_empty(outside));
}

TEST_F(CheckoutE2E, CheckoutAcceptsDeploymentRevisions) {
  SetUpSnapshots(2);
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "prod", "--reason", "v1"}).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", ids_[1], "--to", "prod", "--reason", "v2"}).exit_code, 0);
  std::string dir = box_ / "serve";
  auto r = Cairn({"checkout", "prod", "--into", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("current -> .versions/" + ids_[1].substr(0, 12)), std::string::npos)
      << r.out;
  r = Cairn({"checkout", "prod@{1}", "--into", dir, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["id"], ids_[0]);
  EXPECT_EQ(j["previous"], ids_[1]);
  EXPECT_EQ(CurrentTarget(dir), ".versions/" + ids_[0]);
  // prod@TIME: what was live when the first event happened.
  std::string t1 = Json::parse(Cairn({"log", "prod", "--json"}).out)[0]["time"];
  r = Cairn({"checkout", "prod@" + t1, "--into", box_ / "serve2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["id"], ids_[0]);
  EXPECT_EQ(Cairn({"checkout", "nosuch", "--into", dir}).exit_code, 3);
  EXPECT_EQ(Cairn({"checkout", "prod", "--into", dir, "--keep", "0"}).exit_code, 2);
  EXPECT_EQ(Cairn({"checkout", "prod", "--into", dir, "--interval", "100"}).exit_code, 2);
  EXPECT_EQ(Cairn({"checkout", "prod@{1}", "--into", dir, "--follow"}).exit_code, 2);
}

TEST_F(CheckoutE2E, FollowSwitchesWithinOneIntervalOfPromoteAndRollback) {
  SetUpSnapshots(3);
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "prod", "--reason", "v1"}).exit_code, 0);
  std::string dir = box_ / "serve";
  std::atomic<int> pid{0};
  std::mutex m;
  std::string out;
  RunResult follow_result;
  std::thread follower([&] {
    RunOptions o;
    o.kill_after_ms = 120000;  // a safety net only
    o.on_start = [&](int p) { pid = p; };
    o.stdout_sink = [&](std::string_view s) {
      std::lock_guard<std::mutex> g(m);
      out.append(s);
    };
    follow_result = Cairn({"checkout", "prod", "--into", dir, "--follow", "--interval", "200"}, o);
  });
  // Waits for current to reach `id`; returns the milliseconds it took.
  auto wait_for = [&](const std::string& id) -> long {
    auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < std::chrono::seconds(20)) {
      if (CurrentTarget(dir) == ".versions/" + id) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
            .count();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
  };
  ASSERT_GE(wait_for(ids_[0]), 0);
  ASSERT_EQ(Cairn({"promote", ids_[1], "--to", "prod", "--reason", "v2"}).exit_code, 0);
  long promote_ms = wait_for(ids_[1]);
  // Issue 14, finding 3: the version a rollback returns to was edited meanwhile; following
  // the rollback must not serve the edit.
  Tamper(dir + "/.versions/" + ids_[0], "prompts/system.md", "edited on the host\n");
  ASSERT_EQ(Cairn({"rollback", "prod", "--reason", "bad answers"}).exit_code, 0);
  long rollback_ms = wait_for(ids_[0]);
  EXPECT_EQ(ReadFile(dir + "/current/prompts/system.md"), "release 0\n");
  // One interval (200 ms) plus the look itself; generous for a loaded 2-core machine.
  EXPECT_GE(promote_ms, 0);
  EXPECT_LE(promote_ms, 1200);
  EXPECT_GE(rollback_ms, 0);
  EXPECT_LE(rollback_ms, 1200);
  ASSERT_GT(pid.load(), 0);
  ::kill(pid.load(), SIGTERM);
  follower.join();
  EXPECT_EQ(follow_result.exit_code, 0) << follow_result.err;
  std::lock_guard<std::mutex> g(m);
  // One line per switch: the first checkout, the promote and the rollback.
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;
  EXPECT_NE(out.find("prod: " + dir + "/current -> " + ids_[1].substr(0, 12)), std::string::npos)
      << out;
  EXPECT_NE(follow_result.err.find("prompts/system.md was changed after it was written"),
            std::string::npos)
      << follow_result.err;
}

// Issue 14, finding 3: a version already in DIR is reused only if it is exactly what cairn
// wrote; an edited, added-to or planted version is written again, and says so.
TEST_F(CheckoutE2E, AReusedVersionIsCheckedAgainstItsSealAndRewrittenWhenItDiffers) {
  SetUpSnapshots(3);
  std::string dir = box_ / "serve";
  std::string v1 = dir + "/.versions/" + ids_[0];
  ASSERT_EQ(Cairn({"checkout", ids_[0], "--into", dir}).exit_code, 0);
  EXPECT_TRUE(fs::is_regular_file(v1 + ".seal"));
  ASSERT_EQ(Cairn({"checkout", ids_[1], "--into", dir}).exit_code, 0);
  auto intact = Cairn({"checkout", ids_[0], "--into", dir, "--verify", "--json"});
  ASSERT_EQ(intact.exit_code, 0) << intact.err;
  EXPECT_EQ(Json::parse(intact.out)["written"], false) << "an intact version is reused";
  ASSERT_EQ(Cairn({"checkout", ids_[1], "--into", dir}).exit_code, 0);

  Tamper(v1, "prompts/system.md", "edited on the host\n");
  auto edited = Cairn({"checkout", ids_[0], "--into", dir, "--json"});
  ASSERT_EQ(edited.exit_code, 0) << edited.err;
  Json j = Json::parse(edited.out);
  EXPECT_EQ(j["written"], true);
  EXPECT_EQ(j["rewritten"], "prompts/system.md was changed after it was written");
  EXPECT_NE(edited.err.find("was not what cairn wrote"), std::string::npos) << edited.err;
  EXPECT_EQ(ReadFile(dir + "/current/prompts/system.md"), "release 0\n");

  // An extra file in the version that `current` points to: rewritten in place.
  ::chmod((v1 + "/config").c_str(), 0755);
  box_.Write("serve/.versions/" + ids_[0] + "/config/extra.txt", "planted\n");
  auto added = Cairn({"checkout", ids_[0], "--into", dir});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_NE(added.err.find("config/extra.txt was added"), std::string::npos) << added.err;
  EXPECT_FALSE(fs::exists(dir + "/current/config/extra.txt"));
  EXPECT_EQ(CurrentTarget(dir), ".versions/" + ids_[0]);

  // An empty directory planted under v3's name is not v3.
  fs::create_directory(dir + "/.versions/" + ids_[2]);
  auto planted = Cairn({"checkout", ids_[2], "--into", dir});
  ASSERT_EQ(planted.exit_code, 0) << planted.err;
  EXPECT_NE(planted.err.find("it has no seal"), std::string::npos) << planted.err;
  EXPECT_EQ(ReadFile(dir + "/current/prompts/system.md"), "release 2\n");
  EXPECT_EQ(ReadFile(dir + "/current/config/part-7.txt"), "release 2\n");
  // Nothing the rewrites moved aside is left behind.
  for (const auto& e : fs::directory_iterator(dir + "/.versions")) {
    EXPECT_EQ(e.path().filename().string().rfind(".tmp-", 0), std::string::npos) << e.path();
  }
}

TEST_F(CheckoutE2E, SigkillAtRandomMomentsLeavesAWholeVersionAndTheNextCheckoutRecovers) {
  // Two releases large enough that a checkout takes a while (300 files each).
  ASSERT_EQ(Cairn({"init"}).exit_code, 0);
  std::string rel = WriteMinimalRelease(box_, "rel");
  for (int i = 0; i < 2; ++i) {
    std::string mark = "release " + std::to_string(i) + "\n";
    box_.Write("rel/prompts/system.md", mark);
    for (int p = 0; p < 300; ++p) {
      box_.Write("rel/config/part-" + std::to_string(p) + ".txt", mark + std::string(2000, 'x'));
    }
    auto r = Cairn({"snapshot", "create", rel, "-m", "r" + std::to_string(i), "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ids_.push_back(r.out.substr(0, 64));
  }
  std::string dir = box_ / "serve";
  ASSERT_EQ(Cairn({"checkout", ids_[0], "--into", dir, "--keep", "1"}).exit_code, 0);
  std::mt19937 rng(7);
  int killed = 0, leftovers = 0;
  for (int round = 0; round < 30; ++round) {
    int target = (round + 1) % 2;
    RunOptions o;
    // Every fifth checkout gets five seconds, so a loaded machine cannot make every round a
    // kill (the test asserts both sides).
    o.kill_after_ms = static_cast<int>(rng() % 400);
    if (round % 5 == 4) o.kill_after_ms = 5000;
    auto r = Cairn({"checkout", ids_[target], "--into", dir, "--keep", "1"}, o);
    killed += r.signal == SIGKILL ? 1 : 0;
    // Whatever the moment, current names one complete version.
    std::string at = CurrentTarget(dir);
    ASSERT_TRUE(at == ".versions/" + ids_[0] || at == ".versions/" + ids_[1]) << at;
    std::string want = at == ".versions/" + ids_[0] ? "release 0\n" : "release 1\n";
    ASSERT_EQ(box_.Read("serve/current/prompts/system.md"), want);
    ASSERT_EQ(box_.Read("serve/current/config/part-299.txt").substr(0, want.size()), want);
    for (const auto& e : std::filesystem::directory_iterator(dir + "/.versions")) {
      leftovers += e.path().filename().string().rfind(".tmp-", 0) == 0 ? 1 : 0;
    }
    // The next checkout cleans up whatever the killed one left and lands.
    auto again = Cairn({"checkout", ids_[target], "--into", dir, "--keep", "1"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    ASSERT_EQ(CurrentTarget(dir), ".versions/" + ids_[target]);
    for (const auto& e : std::filesystem::directory_iterator(dir + "/.versions")) {
      std::string name = e.path().filename().string();
      ASSERT_TRUE(name == ".lock" || name == ids_[target] || name == ids_[target] + ".seal")
          << name;
    }
  }
  EXPECT_GT(killed, 5);
  EXPECT_LT(killed, 30) << "no checkout finished before its kill";
  EXPECT_GT(leftovers, 0) << "no kill landed while a version was being written";
  std::printf("checkout SIGKILL test: %d of 30 killed, %d left a partial tree\n", killed,
              leftovers);
}

}  // namespace
}  // namespace cairn::testing
