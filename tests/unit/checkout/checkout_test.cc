#include "cairn/checkout.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "cairn/deployment.h"
#include "cairn/ingest.h"
#include "port/rocks.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

class CheckoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Store::Init(box_ / "store").ok());
    StoreOpenOptions o;
    o.read_only = false;
    auto s = Store::Open(box_ / "store", o);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    std::string dir = testing::WriteMinimalRelease(box_, "rel");
    for (int i = 0; i < 4; ++i) {
      box_.Write("rel/prompts/system.md", "Version " + std::to_string(i + 1) + " {{name}}\n");
      CreateSnapshotOptions c;
      c.dir = dir;
      c.message = "v" + std::to_string(i + 1);
      std::vector<Problem> problems;
      auto r = CreateSnapshot(*store_, c, &problems);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      v_.push_back(r->snapshot.id);
    }
    dir_ = box_ / "serve";
  }

  Result<CheckoutResult> Co(int i, uint32_t keep = 5) {
    CheckoutOptions o;
    o.keep = keep;
    return Checkout(*store_, v_[i], dir_, o);
  }
  std::string Current() {
    std::error_code ec;
    return fs::read_symlink(dir_ + "/current", ec).string();
  }
  std::string VersionOf(int i) { return ".versions/" + v_[i].Hex(); }
  // The names in .versions but seals; every version has its seal and every seal its version.
  std::vector<std::string> Versions() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_ + "/.versions")) {
      std::string name = e.path().filename().string();
      if (name.size() == 69 && name.ends_with(".seal")) {
        EXPECT_TRUE(fs::is_directory(dir_ + "/.versions/" + name.substr(0, 64))) << name;
        continue;
      }
      if (name.size() == 64) {
        EXPECT_TRUE(fs::is_regular_file(dir_ + "/.versions/" + name + ".seal")) << name;
      }
      names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  // A directory outside the checkout directory that nothing may ever write into.
  std::string Outside() {
    std::string out = box_ / "outside";
    fs::create_directories(out);
    return out;
  }
  static bool IsEmptyDir(const std::string& d) { return fs::is_empty(d); }

  testing::Sandbox box_;
  std::unique_ptr<Store> store_;
  std::vector<SnapshotId> v_;
  std::string dir_;
};

TEST_F(CheckoutTest, WritesReadOnlyTreeAndPointsCurrentAtIt) {
  auto r = Co(0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->written);
  EXPECT_TRUE(r->switched);
  EXPECT_FALSE(r->previous.has_value());
  size_t release_files = 0;
  for (const auto& e : fs::recursive_directory_iterator(box_ / "rel")) {
    release_files += e.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(r->files, release_files);
  EXPECT_EQ(Current(), VersionOf(0));
  EXPECT_EQ(box_.Read("serve/current/prompts/system.md"), "Version 1 {{name}}\n");
  EXPECT_EQ(box_.Read("serve/current/tools/lookup.json"), box_.Read("rel/tools/lookup.json"));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/current/prompts/system.md").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444u);
  ASSERT_EQ(::stat((dir_ + "/current/prompts").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  ASSERT_EQ(::lstat((dir_ + "/current").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  auto cur = CurrentCheckout(dir_);
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(**cur, v_[0]);
}

TEST_F(CheckoutTest, SwitchReplacesCurrentAndKeepsThePreviousVersion) {
  ASSERT_TRUE(Co(0).ok());
  auto r = Co(1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->switched);
  ASSERT_TRUE(r->previous.has_value());
  EXPECT_EQ(*r->previous, v_[0]);
  EXPECT_EQ(Current(), VersionOf(1));
  EXPECT_EQ(box_.Read("serve/current/prompts/system.md"), "Version 2 {{name}}\n");
  EXPECT_EQ(box_.Read("serve/" + VersionOf(0) + "/prompts/system.md"), "Version 1 {{name}}\n");
  EXPECT_FALSE(fs::exists(dir_ + "/.current.new"));
}

TEST_F(CheckoutTest, CheckingOutWhatIsCurrentChangesNothing) {
  ASSERT_TRUE(Co(0).ok());
  auto r = Co(0);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->written);
  EXPECT_FALSE(r->switched);
  EXPECT_EQ(Current(), VersionOf(0));
}

TEST_F(CheckoutTest, KeepRemovesTheOldestVersionsButNeverCurrent) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Co(i, 2).ok());
  EXPECT_EQ(Versions().size(), 3u);  // two versions and the lock file
  EXPECT_TRUE(fs::exists(dir_ + "/" + VersionOf(3)));
  EXPECT_TRUE(fs::exists(dir_ + "/" + VersionOf(2)));
  // Switching back to v1 writes it again and makes it the newest; v3 goes.
  auto r = Co(0, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->written);
  ASSERT_EQ(r->removed.size(), 1u);
  EXPECT_EQ(r->removed[0], v_[2]);
  EXPECT_TRUE(fs::exists(dir_ + "/" + VersionOf(0)));
  EXPECT_TRUE(fs::exists(dir_ + "/" + VersionOf(3)));
  // keep = 1 leaves only what current points to.
  r = Co(0, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Versions(), (std::vector<std::string>{".lock", v_[0].Hex()}));
  EXPECT_EQ(Current(), VersionOf(0));
}

TEST_F(CheckoutTest, ReusedVersionBecomesNewestForKeep) {
  ASSERT_TRUE(Co(0, 2).ok());
  ASSERT_TRUE(Co(1, 2).ok());
  // Back to v1 without writing it: it is now the newest, so v2 survives and v1 stays.
  auto r = Co(0, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->written);
  ASSERT_TRUE(Co(2, 2).ok());  // v3 newest, then v1; v2 is the oldest and goes
  EXPECT_TRUE(fs::exists(dir_ + "/" + VersionOf(0)));
  EXPECT_FALSE(fs::exists(dir_ + "/" + VersionOf(1)));
}

TEST_F(CheckoutTest, LeftoversOfAnInterruptedCheckoutAreRemoved) {
  ASSERT_TRUE(Co(0).ok());
  fs::create_directories(dir_ + "/.versions/.tmp-0123456789abcdef-42/prompts");
  box_.Write("serve/.versions/.tmp-0123456789abcdef-42/prompts/x.md", "half");
  ::chmod((dir_ + "/.versions/.tmp-0123456789abcdef-42/prompts").c_str(), 0555);
  ASSERT_EQ(::symlink("whatever", (dir_ + "/.current.new").c_str()), 0);
  ASSERT_TRUE(Co(1).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/.versions/.tmp-0123456789abcdef-42"));
  EXPECT_FALSE(fs::is_symlink(dir_ + "/.current.new"));
  EXPECT_EQ(Current(), VersionOf(1));
}

TEST_F(CheckoutTest, NonEmptyDirectoryThatIsNoCheckoutIsRefused) {
  box_.Write("serve/precious.txt", "keep me");
  auto r = Co(0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_NE(r.status().message().find("not a checkout directory"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ + "/.versions"));
  EXPECT_FALSE(fs::exists(dir_ + "/current"));
}

TEST_F(CheckoutTest, PlantedVersionsSymlinkIsRefusedAndNothingIsWrittenOutside) {
  std::string outside = Outside();
  fs::create_directories(dir_);
  fs::create_directory_symlink(outside, dir_ + "/.versions");
  auto r = Co(0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kConflict) << r.status().ToString();
  EXPECT_TRUE(IsEmptyDir(outside));
  EXPECT_FALSE(fs::exists(dir_ + "/current"));
}

TEST_F(CheckoutTest, PlantedVersionSymlinkIsRefusedAndNothingIsWrittenOutside) {
  std::string outside = Outside();
  ASSERT_TRUE(Co(0).ok());
  fs::create_directory_symlink(outside, dir_ + "/" + VersionOf(1));
  auto r = Co(1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_TRUE(IsEmptyDir(outside));
  EXPECT_EQ(Current(), VersionOf(0));
}

TEST_F(CheckoutTest, PlantedLockSymlinkIsRefused) {
  std::string outside = Outside();
  ASSERT_TRUE(Co(0).ok());
  fs::remove(dir_ + "/.versions/.lock");
  fs::create_symlink(outside + "/lock", dir_ + "/.versions/.lock");
  auto r = Co(1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_TRUE(IsEmptyDir(outside));
}

TEST_F(CheckoutTest, PlantedCurrentSymlinkIsReplacedNotWrittenThrough) {
  std::string outside = Outside();
  box_.Write("outside/file.txt", "untouched");
  ASSERT_TRUE(Co(0).ok());
  fs::remove(dir_ + "/current");
  fs::create_directory_symlink(outside, dir_ + "/current");
  auto r = Co(1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->previous.has_value());  // not a version cairn wrote
  EXPECT_EQ(Current(), VersionOf(1));
  EXPECT_EQ(box_.Read("outside/file.txt"), "untouched");
  EXPECT_EQ(std::distance(fs::directory_iterator(outside), fs::directory_iterator()), 1);
}

TEST_F(CheckoutTest, CurrentThatIsADirectoryIsRefused) {
  ASSERT_TRUE(Co(0).ok());
  fs::remove(dir_ + "/current");
  fs::create_directories(dir_ + "/current");
  auto r = Co(1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_TRUE(fs::is_directory(dir_ + "/current"));
}

TEST_F(CheckoutTest, PruningRemovesAPlantedSymlinkButNotItsTarget) {
  std::string outside = Outside();
  box_.Write("outside/file.txt", "untouched");
  ASSERT_TRUE(Co(0, 1).ok());
  std::string v1 = dir_ + "/" + VersionOf(0);
  ::chmod(v1.c_str(), 0755);
  fs::create_directory_symlink(outside, v1 + "/evil");
  ASSERT_TRUE(Co(1, 1).ok());
  EXPECT_FALSE(fs::exists(v1));
  EXPECT_EQ(box_.Read("outside/file.txt"), "untouched");
}

TEST_F(CheckoutTest, CorruptObjectFailsAndLeavesCurrentAlone) {
  ASSERT_TRUE(Co(0).ok());
  auto snap = LoadSnapshot(*store_, v_[1]);
  ASSERT_TRUE(snap.ok());
  const Component* c = snap->Find("prompts/system.md");
  ASSERT_NE(c, nullptr);
  Db& db = StoreInternal::db(*store_);
  std::string record = *db.Get(Table::kObjects, c->digest.Raw()).value();
  record[record.size() - 2] ^= 0x01;
  Batch b(db);
  b.Put(Table::kObjects, c->digest.Raw(), record);
  ASSERT_TRUE(db.Write(b, true).ok());
  auto r = Co(1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption) << r.status().ToString();
  EXPECT_EQ(Current(), VersionOf(0));
  EXPECT_FALSE(fs::exists(dir_ + "/" + VersionOf(1)));
  EXPECT_EQ(Versions(), (std::vector<std::string>{".lock", v_[0].Hex()}));
}

TEST_F(CheckoutTest, KeepZeroIsAUsageError) {
  auto r = Co(0, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUsage);
}

TEST_F(CheckoutTest, FollowSwitchesOnPromoteAndRollback) {
  MoveOptions m;
  m.actor = "alice@test";
  m.reason = "test";
  ASSERT_TRUE(Promote(*store_, "prod", v_[0], m).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> switches{0};
  Status follow_status;
  std::thread follower([&] {
    FollowOptions f;
    f.interval = std::chrono::milliseconds(20);
    f.stop = [&] { return stop.load(); };
    f.on_switch = [&](const CheckoutResult&) { ++switches; };
    follow_status = FollowDeployment(box_ / "store", "prod", dir_, f);
  });
  auto wait_for = [&](const SnapshotId& id) {
    for (int i = 0; i < 500; ++i) {
      auto cur = CurrentCheckout(dir_);
      if (cur.ok() && cur->has_value() && **cur == id) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  EXPECT_TRUE(wait_for(v_[0]));
  ASSERT_TRUE(Promote(*store_, "prod", v_[1], m).ok());
  EXPECT_TRUE(wait_for(v_[1]));
  RollbackOptions rb;
  rb.move = m;
  ASSERT_TRUE(Rollback(*store_, "prod", rb).ok());
  EXPECT_TRUE(wait_for(v_[0]));
  stop = true;
  follower.join();
  EXPECT_TRUE(follow_status.ok()) << follow_status.ToString();
  EXPECT_EQ(switches.load(), 3);
}

TEST_F(CheckoutTest, FollowOfAnUnknownDeploymentFailsAtOnce) {
  FollowOptions f;
  f.stop = [] { return false; };
  Status s = FollowDeployment(box_ / "store", "nope", dir_, f);
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
}

}  // namespace
}  // namespace cairn
