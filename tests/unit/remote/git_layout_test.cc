// The git side of team mode: deployment names in ref names, snapshot commits built from a
// store and read back (and refused when their trees are not what cairn writes), and chains
// read from their tip to a verified commit.
#include "remote/git_layout.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cairn/ingest.h"
#include "cairn/snapshot.h"
#include "support/git_test.h"

namespace cairn {
namespace {

TEST(GitLayoutTest, DeploymentNamesRoundTripThroughRefNamesWithOneSpelling) {
  for (const std::string name : {"prod", "support-bot/beta", "a.b_c-d/e.f/g/h", "x.lock"}) {
    std::string ref = DeploymentRef(name);
    EXPECT_TRUE(ref.starts_with("refs/cairn/deployments/")) << ref;
    EXPECT_EQ(ref.find('/', std::string("refs/cairn/deployments/").size()), std::string::npos)
        << ref;  // one path segment: no ref is both a file and a directory
    EXPECT_EQ(DeploymentOfRef(ref).value_or("?"), name);
  }
  EXPECT_EQ(DeploymentRef("support-bot/beta"), "refs/cairn/deployments/support-bot%2Fbeta");
  for (const std::string bad : {"refs/cairn/deployments/prod%", "refs/cairn/deployments/a%2f",
                                "refs/cairn/deployments/%70rod", "refs/cairn/deployments/",
                                "refs/cairn/trust", "refs/cairn/deployments/a%2"}) {
    EXPECT_FALSE(DeploymentOfRef(bad).has_value()) << bad;
  }
}

class SnapshotCommitTest : public testing::GitTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Store::Init(box_ / "s").ok());
    StoreOpenOptions o;
    o.read_only = false;
    auto store = Store::Open(box_ / "s", o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    CreateSnapshotOptions c;
    c.dir = testing::WriteMinimalRelease(box_, "rel");
    c.message = "v1";
    std::vector<Problem> problems;
    auto created = CreateSnapshot(*store_, c, &problems);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    id_ = created->snapshot.id;
    auto repo = GitRepository::OpenOrInitBare(box_ / "git");
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    repo_ = std::move(*repo);
  }
  std::unique_ptr<Store> store_;
  std::unique_ptr<GitRepository> repo_;
  SnapshotId id_;
};

TEST_F(SnapshotCommitTest, ASnapshotCommitIsDeterministicAndReadsBackToItsManifest) {
  GitWriter writer(*store_, *repo_);
  auto commit = writer.SnapshotCommit(id_);
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  ASSERT_TRUE(repo_->DeleteRef(SnapshotRef(id_)).ok());  // built again, not taken from cache
  auto again = writer.SnapshotCommit(id_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*commit, *again);
  auto read = ReadSnapshotCommit(*repo_, *commit, id_);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(Digest::Of(read->manifest), id_.digest());
  EXPECT_EQ(read->blob_of.size(), read->snapshot.components.size());
  // Under another id it is refused.
  SnapshotId other(Digest::Of("other"));
  auto wrong = ReadSnapshotCommit(*repo_, *commit, other);
  EXPECT_EQ(wrong.status().code(), Code::kCorruption);
}

TEST_F(SnapshotCommitTest, ATreeWithAnythingTheManifestDoesNotListIsRefused) {
  GitWriter writer(*store_, *repo_);
  auto commit = writer.SnapshotCommit(id_);
  ASSERT_TRUE(commit.ok());
  auto info = repo_->ReadCommit(*commit);
  ASSERT_TRUE(info.ok());
  GitCommit c{info->id, info->tree, "", false};
  auto entries = repo_->ListTree(c, "");
  ASSERT_TRUE(entries.ok());
  auto blob = repo_->WriteBlob("planted");
  ASSERT_TRUE(blob.ok());
  for (const auto& [path, mode] : std::vector<std::pair<std::string, uint32_t>>{
           {"extra.txt", 0100644}, {"prompts/run.sh", 0100755}, {"link", 0120000}}) {
    std::vector<GitTreeWrite> writes;
    for (const auto& e : *entries) {
      if (e.type == GitEntryType::kFile) writes.push_back({e.path, e.oid, e.mode});
    }
    writes.push_back({path, *blob, mode});
    auto tree = repo_->WriteTree(writes);
    ASSERT_TRUE(tree.ok()) << tree.status().ToString();
    auto bad = repo_->WriteCommit(*tree, {}, "x", "x", 0, "hostile");
    ASSERT_TRUE(bad.ok());
    auto read = ReadSnapshotCommit(*repo_, *bad, id_);
    EXPECT_EQ(read.status().code(), Code::kCorruption) << path;
  }
}

TEST_F(SnapshotCommitTest, AChainIsReadOldestFirstAndARewriteIsRefused) {
  GitWriter writer(*store_, *repo_);
  std::optional<std::string> parent;
  std::vector<std::string> commits;
  for (int i = 1; i <= 3; ++i) {
    auto c = writer.ChainCommit("{\"seq\":" + std::to_string(i) + "}", parent, std::nullopt,
                                "actor", 0, "event");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    commits.push_back(*c);
    parent = *c;
  }
  auto all = ReadChain(*repo_, commits[2], "", "event.json", false, false, "test chain");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].bytes, "{\"seq\":1}");
  auto since = ReadChain(*repo_, commits[2], commits[0], "event.json", false, false, "t");
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->size(), 2u);
  auto head = ReadChain(*repo_, commits[2], "", "event.json", false, false, "t", /*limit=*/1);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size(), 1u);
  EXPECT_EQ(head->front().bytes, "{\"seq\":3}");
  // A second #2 on #1: it does not lead back to the verified #2.
  auto fork = writer.ChainCommit("{\"seq\":2,\"x\":1}", commits[0], std::nullopt, "a", 0, "e");
  ASSERT_TRUE(fork.ok());
  auto rewritten = ReadChain(*repo_, *fork, commits[1], "event.json", false, false, "t");
  EXPECT_EQ(rewritten.status().code(), Code::kCorruption);
  EXPECT_NE(rewritten.status().message().find("rewritten"), std::string::npos);
}

}  // namespace
}  // namespace cairn
