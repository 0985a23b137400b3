// Reading commits and trees through libgit2 from real repositories made by the test with
// the git command: branches, annotated tags, ids, a bare clone, symlinks, a submodule entry,
// a signed commit, nesting and size limits.
#include "port/git_repository.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/sandbox.h"

namespace cairn {
namespace {

using testing::RunProgram;
using testing::RunResult;
using testing::Sandbox;

class GitRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Git({"init", "-q", "-b", "main", repo_});
    box_.Write("repo/prompts/system.md", "You are helpful.\n");
    box_.Write("repo/config/a/b/deep.txt", "deep\n");
    box_.Write("repo/run.sh", "#!/bin/sh\n");
    ::chmod((repo_ + "/run.sh").c_str(), 0755);
    Git({"-C", repo_, "add", "-A"});
    Git({"-C", repo_, "commit", "-q", "-m", "v1"});
    Git({"-C", repo_, "tag", "-a", "v1", "-m", "release v1"});
    first_ = Out({"-C", repo_, "rev-parse", "HEAD"});
  }
  RunResult Git(std::vector<std::string> args, const std::string& stdin_data = "") {
    args.insert(args.begin(), "/usr/bin/git");
    testing::RunOptions o;
    o.env = {{"GIT_AUTHOR_NAME", "t"},
             {"GIT_AUTHOR_EMAIL", "t@example.com"},
             {"GIT_COMMITTER_NAME", "t"},
             {"GIT_COMMITTER_EMAIL", "t@example.com"},
             {"GIT_CONFIG_NOSYSTEM", "1"},
             {"HOME", box_ / "home"},
             {"GIT_AUTHOR_DATE", "1700000000 +0000"},
             {"GIT_COMMITTER_DATE", "1700000000 +0000"}};
    o.stdin_data = stdin_data;
    auto r = RunProgram(args, o);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }
  std::string Out(std::vector<std::string> args, const std::string& stdin_data = "") {
    std::string out = Git(std::move(args), stdin_data).out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  std::unique_ptr<GitRepository> Open(const std::string& path) {
    auto repo = GitRepository::Open(path);
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    return repo.ok() ? std::move(*repo) : nullptr;
  }

  Sandbox box_;
  std::string repo_ = box_ / "repo";
  std::string first_;
};

TEST_F(GitRepositoryTest, BranchesTagsAndIdsResolveToOneCommitWithTheirRefNames) {
  auto repo = Open(repo_);
  ASSERT_NE(repo, nullptr);
  EXPECT_EQ(repo->git_dir(), repo_ + "/.git");
  for (const std::string& rev :
       std::vector<std::string>{"main", "HEAD", "v1", first_, first_.substr(0, 10)}) {
    auto c = repo->ResolveCommit(rev);
    ASSERT_TRUE(c.ok()) << rev << ": " << c.status().ToString();
    EXPECT_EQ(c->id, first_) << rev;
    EXPECT_EQ(c->tree, Out({"-C", repo_, "rev-parse", "HEAD^{tree}"}));
    EXPECT_FALSE(c->has_signature);
  }
  EXPECT_EQ(repo->ResolveCommit("main")->ref, "refs/heads/main");
  EXPECT_EQ(repo->ResolveCommit("v1")->ref, "refs/tags/v1") << "an annotated tag is peeled";
  EXPECT_EQ(repo->ResolveCommit(first_)->ref, "");
  EXPECT_EQ(repo->ResolveCommit("no-such-branch").status().code(), Code::kNotFound);
  std::string tree = Out({"-C", repo_, "rev-parse", "HEAD^{tree}"});
  EXPECT_EQ(repo->ResolveCommit(tree).status().code(), Code::kUsage) << "a tree is no commit";
  EXPECT_EQ(repo->ResolveCommit("").status().code(), Code::kUsage);

  // A bare clone, its git directory given directly.
  Git({"clone", "-q", "--bare", repo_, box_ / "bare.git"});
  auto bare = Open(box_ / "bare.git");
  ASSERT_NE(bare, nullptr);
  EXPECT_EQ(bare->ResolveCommit("v1")->id, first_);
  // Parent directories are not searched: a directory inside the repository is not one.
  EXPECT_EQ(GitRepository::Open(repo_ + "/prompts").status().code(), Code::kNotFound);
  EXPECT_EQ(GitRepository::Open(box_ / "nowhere").status().code(), Code::kNotFound);
}

TEST_F(GitRepositoryTest, ATreeListsEveryEntryWithItsModeAndSizeParentsFirst) {
  // A symlink and a submodule (gitlink) entry, as the index holds them.
  std::string link_blob = Out({"-C", repo_, "hash-object", "-w", "--stdin"}, "../etc/passwd");
  Git({"-C", repo_, "update-index", "--add", "--cacheinfo",
       "120000," + link_blob + ",prompts/link"});
  Git({"-C", repo_, "update-index", "--add", "--cacheinfo", "160000," + first_ + ",vendor/sub"});
  Git({"-C", repo_, "commit", "-q", "-m", "v2"});
  auto repo = Open(repo_);
  ASSERT_NE(repo, nullptr);
  auto c = repo->ResolveCommit("HEAD");
  ASSERT_TRUE(c.ok());
  auto entries = repo->ListTree(*c, "");
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  std::map<std::string, GitTreeEntry> by_path;
  std::vector<std::string> order;
  for (const auto& e : *entries) {
    by_path[e.path] = e;
    order.push_back(e.path);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"config", "prompts", "run.sh", "vendor", "config/a",
                                             "config/a/b", "config/a/b/deep.txt", "prompts/link",
                                             "prompts/system.md", "vendor/sub"}));
  EXPECT_EQ(by_path["config"].type, GitEntryType::kTree);
  EXPECT_EQ(by_path["run.sh"].type, GitEntryType::kExecutable);
  EXPECT_EQ(by_path["prompts/system.md"].type, GitEntryType::kFile);
  EXPECT_EQ(by_path["prompts/system.md"].mode, 0100644u);
  EXPECT_EQ(by_path["prompts/system.md"].size, 17u);
  EXPECT_EQ(by_path["prompts/link"].type, GitEntryType::kSymlink);
  EXPECT_EQ(by_path["prompts/link"].size, 13u);
  EXPECT_EQ(by_path["vendor/sub"].type, GitEntryType::kGitlink);
  EXPECT_EQ(by_path["vendor/sub"].oid, first_);

  auto sub = repo->ListTree(*c, "config/a");
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_EQ(sub->size(), 2u);
  EXPECT_EQ((*sub)[0].path, "b");
  EXPECT_EQ((*sub)[1].path, "b/deep.txt");
  EXPECT_EQ(repo->ListTree(*c, "nope").status().code(), Code::kNotFound);
  auto file = repo->ListTree(*c, "run.sh");
  EXPECT_EQ(file.status().code(), Code::kInvalidInput);
  EXPECT_NE(file.status().message().find("executable file, not a tree"), std::string::npos)
      << file.status().message();

  GitTreeLimits shallow;
  shallow.max_depth = 2;
  auto deep = repo->ListTree(*c, "", shallow);
  EXPECT_EQ(deep.status().code(), Code::kInvalidInput);
  EXPECT_NE(deep.status().message().find("config/a/b: trees nest deeper than 2"), std::string::npos)
      << deep.status().message();
  GitTreeLimits few;
  few.max_entries = 3;
  EXPECT_EQ(repo->ListTree(*c, "", few).status().code(), Code::kInvalidInput);
}

TEST_F(GitRepositoryTest, ABlobIsReadWholeAndRefusedAboveTheLimitFromItsHeader) {
  auto repo = Open(repo_);
  ASSERT_NE(repo, nullptr);
  std::string oid = Out({"-C", repo_, "rev-parse", "HEAD:prompts/system.md"});
  auto bytes = repo->ReadBlob(oid, 1024);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, "You are helpful.\n");
  auto big = repo->ReadBlob(oid, 16);
  EXPECT_EQ(big.status().code(), Code::kInvalidInput);
  EXPECT_NE(big.status().message().find("17 bytes, above the limit of 16"), std::string::npos);
  std::string tree = Out({"-C", repo_, "rev-parse", "HEAD^{tree}"});
  EXPECT_EQ(repo->ReadBlob(tree, 1024).status().code(), Code::kInvalidInput);
}

TEST_F(GitRepositoryTest, ACommitWithASignatureHeaderIsMarkedSignedNotVerified) {
  std::string tree = Out({"-C", repo_, "rev-parse", "HEAD^{tree}"});
  std::string raw = "tree " + tree +
                    "\nauthor t <t@example.com> 1700000000 +0000\n"
                    "committer t <t@example.com> 1700000000 +0000\n"
                    "gpgsig -----BEGIN PGP SIGNATURE-----\n"
                    " not a real signature\n"
                    " -----END PGP SIGNATURE-----\n\nsigned\n";
  std::string id =
      Out({"-C", repo_, "hash-object", "-t", "commit", "-w", "--stdin", "--literally"}, raw);
  auto repo = Open(repo_);
  ASSERT_NE(repo, nullptr);
  auto c = repo->ResolveCommit(id);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->has_signature);
  EXPECT_FALSE(repo->ResolveCommit(first_)->has_signature);
}

}  // namespace
}  // namespace cairn
