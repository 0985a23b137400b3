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

#include "support/git_test.h"

namespace cairn {
namespace {

using testing::RunProgram;
using testing::RunResult;

class GitRepositoryTest : public testing::GitTest {
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
  std::unique_ptr<GitRepository> Open(const std::string& path) {
    auto repo = GitRepository::Open(path);
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    return repo.ok() ? std::move(*repo) : nullptr;
  }

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
  EXPECT_EQ(by_path["prompts/link"].size, 0u);  // only files' headers are read
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
  ASSERT_TRUE(deep.ok()) << deep.status().ToString();
  bool saw_b = false;
  for (const auto& e : *deep) {
    EXPECT_NE(e.path, "config/a/b/deep.txt") << "a pruned tree's entries are not listed";
    if (e.path == "config/a/b") {
      saw_b = true;
      EXPECT_TRUE(e.pruned);
      EXPECT_EQ(e.depth, 2u);
      EXPECT_EQ(e.name, "b");
    } else {
      EXPECT_FALSE(e.pruned) << e.path;
    }
  }
  EXPECT_TRUE(saw_b);
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

// Reads a blob through OpenBlob in pieces of `piece` bytes.
std::string ReadInPieces(GitBlobReader& reader, size_t piece) {
  std::string out, buf(piece, '\0');
  for (;;) {
    auto n = reader.Read(buf.data(), buf.size());
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == 0) return out;
    out.append(buf.data(), *n);
  }
}

TEST_F(GitRepositoryTest, ALooseBlobIsStreamedAndAPackedOneReadWholeWithTheSameBytes) {
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "line " + std::to_string(i) + "\n";
  box_.Write("repo/config/big.txt", big);
  Git({"-C", repo_, "add", "-A"});
  Git({"-C", repo_, "commit", "-q", "-m", "big"});
  std::string oid = Out({"-C", repo_, "rev-parse", "HEAD:config/big.txt"});
  {
    auto repo = Open(repo_);
    ASSERT_NE(repo, nullptr);
    auto loose = repo->OpenBlob(oid, big.size());
    ASSERT_TRUE(loose.ok()) << loose.status().ToString();
    EXPECT_TRUE((*loose)->streamed());
    EXPECT_EQ((*loose)->size(), big.size());
    EXPECT_EQ(ReadInPieces(**loose, 4096), big);
    EXPECT_EQ(repo->OpenBlob(oid, big.size() - 1).status().code(), Code::kInvalidInput);
  }
  Git({"-C", repo_, "gc", "-q"});
  auto repo = Open(repo_);
  ASSERT_NE(repo, nullptr);
  auto packed = repo->OpenBlob(oid, big.size());
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  EXPECT_FALSE((*packed)->streamed());
  EXPECT_EQ(ReadInPieces(**packed, 1000), big);
}

// A loose object file holding another blob's bytes (a damaged or tampered object database):
// the bytes are read but the last read fails, naming the blob, before they can be used.
TEST_F(GitRepositoryTest, ABlobWhoseBytesAreNotItsIdIsCorruption) {
  std::string a = Out({"-C", repo_, "hash-object", "-w", "--stdin"}, "the real bytes\n");
  std::string b = Out({"-C", repo_, "hash-object", "-w", "--stdin"}, "other bytes!!\n");
  auto loose = [&](const std::string& oid) {
    return repo_ + "/.git/objects/" + oid.substr(0, 2) + "/" + oid.substr(2);
  };
  ::chmod(loose(a).c_str(), 0644);
  box_.Write("repo/.git/objects/" + a.substr(0, 2) + "/" + a.substr(2),
             box_.Read("repo/.git/objects/" + b.substr(0, 2) + "/" + b.substr(2)));
  auto repo = Open(repo_);
  ASSERT_NE(repo, nullptr);
  auto read = repo->ReadBlob(a, 1024);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Code::kCorruption) << read.status().ToString();
  EXPECT_NE(read.status().message().find("blob " + a + " holds bytes that hash to " + b),
            std::string::npos)
      << read.status().ToString();
  EXPECT_TRUE(repo->ReadBlob(b, 1024).ok());
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
