// Real exhaustion: a store on a 16 MiB tmpfs, filled to every level from 0 to 64 KiB free,
// and remounted read-only. Needs to mount (root with CAP_SYS_ADMIN); skipped otherwise,
// saying why.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class FullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    disk_ = box_ / "disk";
    fs::create_directories(disk_);
    if (::mount("tmpfs", disk_.c_str(), "tmpfs", 0, "size=16m,mode=0755") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs at " << disk_ << " (" << std::strerror(errno)
                   << "): this test needs root with CAP_SYS_ADMIN";
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(disk_.c_str(), MNT_DETACH);
  }

  RunResult Cairn(std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", disk_ + "/store"});
    return RunCairn(args);
  }

  // A copy of a test-only key from fixtures/keys (private keys at mode 0600).
  std::string Key(const std::string& name) {
    std::string path = box_ / ("keys/" + name);
    if (!fs::exists(path)) {
      fs::create_directories(box_ / "keys");
      fs::copy_file(FixturePath("keys/" + name), path);
      if (!name.ends_with(".pub.pem"))
        fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    }
    return path;
  }

  uint64_t FreeBytes() {
    struct statvfs st {};
    ::statvfs(disk_.c_str(), &st);
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }

  // Leaves `free_bytes` free (to the page) with a filler file.
  void FillTo(uint64_t free_bytes) {
    fs::remove(disk_ + "/filler");
    uint64_t have = FreeBytes();
    if (have <= free_bytes) return;
    std::ofstream f(disk_ + "/filler", std::ios::binary);
    std::string chunk(1 << 16, 'f');
    uint64_t left = have - free_bytes;
    while (left > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
      f.write(chunk.data(), static_cast<std::streamsize>(n));
      left -= n;
    }
  }

  // A release whose new content (1 MiB, incompressible) is more than any fill level leaves.
  std::string BigRelease(unsigned seed) {
    std::string dir = WriteMinimalRelease(box_, "big" + std::to_string(seed));
    std::mt19937 rng(seed);
    std::string bytes(1 << 20, '\0');
    for (auto& c : bytes) c = static_cast<char>('a' + rng() % 26);
    box_.Write("big" + std::to_string(seed) + "/config/blob.txt", bytes);
    return dir;
  }

  void ExpectCleanFailure(const RunResult& r, const std::string& what) {
    EXPECT_EQ(r.signal, 0) << what << " was killed by signal " << r.signal << "\n" << r.err;
    EXPECT_NE(r.exit_code, 0) << what;
    EXPECT_FALSE(r.err.empty()) << what << " failed without saying why";
    EXPECT_NE(r.exit_code, 5) << what << ": a full or read-only disk is not damage\n" << r.err;
  }

  // A failure on a full disk says so.
  void ExpectSpaceFailure(const RunResult& r, const std::string& what) {
    ExpectCleanFailure(r, what);
    EXPECT_TRUE(r.err.find("No space left") != std::string::npos ||
                r.err.find("is full") != std::string::npos)
        << what << ": the error does not say the disk is full\n"
        << r.err;
  }

  void ExpectHealthy(const std::string& when) {
    auto fsck = Cairn({"fsck"});
    EXPECT_EQ(fsck.exit_code, 0) << when << "\n" << fsck.out << fsck.err;
    auto audit = Cairn({"audit", "verify"});
    EXPECT_EQ(audit.exit_code, 0) << when << "\n" << audit.out << audit.err;
  }

  Sandbox box_;
  std::string disk_;
  bool mounted_ = false;
};

TEST_F(FullDiskTest, ASnapshotLargerThanTheFreeSpaceFailsCleanlyAtEveryFillLevel) {
  ASSERT_EQ(Cairn({"init"}).exit_code, 0);
  std::string v1 = box_.CopyFixture("releases/v1", "v1");
  std::string v2 = box_.CopyFixture("releases/v2", "v2");
  auto a = Cairn({"snapshot", "create", v1, "-m", "one", "-q"});
  auto b = Cairn({"snapshot", "create", v2, "-m", "two", "-q"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::string id1 = a.out.substr(0, 64), id2 = b.out.substr(0, 64);
  ASSERT_EQ(Cairn({"promote", id1, "--to", "prod", "--reason", "start"}).exit_code, 0);
  int moves_done = 0;
  for (uint64_t free_kib = 0; free_kib <= 64; free_kib += 4) {
    std::string level = std::to_string(free_kib) + " KiB free";
    FillTo(free_kib << 10);
    auto create =
        Cairn({"snapshot", "create", BigRelease(static_cast<unsigned>(free_kib)), "-m", "too big"});
    ExpectSpaceFailure(create, "snapshot create with " + level);
    // A move may fit or not; either way it says which, and the store stays whole.
    auto move = Cairn(
        {"promote", moves_done % 2 == 0 ? id2 : id1, "--to", "prod", "--reason", "at " + level});
    EXPECT_EQ(move.signal, 0) << level << "\n" << move.err;
    if (move.exit_code == 0) {
      ++moves_done;
    } else {
      ExpectSpaceFailure(move, "promote with " + level);
    }
    // Every other kind of write, too (each fails or fits; never damage, never a signal).
    for (std::vector<std::string> args :
         {std::vector<std::string>{"policy", "set", "beta", "--min-eval",
                                   "golden=0." + std::to_string(free_kib + 10), "--reason", "r"},
          {"trust", "add", "k" + std::to_string(free_kib), Key("test-ci-ONLY-FOR-TESTS.pub.pem"),
           "--role", "ci"},
          {"sign", id1, "--key", Key("test-release-ONLY-FOR-TESTS.pem")},
          {"attest", id1, "--eval", "golden", "--score", "0.9", "--key",
           Key("test-ci-ONLY-FOR-TESTS.pem")},
          {"checkout", id2, "--into", disk_ + "/serve"}}) {
      auto r = Cairn(args);
      if (r.exit_code != 0 && r.exit_code != 6) ExpectSpaceFailure(r, args[0] + " with " + level);
    }
    fs::remove_all(disk_ + "/serve");
    for (const auto& e : fs::directory_iterator(disk_ + "/store/db2")) {
      EXPECT_FALSE(e.path().filename().string().ends_with(".dbtmp"))
          << level << ": an open left " << e.path();
    }
    fs::remove(disk_ + "/filler");
    ExpectHealthy("after " + level);
    auto status = Cairn({"status", "--json"});
    ASSERT_EQ(status.exit_code, 0) << status.err;
    EXPECT_EQ(Json::parse(status.out)[0]["live"], moves_done % 2 == 0 ? id1 : id2) << level;
  }
  // Space freed: the store works.
  auto create = Cairn({"snapshot", "create", BigRelease(99), "-m", "fits now"});
  EXPECT_EQ(create.exit_code, 0) << create.err;
  ExpectHealthy("at the end");
}

TEST_F(FullDiskTest, AReadOnlyRemountServesEveryReadAndRefusesEveryWrite) {
  ASSERT_EQ(Cairn({"init"}).exit_code, 0);
  std::string v1 = box_.CopyFixture("releases/v1", "v1");
  std::string v2 = box_.CopyFixture("releases/v2", "v2");
  std::string id1 = Cairn({"snapshot", "create", v1, "-m", "one", "-q"}).out.substr(0, 64);
  std::string id2 = Cairn({"snapshot", "create", v2, "-m", "two", "-q"}).out.substr(0, 64);
  ASSERT_EQ(Cairn({"promote", id1, "--to", "prod", "--reason", "start"}).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", id2, "--to", "prod", "--reason", "next"}).exit_code, 0);
  ASSERT_EQ(::mount(nullptr, disk_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0)
      << std::strerror(errno);
  for (std::vector<std::string> args : {std::vector<std::string>{"status"},
                                        {"log", "prod"},
                                        {"snapshot", "list"},
                                        {"show", id1},
                                        {"cat", id1 + ":prompts/system.md"},
                                        {"diff", id1, id2},
                                        {"live", "prod", "--at", "2099-01-01"},
                                        {"fsck"},
                                        {"audit", "verify"},
                                        {"trust", "list"},
                                        {"policy", "show"},
                                        {"checkout", "prod", "--into", box_ / "serving"}}) {
    auto r = Cairn(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " on a read-only store\n" << r.out << r.err;
  }
  EXPECT_TRUE(fs::exists(box_ / "serving/current/prompts/system.md"));
  for (std::vector<std::string> args :
       {std::vector<std::string>{"promote", id1, "--to", "prod", "--reason", "ro"},
        {"rollback", "prod", "--reason", "ro"},
        {"snapshot", "create", v1, "-m", "ro"},
        {"policy", "set", "prod", "--min-eval", "golden=0.8", "--reason", "ro"}}) {
    auto r = Cairn(args);
    ExpectCleanFailure(r, args[0] + " on a read-only store");
    EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << args[0] << "\n" << r.err;
  }
  ASSERT_EQ(::mount(nullptr, disk_.c_str(), nullptr, MS_REMOUNT, nullptr), 0);
  ExpectHealthy("after the remount");
  EXPECT_EQ(Cairn({"rollback", "prod", "--reason", "rw again"}).exit_code, 0);
}

}  // namespace
}  // namespace cairn::testing
