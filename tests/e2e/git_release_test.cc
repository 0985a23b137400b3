// End-to-end: `cairn snapshot create --git` and `cairn validate --git` on real repositories
// made by the test with the git command — commits, annotated tags, branches, a bare clone, a
// subdir, a symlink, a submodule — and hostile trees written object by object with `git
// mktree` and `git hash-object --literally`.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/git_test.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;

class GitReleaseTest : public GitTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(Cairn({"init"}).exit_code, 0);
    box_.CopyFixture("releases/v1", "repo");
    Git({"init", "-q", "-b", "main", repo_});
    Git({"-C", repo_, "add", "-A"});
    Git({"-C", repo_, "commit", "-q", "-m", "v1"});
    Git({"-C", repo_, "tag", "-a", "v1", "-m", "release v1"});
    v1_ = Out({"-C", repo_, "rev-parse", "HEAD"});
  }
  RunResult Cairn(std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", box_ / "store"});
    return RunCairn(args);
  }
  Json CreateJson(std::vector<std::string> args) {
    args.insert(args.begin(), {"snapshot", "create"});
    args.insert(args.end(), {"-m", "test", "--json"});
    auto r = Cairn(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? Json::parse(r.out) : Json();
  }
  size_t SnapshotCount() {
    auto r = Cairn({"snapshot", "list", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json::parse(r.out).size();
  }
  // A blob with `data`, written to the repository's object database.
  std::string Blob(const std::string& data) {
    return Out({"-C", repo_, "hash-object", "-w", "--stdin"}, data);
  }
  // A tree from `git mktree` lines ("MODE TYPE OID\tNAME").
  std::string MkTree(const std::vector<std::string>& lines) {
    std::string in;
    for (const auto& l : lines) in += l + "\n";
    return Out({"-C", repo_, "mktree"}, in);
  }
  // A tree written byte by byte (entries git mktree refuses, such as a name with a '/').
  std::string RawTree(const std::vector<std::pair<std::string, std::string>>& mode_name_oid,
                      const std::vector<std::string>& oids) {
    std::string raw;
    for (size_t i = 0; i < mode_name_oid.size(); ++i) {
      raw += mode_name_oid[i].first + " " + mode_name_oid[i].second + '\0';
      for (size_t k = 0; k < 40; k += 2) {
        raw += static_cast<char>(std::stoi(oids[i].substr(k, 2), nullptr, 16));
      }
    }
    return Out({"-C", repo_, "hash-object", "-t", "tree", "--literally", "-w", "--stdin"}, raw);
  }
  // A commit of `tree` on top of v1, on branch `branch`.
  std::string Commit(const std::string& tree, const std::string& branch) {
    std::string c = Out({"-C", repo_, "commit-tree", tree, "-p", v1_, "-m", "hostile"});
    Git({"-C", repo_, "update-ref", "refs/heads/" + branch, c});
    return c;
  }
  // v1's root tree with the tree `entry` ("MODE TYPE OID\tNAME") added or replacing one.
  std::string V1TreeWith(const std::string& line) {
    std::string name = line.substr(line.find('\t') + 1);
    std::vector<std::string> lines;
    std::string ls = Out({"-C", repo_, "ls-tree", v1_});
    size_t start = 0;
    while (start < ls.size()) {
      size_t nl = ls.find('\n', start);
      std::string l = ls.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if (l.substr(l.find('\t') + 1) != name) lines.push_back(l);
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    lines.push_back(line);
    return MkTree(lines);
  }
  // The rules of the problems `validate --git` reports for `rev`, as "path: rule".
  std::vector<std::string> Problems(const std::string& rev, const std::string& subdir = "") {
    std::vector<std::string> args = {"validate", "--git", repo_, "--rev", rev, "--json"};
    if (!subdir.empty()) args.insert(args.end(), {"--subdir", subdir});
    auto r = Cairn(args);
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    std::vector<std::string> out;
    if (r.out.empty()) return out;
    Json j = Json::parse(r.out);
    for (const auto& p : j["problems"]) {
      out.push_back(p["path"].get<std::string>() + ": " + p["rule"].get<std::string>());
    }
    return out;
  }
  static bool Has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

  std::string repo_ = box_ / "repo";
  std::string v1_;
};

TEST_F(GitReleaseTest, ACommitIsSnapshottedWithItsProvenanceAndTheContentOfItsTree) {
  // Edits and untracked files in the working tree are not the commit: they are not read.
  box_.Write("repo/prompts/system.md", "an uncommitted edit\n");
  box_.Write("repo/prompts/draft.md", "untracked\n");
  Json git = CreateJson({"--git", repo_, "--rev", "v1"});
  ASSERT_TRUE(git.is_object());
  EXPECT_EQ(git["source"]["type"], "git");
  EXPECT_EQ(git["source"]["repo"], repo_);
  EXPECT_EQ(git["source"]["path"], repo_ + "/.git");
  EXPECT_EQ(git["source"]["commit"], v1_);
  EXPECT_EQ(git["source"]["ref"], "refs/tags/v1");
  EXPECT_EQ(git["source"]["subdir"], "");
  EXPECT_EQ(git["source"]["signed"], false);

  // The same tree from a directory has the same content digest.
  Json dir = CreateJson({box_.CopyFixture("releases/v1", "v1dir")});
  EXPECT_EQ(dir["content"], git["content"]);
  EXPECT_EQ(dir["same_content_as"], Json::array({git["id"]}));

  // The same commit again, by id, from a bare clone (its objects are packed): same content.
  Git({"clone", "-q", "--bare", repo_, box_ / "bare.git"});
  Json bare = CreateJson({"--git", box_ / "bare.git", "--rev", v1_});
  EXPECT_EQ(bare["content"], git["content"]);
  EXPECT_EQ(bare["source"]["ref"], nullptr) << "a commit id goes through no ref";
  EXPECT_EQ(bare["source"]["path"], box_ / "bare.git");

  auto human = Cairn({"snapshot", "create", "--git", repo_, "--rev", "main", "-m", "again"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("from git " + repo_ + " commit " + v1_ + " (refs/heads/main)"),
            std::string::npos)
      << human.out;
  auto show = Cairn({"snapshot", "show", git["id"]});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("source:   git " + repo_ + " commit " + v1_ + " (refs/tags/v1)"),
            std::string::npos)
      << show.out;
}

TEST_F(GitReleaseTest, DiffOfTwoGitSnapshotsNamesBothCommits) {
  Json a = CreateJson({"--git", repo_, "--rev", "v1"});
  box_.Write("repo/prompts/system.md", "You are concise.\n");
  Git({"-C", repo_, "commit", "-q", "-am", "v2"});
  std::string v2 = Out({"-C", repo_, "rev-parse", "HEAD"});
  Json b = CreateJson({"--git", repo_, "--rev", "main"});
  auto diff = Cairn({"diff", a["id"], b["id"], "--stat"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_NE(diff.out.find("commits " + v1_ + ".." + v2 + " in " + repo_), std::string::npos)
      << diff.out;
  EXPECT_NE(diff.out.find("M prompt    prompts/system.md"), std::string::npos) << diff.out;
  auto json = Cairn({"diff", a["id"], b["id"], "--json"});
  EXPECT_EQ(Json::parse(json.out)["to_source"]["commit"], v2);
}

TEST_F(GitReleaseTest, ASubdirIsTheReleaseRootAndProblemsAreNamedByTheirPathInTheTree) {
  // The release moves to releases/bot/ in a monorepo, with one broken tool.
  ::mkdir((repo_ + "/releases").c_str(), 0755);
  ::mkdir((repo_ + "/releases/bot").c_str(), 0755);
  for (const char* part : {"prompts", "models", "tools", "knowledge", "config", "snapshot.json"}) {
    Git({"-C", repo_, "mv", part, std::string("releases/bot/") + part});
  }
  box_.Write("repo/README.md", "not part of the release\n");
  box_.Write("repo/releases/bot/tools/broken.json", "{\"name\": \"broken\"");
  Git({"-C", repo_, "add", "-A"});
  Git({"-C", repo_, "commit", "-q", "-m", "monorepo"});

  auto problems = Problems("main", "releases/bot");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].substr(0, problems[0].find(':')), "releases/bot/tools/broken.json");
  auto r = Cairn({"snapshot", "create", "--git", repo_, "--rev", "main", "--subdir", "releases/bot",
                  "-m", "x"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("releases/bot/tools/broken.json:"), std::string::npos) << r.err;
  EXPECT_EQ(SnapshotCount(), 0u) << "a refused release changes nothing";

  Git({"-C", repo_, "rm", "-q", "releases/bot/tools/broken.json"});
  Git({"-C", repo_, "commit", "-q", "-m", "fix"});
  Json ok = CreateJson({"--git", repo_, "--rev", "main", "--subdir", "./releases//bot/"});
  EXPECT_EQ(ok["source"]["subdir"], "releases/bot");
  EXPECT_EQ(ok["components"], 20);
  Json dir = CreateJson({box_.CopyFixture("releases/v1", "v1dir")});
  EXPECT_EQ(dir["content"], ok["content"]);

  EXPECT_EQ(Cairn({"validate", "--git", repo_, "--rev", "main", "--subdir", "nope"}).exit_code, 3);
  EXPECT_EQ(
      Cairn({"validate", "--git", repo_, "--rev", "main", "--subdir", "releases/../x"}).exit_code,
      2);
  EXPECT_EQ(Cairn({"validate", "--git", repo_, "--rev", "main", "--subdir", "README.md"}).exit_code,
            4);
}

TEST_F(GitReleaseTest, SymlinksAndSubmodulesAreRefusedWithTheirRules) {
  ASSERT_EQ(::symlink("system.md", (repo_ + "/prompts/alias.md").c_str()), 0);
  Git({"init", "-q", "-b", "main", box_ / "other"});
  box_.Write("other/a.json", "{}");
  Git({"-C", box_ / "other", "add", "-A"});
  Git({"-C", box_ / "other", "commit", "-q", "-m", "other"});
  Git({"-C", repo_, "-c", "protocol.file.allow=always", "submodule", "add", "-q", box_ / "other",
       "config/vendor"});
  Git({"-C", repo_, "add", "-A"});
  Git({"-C", repo_, "commit", "-q", "-m", "links"});
  auto problems = Problems("main");
  EXPECT_TRUE(Has(problems, "prompts/alias.md: symlink")) << ::testing::PrintToString(problems);
  EXPECT_TRUE(Has(problems, "config/vendor: submodule")) << ::testing::PrintToString(problems);
  EXPECT_TRUE(Has(problems, ".gitmodules: unknown-entry")) << ::testing::PrintToString(problems);
  EXPECT_EQ(Cairn({"snapshot", "create", "--git", repo_, "--rev", "main", "-m", "x"}).exit_code, 4);
  EXPECT_EQ(SnapshotCount(), 0u);
}

TEST_F(GitReleaseTest, HostileNamesAndModesInAHandMadeTreeAreRefused) {
  std::string b = Blob("hello\n");
  std::string prompts = MkTree({
      "100644 blob " + b + "\t..",
      "100644 blob " + b + "\t.GIT",
      "100644 blob " + b + "\ta\\b.md",
      "100644 blob " + b + "\tbell\x07.md",
      "100664 blob " + b + "\tmode.md",
      "100644 blob " + b + "\tSystem.md",
      "100644 blob " + b + "\tsystem.md",
      "100644 blob " + b + "\tcaf\xc3\xa9.md",   // NFC
      "100644 blob " + b + "\tcafe\xcc\x81.md",  // NFD: the same name on macOS
      "100644 blob " + b + "\tok.md",
  });
  Commit(V1TreeWith("040000 tree " + prompts + "\tprompts"), "hostile");
  auto problems = Problems("hostile");
  for (const char* want :
       {"prompts/..: bad-name", "prompts/.GIT: bad-name", "prompts/a\\b.md: bad-name",
        "prompts/bell\x07.md: bad-name", "prompts/mode.md: bad-mode",
        "prompts/system.md: name-collision", "prompts/caf\xc3\xa9.md: name-collision"}) {
    EXPECT_TRUE(Has(problems, want)) << want << " in " << ::testing::PrintToString(problems);
  }
  EXPECT_FALSE(Has(problems, "prompts/ok.md: bad-name"));

  // Names git mktree itself refuses: a '/' inside a name, a ".." tree.
  std::string evil = RawTree({{"100644", "x/y.md"}}, {b});
  std::string up = MkTree({"100644 blob " + b + "\tpasswd"});
  std::string top = RawTree({{"40000", ".."}, {"40000", "prompts"}}, {up, evil});
  Commit(top, "evil");
  auto raw = Problems("evil");
  EXPECT_TRUE(Has(raw, "..: bad-name")) << ::testing::PrintToString(raw);
  EXPECT_TRUE(Has(raw, "prompts/x/y.md: bad-name")) << ::testing::PrintToString(raw);
  EXPECT_FALSE(Has(raw, "../passwd: unknown-entry")) << "a refused tree is not entered";

  // A tree libgit2 cannot parse (an entry without a name) is named, not read past.
  Commit(V1TreeWith("040000 tree " + RawTree({{"100644", ""}}, {b}) + "\tprompts"), "unnamed");
  auto unnamed = Cairn({"validate", "--git", repo_, "--rev", "unnamed"});
  EXPECT_EQ(unnamed.exit_code, 4) << unnamed.err;
  EXPECT_NE(unnamed.err.find("the tree at prompts/ ("), std::string::npos) << unnamed.err;

  auto r = Cairn({"snapshot", "create", "--git", repo_, "--rev", "hostile", "-m", "x"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err.find('\x07'), std::string::npos) << "control characters are escaped";
  EXPECT_EQ(SnapshotCount(), 0u);
}

// A tree nested deeper than 32 is refused where it passes the limit, and nothing below it
// is listed (a hand-made tree can nest deeper than any stack).
TEST_F(GitReleaseTest, TreesNestedTooDeepAreRefused) {
  std::string tree = MkTree({"100644 blob " + Blob("deep\n") + "\tdeep.md"});
  for (int i = 0; i < 40; ++i) tree = MkTree({"040000 tree " + tree + "\td"});
  Commit(V1TreeWith("040000 tree " + tree + "\tconfig"), "deep");
  auto problems = Problems("deep");
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  std::string path = "config";
  for (int i = 0; i < 32; ++i) path += "/d";
  EXPECT_EQ(problems[0], path + ": too-deep");
}

TEST_F(GitReleaseTest, FilesOverTheLimitsAreRefusedFromTheirHeadersUnread) {
  // 16 MiB + 1 of JSON config, and a 512 MiB + 1 opaque file (loose, compressed to little).
  RunOptions o;
  o.env = GitEnv(box_);
  o.cwd = repo_;
  auto make = RunProgram(
      {"/bin/sh", "-c",
       "set -e; big=$(head -c 16777217 /dev/zero | git hash-object -w --stdin); "
       "huge=$(head -c 536870913 /dev/zero | git hash-object -w --stdin); "
       "cfg=$(git ls-tree v1 config | cut -f1 | cut -d' ' -f3); "
       "tree=$( (git ls-tree $cfg; printf '100644 blob %s\\tbig.json\\n100644 blob "
       "%s\\thuge.bin\\n' $big $huge) | git mktree); "
       "root=$( (git ls-tree v1 | grep -v '\tconfig$'; printf '040000 tree %s\\tconfig\\n' "
       "$tree) | git mktree); "
       "git update-ref refs/heads/big $(git commit-tree $root -p v1^{commit} -m big)"},
      o);
  ASSERT_EQ(make.exit_code, 0) << make.err;
  auto r = Cairn({"validate", "--git", repo_, "--rev", "big", "--json"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  Json j = Json::parse(r.out);
  ASSERT_EQ(j["problems"].size(), 2u) << r.out;
  EXPECT_EQ(j["problems"][0]["path"], "config/big.json");
  EXPECT_EQ(j["problems"][0]["rule"], "too-large");
  EXPECT_EQ(j["problems"][1]["path"], "config/huge.bin");
  EXPECT_EQ(j["problems"][1]["rule"], "too-large");
  EXPECT_NE(j["problems"][1]["message"].get<std::string>().find("512 MiB"), std::string::npos);
  if (!kSanitized) {  // ASan: see kSanitized
    EXPECT_LT(r.max_rss_kb, 200 * 1024) << "nothing was read";
  }
}

TEST_F(GitReleaseTest, LargeFilesAreStoredFromLooseAndPackedObjectsAlike) {
  // 9 MiB of random bytes (nine chunks and a piece), and a file of exactly one chunk.
  RunOptions o;
  o.cwd = repo_;
  ASSERT_EQ(RunProgram({"/bin/sh", "-c",
                        "head -c 9437185 /dev/urandom > config/blob.bin && "
                        "head -c 1048576 /dev/urandom > config/chunk.bin"},
                       o)
                .exit_code,
            0);
  Git({"-C", repo_, "add", "-A"});
  Git({"-C", repo_, "commit", "-q", "-m", "big"});
  std::string want = FileDigest(repo_ + "/config/blob.bin");
  std::string want_chunk = FileDigest(repo_ + "/config/chunk.bin");
  Json loose = CreateJson({"--git", repo_, "--rev", "main"});
  Git({"-C", repo_, "gc", "-q"});  // every object packed: read whole by libgit2
  std::string store2 = box_ / "store2";
  ASSERT_EQ(RunCairn({"--store", store2, "init"}).exit_code, 0);
  auto packed = RunCairn({"--store", store2, "snapshot", "create", "--git", repo_, "--rev", "main",
                          "-m", "p", "--json"});
  ASSERT_EQ(packed.exit_code, 0) << packed.err;
  EXPECT_EQ(Json::parse(packed.out)["content"], loose["content"]);
  for (const std::string& store : {box_ / "store", store2}) {
    std::string id = store == store2 ? Json::parse(packed.out)["id"].get<std::string>()
                                     : loose["id"].get<std::string>();
    for (const auto& [path, digest] : std::vector<std::pair<std::string, std::string>>{
             {"config/blob.bin", want}, {"config/chunk.bin", want_chunk}}) {
      auto cat = RunCairn({"--store", store, "cat", id + ":" + path});
      ASSERT_EQ(cat.exit_code, 0) << cat.err;
      box_.Write("out.bin", cat.out);
      EXPECT_EQ(FileDigest(box_ / "out.bin"), digest) << store << " " << path;
    }
    auto fsck = RunCairn({"--store", store, "fsck"});
    EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
  }
}

// Documents are hashed as they are stored (each blob is inflated once), so a document that
// does not match its manifest is found after its objects were written: they are removed
// again, and the store is as it was.
TEST_F(GitReleaseTest, DocumentsThatDoNotMatchTheirManifestLeaveNothingInTheStore) {
  auto objects = [&] {
    auto r = Cairn({"fsck", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    Json j = Json::parse(r.out);
    return std::make_pair(j["objects"].get<int>(), j["unreferenced_objects"].get<int>());
  };
  auto rules = [&](const RunResult& r) {
    std::vector<std::string> out;
    Json j = Json::parse(r.out);
    for (const auto& p : j["problems"]) {
      out.push_back(p["path"].get<std::string>() + ": " + p["rule"].get<std::string>());
    }
    return out;
  };
  box_.Write("repo/knowledge/refunds/eligibility.md", "edited without updating the manifest\n");
  Git({"-C", repo_, "commit", "-q", "-am", "small"});
  // Small: the objects travel in the snapshot's own batch, never written.
  auto small = Cairn({"snapshot", "create", "--git", repo_, "--rev", "main", "-m", "x", "--json"});
  EXPECT_EQ(small.exit_code, 4) << small.err;
  EXPECT_EQ(rules(small),
            std::vector<std::string>{"knowledge/refunds/eligibility.md: digest-mismatch"});
  EXPECT_EQ(objects(), std::make_pair(0, 0));

  // Large (above the inline batch): written, then deleted.
  RunOptions o;
  o.cwd = repo_;
  ASSERT_EQ(
      RunProgram({"/bin/sh", "-c", "head -c 12000000 /dev/urandom > knowledge/refunds/big.bin"}, o)
          .exit_code,
      0);
  Git({"-C", repo_, "add", "-A"});
  Git({"-C", repo_, "commit", "-q", "-m", "large"});
  auto large = Cairn({"snapshot", "create", "--git", repo_, "--rev", "main", "-m", "x", "--json"});
  EXPECT_EQ(large.exit_code, 4) << large.err;
  EXPECT_EQ(rules(large),
            (std::vector<std::string>{"knowledge/refunds/big.bin: unlisted-document",
                                      "knowledge/refunds/eligibility.md: digest-mismatch"}));
  EXPECT_EQ(objects(), std::make_pair(0, 0));

  // With a problem found before anything is stored, the documents are still checked: every
  // problem at once.
  box_.Write("repo/tools/broken.json", "{");
  Git({"-C", repo_, "add", "-A"});
  Git({"-C", repo_, "commit", "-q", "-m", "broken tool"});
  auto all = Cairn({"snapshot", "create", "--git", repo_, "--rev", "main", "-m", "x", "--json"});
  EXPECT_EQ(all.exit_code, 4) << all.err;
  auto all_rules = rules(all);
  ASSERT_EQ(all_rules.size(), 3u) << ::testing::PrintToString(all_rules);
  EXPECT_EQ(all_rules[0], "knowledge/refunds/big.bin: unlisted-document");
  EXPECT_EQ(all_rules[1], "knowledge/refunds/eligibility.md: digest-mismatch");
  EXPECT_EQ(all_rules[2].substr(0, all_rules[2].find(':')), "tools/broken.json");
  EXPECT_EQ(objects(), std::make_pair(0, 0));
  EXPECT_EQ(SnapshotCount(), 0u);

  // The valid v1 still goes in whole.
  Json v1 = CreateJson({"--git", repo_, "--rev", "v1"});
  EXPECT_EQ(v1["components"], 20);
  EXPECT_EQ(objects().second, 0);
}

// A second snapshot reads only the documents whose blobs it has not read before; a blob
// whose object left the store (or a store without the entry) is read again.
TEST_F(GitReleaseTest, ASecondSnapshotReadsOnlyTheDocumentsItHasNotSeen) {
  Json first = CreateJson({"--git", repo_, "--rev", "v1"});
  EXPECT_EQ(first["files_hashed"], 20);
  // The same tree again: the 7 documents are known by their blob ids; the 13 text and JSON
  // files are read for their facts.
  Json again = CreateJson({"--git", repo_, "--rev", "v1"});
  EXPECT_EQ(again["files_hashed"], 13);
  EXPECT_EQ(again["content"], first["content"]);
  // A changed document (and its manifest) is read; the other 6 are not.
  std::string doc = "Refunds are issued within 5 days.\n";
  box_.Write("repo/knowledge/refunds/eligibility.md", doc);
  Json manifest = Json::parse(box_.Read("repo/knowledge/refunds.json"));
  for (auto& d : manifest["documents"]) {
    if (d["path"] == "eligibility.md") {
      d["digest"] = FileDigest(repo_ + "/knowledge/refunds/eligibility.md");
      d["size"] = doc.size();
    }
  }
  box_.Write("repo/knowledge/refunds.json", manifest.dump(2));
  Git({"-C", repo_, "commit", "-q", "-am", "v1.1"});
  Json changed = CreateJson({"--git", repo_, "--rev", "main"});
  EXPECT_EQ(changed["files_hashed"], 14);
  EXPECT_EQ(changed["objects_written"], 2);
  auto cat = Cairn({"cat", changed["id"].get<std::string>() + ":knowledge/refunds/eligibility.md"});
  EXPECT_EQ(cat.out, doc);
  // --no-stat-cache reads every file.
  Json all = CreateJson({"--git", repo_, "--rev", "main", "--no-stat-cache"});
  EXPECT_EQ(all["files_hashed"], 20);
  EXPECT_EQ(all["content"], changed["content"]);
}

TEST_F(GitReleaseTest, ASignedCommitIsMarkedSignedButNotVerified) {
  std::string tree = Out({"-C", repo_, "rev-parse", "v1^{tree}"});
  std::string raw = "tree " + tree + "\nparent " + v1_ +
                    "\nauthor t <t@example.com> 1700000000 +0000\n"
                    "committer t <t@example.com> 1700000000 +0000\n"
                    "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n "
                    "-----END PGP SIGNATURE-----\n\nsigned\n";
  std::string c =
      Out({"-C", repo_, "hash-object", "-t", "commit", "-w", "--stdin", "--literally"}, raw);
  Json s = CreateJson({"--git", repo_, "--rev", c});
  EXPECT_EQ(s["source"]["signed"], true);
  auto show = Cairn({"snapshot", "show", s["id"]});
  EXPECT_NE(show.out.find("signed (signature not verified)"), std::string::npos) << show.out;
}

TEST_F(GitReleaseTest, BadRepositoriesAndRevisionsAreClearErrors) {
  auto not_repo =
      Cairn({"snapshot", "create", "--git", box_ / "store", "--rev", "main", "-m", "x"});
  EXPECT_EQ(not_repo.exit_code, 3);
  EXPECT_NE(not_repo.err.find("is not a git repository"), std::string::npos) << not_repo.err;
  auto no_rev = Cairn({"snapshot", "create", "--git", repo_, "--rev", "nope", "-m", "x"});
  EXPECT_EQ(no_rev.exit_code, 3);
  EXPECT_NE(no_rev.err.find("no revision \"nope\""), std::string::npos) << no_rev.err;
  std::string tree = Out({"-C", repo_, "rev-parse", "v1^{tree}"});
  auto tree_rev = Cairn({"snapshot", "create", "--git", repo_, "--rev", tree, "-m", "x"});
  EXPECT_EQ(tree_rev.exit_code, 2) << tree_rev.err;
  EXPECT_EQ(Cairn({"snapshot", "create", "--git", repo_, "-m", "x"}).exit_code, 2);
  EXPECT_EQ(
      Cairn({"snapshot", "create", repo_, "--git", repo_, "--rev", "v1", "-m", "x"}).exit_code, 2);
  EXPECT_EQ(Cairn({"snapshot", "create", "--rev", "v1", "-m", "x"}).exit_code, 2);
  EXPECT_EQ(SnapshotCount(), 0u);
}

}  // namespace
}  // namespace cairn::testing
