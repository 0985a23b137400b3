#include "cairn/ingest.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cairn/clock.h"
#include "cairn/object.h"
#include "cairn/snapshot.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

using testing::Sandbox;
using testing::WriteMinimalRelease;

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Init(box_ / "store");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  Result<CreateSnapshotResult> Create(const std::string& dir, const std::string& msg = "m") {
    CreateSnapshotOptions o;
    o.dir = dir;
    o.message = msg;
    o.author = "tester@test";
    problems_.clear();
    return CreateSnapshot(*store_, o, &problems_);
  }

  // Number of keys in every column family: "nothing was written" means this is unchanged.
  size_t KeyCount() {
    size_t n = 0;
    for (int cf = 0; cf < static_cast<int>(Table::kCount); ++cf) {
      Cursor c = StoreInternal::db(*store_).NewCursor(static_cast<Table>(cf));
      for (c.SeekToFirst(); c.Valid(); c.Next()) ++n;
    }
    return n;
  }

  Sandbox box_;
  std::unique_ptr<Store> store_;
  std::vector<Problem> problems_;
};

TEST_F(IngestTest, SnapshotIdIsTheHashOfTheCanonicalManifest) {
  auto r = Create(WriteMinimalRelease(box_, "rel"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Snapshot& s = r->snapshot;
  auto bytes = CanonicalJson(ManifestJson(s));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(Digest::Of(*bytes), s.id.digest());
  auto loaded = LoadSnapshot(*store_, s.id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->components.size(), 7u);
  EXPECT_EQ(loaded->app, "demo");
  EXPECT_EQ(loaded->author, "tester@test");
  EXPECT_FALSE(loaded->parent.has_value());
}

// The fast scan a move uses finds the top-level "created", not a label or a component field
// of that name, nor one inside a string with escaped quotes and backslashes.
TEST_F(IngestTest, CreatedTimeIsReadFromTheTopLevelOfTheManifestOnly) {
  std::string rel = WriteMinimalRelease(box_, "rel");
  box_.Write("rel/snapshot.json", R"({"app": "demo", "labels": {"created": "1900-01-01T00:00:00Z",)"
                                  R"( "note": "a \"created\":\"1901-01-01T00:00:00Z\" \\"}})");
  box_.Write("rel/config/created.json", R"({"created": "1902-01-01T00:00:00Z"})");
  CreateSnapshotOptions o;
  o.dir = rel;
  o.message = "message with \"created\":\"1903-01-01T00:00:00Z\" in it";
  o.author = "x\\\",\"created\":\"1904-01-01T00:00:00Z\\";  // sorts before "created"
  auto r = CreateSnapshot(*store_, o, &problems_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto created = SnapshotCreatedMicros(*store_, r->snapshot.id);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(*created, r->snapshot.created_micros);
  EXPECT_GT(*created, *ParseTime("2020-01-01T00:00:00Z"));
  EXPECT_TRUE(SnapshotCreatedMicros(*store_, SnapshotId(Digest::Of("none"))).status().IsNotFound());
}

TEST_F(IngestTest, ManifestCarriesKindSpecificFacts) {
  auto r = Create(WriteMinimalRelease(box_, "rel"));
  ASSERT_TRUE(r.ok());
  const Snapshot& s = r->snapshot;
  EXPECT_EQ(s.Find("prompts/system.md")->facts["variables"],
            Json::parse(R"(["customer_name","order_id"])"));
  const Json& model = s.Find("models/primary.json")->facts;
  EXPECT_EQ(model["provider"], "openai");
  EXPECT_EQ(model["pinned"], true);
  EXPECT_EQ(s.Find("tools/lookup.json")->facts["name"], "lookup_order");
  const Json& kb = s.Find("knowledge/refunds.json")->facts;
  EXPECT_EQ(kb["documents"], 1);
  EXPECT_EQ(s.Find("knowledge/refunds/policy.md")->kind, ComponentKind::kKnowledge);
  EXPECT_EQ(s.Find("knowledge/refunds/policy.md")->facts["knowledge_base"], "refunds");
  // snapshot.json is kept too (kind config), so a checkout reproduces the release exactly.
  ASSERT_NE(s.Find("snapshot.json"), nullptr);
  EXPECT_EQ(s.Find("snapshot.json")->kind, ComponentKind::kConfig);
}

TEST_F(IngestTest, IdenticalContentIsRecognisedAndObjectsAreStoredOnce) {
  std::string dir = WriteMinimalRelease(box_, "rel");
  auto first = Create(dir, "one");
  ASSERT_TRUE(first.ok());
  auto second = Create(dir, "two");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->snapshot.id, second->snapshot.id) << "message and time differ";
  EXPECT_EQ(first->snapshot.content, second->snapshot.content);
  EXPECT_EQ(second->objects_written, 0u);
  ASSERT_EQ(second->same_content.size(), 1u);
  EXPECT_EQ(second->same_content[0], first->snapshot.id);
  ASSERT_TRUE(second->snapshot.parent.has_value());
  EXPECT_EQ(*second->snapshot.parent, first->snapshot.id);
}

TEST_F(IngestTest, InvalidReleaseWritesNothingAndReportsEveryProblem) {
  std::string dir = WriteMinimalRelease(box_, "rel");
  ASSERT_TRUE(Create(dir).ok());
  size_t before = KeyCount();
  box_.Write("rel/prompts/new.md", "{{unterminated\n");
  box_.Write("rel/models/floating.json", R"({"provider": "openai", "model": "gpt-4o"})");
  box_.Write("rel/notes.txt", "hello");
  box_.Write("rel/config/big.bin", std::string(3 << 20, 'z'));  // would be a new object
  auto r = Create(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidInput);
  std::set<std::string> rules;
  for (const auto& p : problems_) rules.insert(p.rule);
  EXPECT_EQ(rules, (std::set<std::string>{"template", "floating-model", "unknown-entry"}));
  EXPECT_EQ(KeyCount(), before);
}

TEST_F(IngestTest, MessageAndAppAreRequired) {
  std::string dir = WriteMinimalRelease(box_, "rel");
  EXPECT_EQ(Create(dir, "").status().code(), Code::kUsage);
  box_.Write("rel/snapshot.json", "{}");
  auto r = Create(dir);
  EXPECT_EQ(r.status().code(), Code::kUsage);
  EXPECT_NE(r.status().message().find("--app"), std::string::npos);
}

TEST_F(IngestTest, MissingDirectoryIsNotFound) {
  EXPECT_TRUE(Create(box_ / "nope").status().IsNotFound());
}

TEST_F(IngestTest, StatCacheSkipsOldUnchangedFilesButNotEditedOrFreshOnes) {
  std::string dir = WriteMinimalRelease(box_, "rel");
  box_.Write("rel/config/a.txt", "alpha");
  box_.Write("rel/config/b.txt", "bravo");
  // Files younger than the racy window are hashed every time.
  auto fresh = Create(dir);
  ASSERT_TRUE(fresh.ok());
  auto again = Create(dir);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->files_hashed, again->files);

  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  ASSERT_TRUE(Create(dir).ok());  // records the now-stable files
  auto cached = Create(dir);
  ASSERT_TRUE(cached.ok());
  // Opaque files (documents and non-JSON config) come from the cache; JSON and prompts are
  // always read because their facts come from their content.
  EXPECT_EQ(cached->files_hashed, cached->files - 3);

  // Same size, mtime put back: ctime still moves, so the edit is seen.
  struct stat st {};
  ASSERT_EQ(::stat((box_ / "rel/config/a.txt").c_str(), &st), 0);
  box_.Write("rel/config/a.txt", "ALPHA");
  timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, (box_ / "rel/config/a.txt").c_str(), times, 0), 0);
  auto edited = Create(dir);
  ASSERT_TRUE(edited.ok());
  EXPECT_EQ(edited->files_hashed, cached->files_hashed + 1);
  EXPECT_EQ(edited->snapshot.Find("config/a.txt")->digest, Digest::Of("ALPHA"));
}

// Opaque files are read once, in the pass that stores them: a file rewritten in place while
// snapshots are taken is refused (kConflict) or recorded with bytes it really held, and the
// stat cache never keeps a fingerprint for bytes the file no longer holds.
TEST_F(IngestTest, FileRewrittenDuringTheSnapshotIsRefusedOrRecordedWhole) {
  std::string dir = WriteMinimalRelease(box_, "rel");
  const size_t size = 3 * kChunkSize + 12345;  // several chunks: reads take a while
  const std::string a(size, 'a');
  const std::string b(size, 'b');
  std::string path = box_ / "rel/config/big.bin";
  box_.Write("rel/config/big.bin", a);
  std::atomic<bool> stop{false};
  std::atomic<int> rewrites{0};
  std::thread writer([&] {
    for (int k = 0; !stop; ++k) {
      int fd = ::open(path.c_str(), O_WRONLY);
      if (fd < 0) return;
      const std::string& bytes = k % 2 == 0 ? b : a;
      for (size_t off = 0; off < bytes.size(); off += 65536) {
        size_t n = std::min<size_t>(65536, bytes.size() - off);
        if (::pwrite(fd, bytes.data() + off, n, static_cast<off_t>(off)) < 0) break;
      }
      ::close(fd);
      ++rewrites;
    }
  });
  int refused = 0, taken = 0;
  for (int round = 0; round < 20; ++round) {
    auto r = Create(dir);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kConflict) << r.status().ToString();
      ++refused;
      continue;
    }
    ++taken;
    Digest d = r->snapshot.Find("config/big.bin")->digest;
    EXPECT_TRUE(d == Digest::Of(a) || d == Digest::Of(b)) << "a torn read was recorded";
    auto stored = ReadObject(*store_, d, size);
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    EXPECT_EQ(Digest::Of(*stored), d);
  }
  stop = true;
  writer.join();
  EXPECT_GT(rewrites.load(), 1);
  EXPECT_EQ(refused + taken, 20);

  // What the file holds now is what the next snapshots record, the cached one included.
  std::string final_bytes = box_.Read("rel/config/big.bin");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  for (int k = 0; k < 2; ++k) {
    auto r = Create(dir);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->snapshot.Find("config/big.bin")->digest, Digest::Of(final_bytes));
  }
}

TEST_F(IngestTest, ReadOnlyStoreCannotCreate) {
  std::string dir = WriteMinimalRelease(box_, "rel");
  store_.reset();
  StoreOpenOptions o;
  o.read_only = true;
  auto ro = Store::Open(box_ / "store", o);
  ASSERT_TRUE(ro.ok());
  CreateSnapshotOptions c;
  c.dir = dir;
  c.message = "m";
  std::vector<Problem> problems;
  auto r = CreateSnapshot(**ro, c, &problems);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUsage) << r.status().ToString();
  EXPECT_NE(r.status().message().find("read-only"), std::string::npos);
  // And a write reaching the database directly says the same.
  Batch b(StoreInternal::db(**ro));
  b.Put(Table::kMeta, "x", "y");
  EXPECT_EQ(StoreInternal::db(**ro).Write(b, true).code(), Code::kUsage);
}

}  // namespace
}  // namespace cairn
