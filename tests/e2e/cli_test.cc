// End-to-end: the real `cairn` binary on real directories.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;

class CliTest : public ::testing::Test {
 protected:
  RunResult Cairn(std::vector<std::string> args, RunOptions o = {}) {
    args.insert(args.begin(), {"--store", box_ / "store"});
    return RunCairn(args, o);
  }
  void Init() {
    auto r = Cairn({"init"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string CreateFrom(const std::string& dir, const std::string& msg) {
    auto r = Cairn({"snapshot", "create", dir, "-m", msg, "-q"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string id = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(id.size(), 64u);
    return id;
  }
  Sandbox box_;
};

TEST_F(CliTest, TourOfTheSampleReleases) {
  Init();
  std::string v1 = CreateFrom(box_.CopyFixture("releases/v1", "v1"), "v1: first release");
  std::string v2 = CreateFrom(box_.CopyFixture("releases/v2", "v2"), "v2: new KB articles");
  std::string v3 = CreateFrom(box_.CopyFixture("releases/v3", "v3"), "v3: concise prompt");

  auto list = Cairn({"snapshot", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  Json l = Json::parse(list.out);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0]["id"], v3) << "newest first";
  EXPECT_EQ(l[2]["message"], "v1: first release");

  auto show = Cairn({"snapshot", "show", v2.substr(0, 10), "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  Json s = Json::parse(show.out);
  EXPECT_EQ(s["id"], v2);
  EXPECT_EQ(s["parent"], v1);
  EXPECT_EQ(s["app"], "support-bot");

  auto human = Cairn({"show", v2});
  ASSERT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find("snapshot " + v2), std::string::npos);
  EXPECT_NE(human.out.find("prompts/system.md"), std::string::npos);

  auto diff = Cairn({"diff", v1, v2, "--json"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  Json d = Json::parse(diff.out);
  bool prompt_changed = false, kb_changed = false;
  for (const auto& c : d["components"]) {
    if (c["kind"] == "prompt" && c["change"] == "modified") prompt_changed = true;
    if (c.contains("documents")) kb_changed = true;
  }
  EXPECT_TRUE(prompt_changed);
  EXPECT_TRUE(kb_changed);
  auto text = Cairn({"diff", v2, v3});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("@@"), std::string::npos) << "a unified diff of the prompt";

  // cat returns the bytes exactly as ingested.
  auto cat = Cairn({"cat", v1 + ":prompts/system.md"});
  ASSERT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_EQ(cat.out, box_.Read("v1/prompts/system.md"));

  auto fsck = Cairn({"fsck"});
  EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
  EXPECT_NE(fsck.out.find("no problems"), std::string::npos);
}

TEST_F(CliTest, InvalidReleaseExitsFourNamesFileAndRuleAndChangesNothing) {
  Init();
  std::string dir = box_.CopyFixture("bad/duplicate-key", "bad");
  auto r = Cairn({"snapshot", "create", dir, "-m", "x"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("duplicate-key"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tools/"), std::string::npos) << r.err;
  auto fsck = Cairn({"fsck", "--json"});
  Json f = Json::parse(fsck.out);
  EXPECT_EQ(f["objects"], 0);
  EXPECT_EQ(f["snapshots"], 0);
}

// main.cc registers only the command named on the command line: every command that the
// full help lists must still be found under its own name, with its own options.
TEST_F(CliTest, EveryCommandTheHelpListsRunsUnderItsName) {
  auto help = RunCairn({"--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  size_t at = help.out.find("Subcommands:\n");
  ASSERT_NE(at, std::string::npos) << help.out;
  std::istringstream lines(help.out.substr(at + 13));
  std::vector<std::string> names;
  for (std::string line; std::getline(lines, line) && line.starts_with("  ");) {
    names.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  ASSERT_EQ(names.size(), 29u) << help.out;
  for (const auto& name : names) {
    auto r = RunCairn({"--actor", "x", name, "--help"});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_NE(r.out.find("Usage: cairn " + name), std::string::npos) << name << ":\n" << r.out;
  }
  // Global options before the command, in both spellings, still work.
  Init();
  auto status = RunCairn({"--store=" + box_ / "store", "--lock-timeout", "5", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("no deployments"), std::string::npos) << status.out;
}

TEST_F(CliTest, ExitCodesAreDistinct) {
  EXPECT_EQ(Cairn({"snapshot", "list"}).exit_code, 3) << "no store yet";
  Init();
  EXPECT_EQ(Cairn({"init"}).exit_code, 6) << "already exists";
  EXPECT_EQ(Cairn({"show", "abc"}).exit_code, 2) << "prefix too short";
  EXPECT_EQ(Cairn({"show", std::string(64, 'a')}).exit_code, 3);
  EXPECT_EQ(Cairn({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(Cairn({"snapshot", "create", box_ / "missing", "-m", "x"}).exit_code, 3);
  EXPECT_EQ(Cairn({"diff", "only-one"}).exit_code, 2);

  // Every documented code (docs/cli.md), each from a real situation, each with its own
  // kind of message on stderr.
  std::string id = CreateFrom(WriteMinimalRelease(box_, "rel"), "one");
  box_.Write("rel/prompts/system.md", "Two {{customer_name}}\n");
  std::string id2 = CreateFrom(box_ / "rel", "two");
  ASSERT_EQ(Cairn({"promote", id, "--to", "prod", "--reason", "r"}).exit_code, 0);
  box_.Write("a-file", "x");
  std::map<int, RunResult> by_code;
  by_code[0] = Cairn({"status"});
  by_code[1] = Cairn({"key", "generate", "k", "--out", box_ / "a-file/keys"});
  by_code[2] = Cairn({"show", "abc"});
  by_code[3] = Cairn({"show", std::string(64, 'a')});
  by_code[4] =
      Cairn({"snapshot", "create", box_.CopyFixture("bad/duplicate-key", "bad"), "-m", "x"});
  by_code[6] = Cairn({"promote", id, "--to", "prod", "--reason", "again"});
  ASSERT_EQ(
      Cairn({"policy", "set", "gated", "--min-eval", "golden=0.9", "--reason", "r"}).exit_code, 0);
  by_code[7] = Cairn({"promote", id, "--to", "gated", "--reason", "r"});
  by_code[9] = Cairn({"promote", id2, "--to", "prod", "--reason", "r", "--expect", id2});
  // 8: a writer holds the lock (its pre-promote hook sleeps) past the other's --lock-timeout.
  box_.Write("store/hooks/pre-promote.d/slow", "#!/bin/sh\nsleep 3\n");
  ::chmod((box_ / "store/hooks/pre-promote.d/slow").c_str(), 0755);
  std::thread holder([&] { Cairn({"promote", id2, "--to", "held", "--reason", "r"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  by_code[8] = Cairn({"--lock-timeout", "100", "promote", id2, "--to", "other", "--reason", "r"});
  holder.join();
  // 5: the same store with a byte flipped in its newest log.
  std::string newest;
  for (const auto& e : std::filesystem::directory_iterator(box_ / "store/db2")) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".log") && std::filesystem::file_size(e.path()) > 0 && name > newest) {
      newest = name;
    }
  }
  std::string bytes = box_.Read("store/db2/" + newest);
  bytes[bytes.size() / 2] ^= 0x5a;
  box_.Write("store/db2/" + newest, bytes);
  by_code[5] = Cairn({"status"});

  std::set<std::string> kinds;
  for (const auto& [code, r] : by_code) {
    EXPECT_EQ(r.exit_code, code) << r.out << r.err;
    if (code == 0) {
      EXPECT_TRUE(r.err.empty()) << r.err;
      continue;
    }
    // The last line "cairn: <kind>: ..." (problems of a release come before it): the kind
    // names the code.
    size_t at = r.err.starts_with("cairn: ") ? 0 : r.err.rfind("\ncairn: ");
    ASSERT_NE(at, std::string::npos) << code << ": " << r.err;
    at += r.err[at] == '\n' ? 8 : 7;
    kinds.insert(r.err.substr(at, r.err.find(':', at) - at));
  }
  EXPECT_EQ(by_code.size(), 10u);
  EXPECT_EQ(kinds.size(), 9u) << "two codes share the same kind of message";
}

TEST_F(CliTest, AWordThatIsNoCommandIsNamedWithTheNearestCommands) {
  auto r = RunCairn({"statu"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'statu' is not a cairn command"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'status'?"), std::string::npos) << r.err;
  r = RunCairn({"--store", box_ / "store", "frobnicate", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'frobnicate' is not a cairn command"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("did you mean"), std::string::npos) << r.err;
}

TEST_F(CliTest, StoreIsFoundFromEnvironmentAndByWalkingUp) {
  auto init = RunCairn({"init", box_ / "repo"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  std::filesystem::create_directories(box_ / "repo/deep/er");
  std::string rel = WriteMinimalRelease(box_, "rel");
  RunOptions in_repo;
  in_repo.cwd = box_ / "repo/deep/er";
  auto r = RunCairn({"snapshot", "create", rel, "-m", "walk"}, in_repo);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  RunOptions with_env;
  with_env.cwd = box_.path();
  with_env.env["CAIRN_STORE"] = box_ / "repo/.cairn";
  auto list = RunCairn({"snapshot", "list", "--json"}, with_env);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(Json::parse(list.out).size(), 1u);
  RunOptions outside;
  outside.cwd = box_.path();
  auto none = RunCairn({"snapshot", "list"}, outside);
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_NE(none.err.find("cairn init"), std::string::npos) << none.err;
}

TEST_F(CliTest, NothingIsDrawnOnStderrInAPipe) {
  Init();
  auto r = Cairn({"snapshot", "create", WriteMinimalRelease(box_, "rel"), "-m", "quiet"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
}

// Like git: output that could not be written fails the command, so that `cairn log >
// file` on a full disk is not taken for a complete log. A reader that went away is not an
// error of the command.
TEST_F(CliTest, OutputLostToAFullDiskFailsTheCommandAndSaysSo) {
  Init();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--version"}, {"--store", box_ / "store", "status", "--json"}}) {
    std::string command = "exec \"$0\"";
    for (const auto& a : args) command += " '" + a + "'";
    auto full = RunProgram({"/bin/sh", "-c", command + " > /dev/full", CAIRN_BIN});
    EXPECT_EQ(full.exit_code, 1) << args[0] << ": " << full.err;
    EXPECT_NE(full.err.find("cairn: error: could not write standard output"), std::string::npos)
        << full.err;
    auto fine = RunProgram({"/bin/sh", "-c", command + " > /dev/null", CAIRN_BIN});
    EXPECT_EQ(fine.exit_code, 0) << args[0] << ": " << fine.err;
    EXPECT_EQ(fine.err, "");
  }
  // A reader that went away before cairn wrote (the pipe's read end is closed first, and
  // SIGPIPE is ignored, as under many CI runners): EPIPE, which is not the command's error.
  auto gone = RunProgram({"/usr/bin/python3", "-c",
                          "import os, subprocess, sys\n"
                          "r, w = os.pipe(); os.close(r)\n"
                          "p = subprocess.run([sys.argv[1], '--help'], stdout=w, "
                          "restore_signals=False)\n"
                          "sys.exit(p.returncode)\n",
                          CAIRN_BIN});
  EXPECT_EQ(gone.exit_code, 0) << gone.err;
  EXPECT_EQ(gone.err.find("could not write"), std::string::npos) << gone.err;
}

TEST_F(CliTest, ValidateNeedsNoStoreAndReportsJson) {
  auto ok = RunCairn({"validate", WriteMinimalRelease(box_, "rel")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  auto bad = RunCairn({"validate", box_.CopyFixture("bad/floating-model", "bad"), "--json"});
  EXPECT_EQ(bad.exit_code, 4);
  Json j = Json::parse(bad.out);
  EXPECT_EQ(j["problems"][0]["rule"], "floating-model");
}

TEST_F(CliTest, FlippedByteOnDiskIsCaughtByFsckAndCat) {
  Init();
  std::string rel = WriteMinimalRelease(box_, "rel");
  // An incompressible object is stored verbatim, so its bytes can be found on disk. It is
  // large enough (> 8 MiB of new objects) to be written to blob files rather than to the
  // (compressed) log together with the snapshot record.
  std::string marker = "CAIRN-MARKER-";
  std::string blob = marker;
  uint32_t x = 12345;
  while (blob.size() < (10u << 20)) {
    x = x * 1103515245 + 12345;
    blob.push_back(static_cast<char>(x >> 16));
  }
  box_.Write("rel/config/blob.bin", blob);
  std::string id = CreateFrom(rel, "with blob");
  size_t flipped = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(box_ / "store/db2")) {
    if (!e.is_regular_file()) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    size_t at = bytes.find(marker);
    if (at == std::string::npos) continue;
    f.seekp(static_cast<std::streamoff>(at + 1000));
    char c = static_cast<char>(bytes[at + 1000] ^ 0x01);
    f.write(&c, 1);
    ++flipped;
  }
  ASSERT_GE(flipped, 1u) << "the object's bytes were not found on disk";
  auto fsck = Cairn({"fsck"});
  EXPECT_EQ(fsck.exit_code, 5) << fsck.out << fsck.err;
  auto cat = Cairn({"cat", id + ":config/blob.bin"});
  EXPECT_EQ(cat.exit_code, 5) << cat.err;
  EXPECT_NE(cat.out, blob) << "wrong bytes must never be handed out";
  // The rest of the snapshot is still readable.
  EXPECT_EQ(Cairn({"cat", id + ":prompts/system.md"}).exit_code, 0);
}

}  // namespace
}  // namespace cairn::testing
