#include "cairn/gc.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "cairn/attestation.h"
#include "cairn/fsck.h"
#include "cairn/object.h"
#include "cairn/receipts.h"
#include "snapshot/snapshot_records.h"
#include "store/object_codec.h"
#include "support/signing_support.h"

namespace cairn {
namespace {

constexpr int64_t kDay = int64_t{24} * 3600 * 1000000;

// The fixture's three snapshots v_[0..2] plus more, made and aged as each test needs.
class GcTest : public testing::SignedStoreTest {
 protected:
  // A new snapshot whose prompt says `text` (so its prompt object is its own).
  SnapshotId Make(const std::string& text) {
    box_.Write("rel/prompts/system.md", text + " {{customer_name}}\n");
    auto r = Create();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    v_.push_back(r->snapshot.id);
    return r->snapshot.id;
  }
  Digest PromptOf(const SnapshotId& id) {
    auto s = LoadSnapshot(*store_, id);
    EXPECT_TRUE(s.ok());
    return s->Find("prompts/system.md")->digest;
  }
  void PromoteTo(const std::string& deployment, const SnapshotId& id) {
    clock_.now += 1000000;
    MoveOptions m;
    m.actor = "rel@test";
    m.reason = "ship";
    auto e = Promote(*store_, *DeploymentName::Parse(deployment), id, m);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
  }
  GcReport Gc(GcOptions o = {}) {
    auto r = CollectGarbage(*store_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : GcReport{};
  }
  bool Has(const SnapshotId& id) {
    auto r = HasSnapshot(*store_, id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return !r.ok() || *r;
  }
  bool HasObj(const Digest& d) {
    auto r = HasObject(*store_, d);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return !r.ok() || *r;
  }
  std::set<SnapshotId> Deleted(const GcReport& r) {
    std::set<SnapshotId> out;
    for (const auto& s : r.deleted) out.insert(s.id);
    return out;
  }
  void ExpectFsckClean() {
    auto f = Fsck(*store_);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    for (const auto& p : f->problems) ADD_FAILURE() << p.what << ": " << p.message;
    EXPECT_EQ(f->unreferenced_objects, 0u);
  }
  // Rewrites snapshot `id`'s log entry with another arrival time (nullopt: none recorded).
  void SetArrival(const SnapshotId& id, std::optional<int64_t> arrived) {
    Cursor cur = db().NewCursor(Table::kSnapshotLog);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      auto e = DecodeSnapshotLogEntry(cur.key(), cur.value());
      ASSERT_TRUE(e.ok());
      if (e->id != id) continue;
      e->arrived_micros = arrived;
      Put(Table::kSnapshotLog, std::string(cur.key()), EncodeSnapshotLogValue(*e));
      return;
    }
    ADD_FAILURE() << "no log entry for " << id.Hex();
  }
  std::optional<int64_t> ArrivalOf(const SnapshotId& id) {
    auto list = ListSnapshots(*store_);
    EXPECT_TRUE(list.ok());
    for (const auto& s : *list)
      if (s.id == id) return s.arrived_micros;
    return std::nullopt;
  }
};

TEST_F(GcTest, KeepsEveryRootAndDeletesTheRest) {
  ASSERT_TRUE(Trust("release", release_, {"release"}).ok());
  PromoteTo("prod", v_[0]);
  PromoteTo("prod", v_[1]);              // v0 was live: kept as a rollback target
  ASSERT_TRUE(SignV(2, release_).ok());  // trusted signature
  SnapshotId outsider_signed = Make("signed by an outsider");
  ASSERT_TRUE(SignSnapshot(*store_, outsider_signed, outsider_, {"x@test"}).ok());
  SnapshotId abandoned = Make("abandoned");
  SnapshotId head = Make("newest");
  Digest abandoned_prompt = PromptOf(abandoned), outsider_prompt = PromptOf(outsider_signed);
  clock_.now += 15 * kDay;

  GcReport r = Gc();
  EXPECT_EQ(Deleted(r), (std::set<SnapshotId>{outsider_signed, abandoned}));
  EXPECT_EQ(r.kept, 4u);
  EXPECT_EQ(r.kept_by[static_cast<size_t>(GcKeepReason::kLive)], 2u);
  EXPECT_EQ(r.kept_by[static_cast<size_t>(GcKeepReason::kEvidence)], 1u);
  EXPECT_EQ(r.kept_by[static_cast<size_t>(GcKeepReason::kAppHead)], 1u);
  EXPECT_EQ(r.signatures, 1u);
  EXPECT_EQ(r.objects, 2u);  // the two prompts; everything else is shared with kept ones
  EXPECT_EQ(r.unreferenced_objects, 0u);
  for (const auto& id : {v_[0], v_[1], v_[2], head}) EXPECT_TRUE(Has(id));
  EXPECT_FALSE(Has(abandoned));
  EXPECT_FALSE(Has(outsider_signed));
  EXPECT_FALSE(HasObj(abandoned_prompt));
  EXPECT_FALSE(HasObj(outsider_prompt));
  EXPECT_TRUE(HasObj(PromptOf(head)));
  ExpectFsckClean();
  // Everything is decided again from scratch: a second run finds nothing.
  GcReport again = Gc();
  EXPECT_TRUE(again.deleted.empty());
  EXPECT_EQ(again.objects, 0u);
}

TEST_F(GcTest, ARevokedKeyNoLongerPinsWhatItSigned) {
  ASSERT_TRUE(Trust("release", release_, {"release"}).ok());
  ASSERT_TRUE(SignV(0, release_).ok());
  clock_.now += 15 * kDay;
  EXPECT_TRUE(Gc().deleted.size() == 1);  // v1; v0 signed, v2 the app's newest
  EXPECT_TRUE(Has(v_[0]));
  ASSERT_TRUE(Revoke("release").ok());
  GcReport r = Gc();
  EXPECT_EQ(Deleted(r), (std::set<SnapshotId>{v_[0]}));
  ExpectFsckClean();
}

TEST_F(GcTest, AnAttestationByATrustedKeyPinsItsSnapshotAndItsReport) {
  ASSERT_TRUE(Trust("ci", ci_, {"ci"}).ok());
  auto attest = [&](int i, const PrivateKey& key, const std::string& report) {
    clock_.now += 1000000;
    EvalStatement s;
    s.snapshot = v_[i];
    s.eval = "golden-v3";
    s.score = *Score::Parse("0.9", "score");
    s.n = 10;
    AttestOptions o;
    o.actor = "ci@test";
    o.report = report;
    auto a = Attest(*store_, std::move(s), key, o);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return *a->statement.report;
  };
  Digest trusted_report = attest(0, ci_, "trusted report");
  Digest outsider_report = attest(1, outsider_, "outsider report");
  clock_.now += 15 * kDay;
  GcReport r = Gc();
  EXPECT_EQ(Deleted(r), (std::set<SnapshotId>{v_[1]}));
  EXPECT_EQ(r.attestations, 1u);
  EXPECT_TRUE(HasObj(trusted_report));
  EXPECT_FALSE(HasObj(outsider_report));
  ExpectFsckClean();
}

TEST_F(GcTest, GraceCountsFromArrivalNotCreation) {
  clock_.now += 13 * kDay;
  EXPECT_TRUE(Gc().deleted.empty());  // v0 and v1 arrived 13 days ago: still in grace
  // v0 arrived just now (as a pull of an old snapshot would): its `created` does not matter.
  SetArrival(v_[0], clock_.now.load());
  clock_.now += 2 * kDay;
  GcReport r = Gc();
  EXPECT_EQ(Deleted(r), (std::set<SnapshotId>{v_[1]}));
  EXPECT_EQ(r.kept_by[static_cast<size_t>(GcKeepReason::kRecent)], 1u);
  GcOptions none;
  none.grace_micros = 0;
  EXPECT_EQ(Deleted(Gc(none)), (std::set<SnapshotId>{v_[0]}));
  ExpectFsckClean();
}

TEST_F(GcTest, AnEntryWithoutAnArrivalTimeGetsOneAndItsGraceStartsThen) {
  SetArrival(v_[0], std::nullopt);
  clock_.now += 30 * kDay;
  GcOptions dry;
  dry.dry_run = true;
  GcReport preview = Gc(dry);
  EXPECT_EQ(preview.arrival_recorded, 1u);
  EXPECT_EQ(Deleted(preview), (std::set<SnapshotId>{v_[1]}));
  EXPECT_FALSE(ArrivalOf(v_[0]).has_value());  // a dry run writes nothing
  GcReport r = Gc();
  EXPECT_EQ(Deleted(r), (std::set<SnapshotId>{v_[1]}));
  EXPECT_EQ(ArrivalOf(v_[0]), clock_.now.load());
  clock_.now += 15 * kDay;
  EXPECT_EQ(Deleted(Gc()), (std::set<SnapshotId>{v_[0]}));
}

TEST_F(GcTest, ADryRunReportsTheSameAndChangesNothing) {
  clock_.now += 15 * kDay;
  GcOptions dry;
  dry.dry_run = true;
  GcReport preview = Gc(dry);
  EXPECT_TRUE(preview.dry_run);
  EXPECT_EQ(preview.deleted.size(), 2u);
  EXPECT_TRUE(Has(v_[0]) && Has(v_[1]));
  EXPECT_EQ(preview.disk_bytes_after, preview.disk_bytes_before);
  GcReport r = Gc();
  EXPECT_EQ(Deleted(r), Deleted(preview));
  EXPECT_EQ(r.objects, preview.objects);
  EXPECT_EQ(r.object_bytes, preview.object_bytes);
  EXPECT_EQ(r.stat_cache_entries, preview.stat_cache_entries);
}

// The stat cache is host-local and droppable: gc drops every entry naming an object it
// deletes (a create would not trust it anyway: it checks that a cached object is present),
// and the next create of the unchanged tree stores the file again.
TEST_F(GcTest, StatCacheEntriesNamingDeletedObjectsAreDropped) {
  auto create_from = [&](const std::string& dir) {
    clock_.now += 1000000;
    CreateSnapshotOptions c;
    c.dir = box_ / dir;
    c.message = dir;
    std::vector<Problem> problems;
    auto r = CreateSnapshot(*store_, c, &problems);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r->snapshot.id;
  };
  box_.Write("rel/config/unique.bin", "only the abandoned snapshot has this");
  const Digest unique = Digest::Of("only the abandoned snapshot has this");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // past the racy window
  SnapshotId abandoned = create_from("rel");
  testing::WriteMinimalRelease(box_, "rel2");
  create_from("rel2");  // the app's newest
  clock_.now += 15 * kDay;
  GcReport r = Gc();
  ASSERT_TRUE(Deleted(r).contains(abandoned));
  EXPECT_GE(r.stat_cache_entries, 1u);
  EXPECT_FALSE(HasObj(unique));
  Cursor cache = db().NewCursor(Table::kStatCache);
  for (cache.SeekToFirst(); cache.Valid(); cache.Next()) {
    EXPECT_FALSE(cache.value().ends_with(unique.Raw())) << "a cache entry still names it";
  }
  create_from("rel");  // rel/ unchanged: without its cache entry the file is stored again
  EXPECT_TRUE(HasObj(unique));
  ExpectFsckClean();
}

TEST_F(GcTest, ObjectsLeftByAnInterruptedCreateAreDeletedChunksAndAll) {
  std::string big(3 * kChunkSize + 17, '\0');
  std::mt19937_64 rng(7);
  for (auto& c : big) c = static_cast<char>(rng());
  Batch b(db());
  auto orphan = AddBytesAsObject(b, big);
  ASSERT_TRUE(orphan.ok());
  auto small = AddBytesAsObject(b, "left behind");
  ASSERT_TRUE(small.ok());
  ASSERT_TRUE(db().Write(b, true).ok());
  GcReport r = Gc();  // nothing is old enough: only the orphans go
  EXPECT_TRUE(r.deleted.empty());
  EXPECT_EQ(r.objects, 2u + 4u);  // two objects, four chunks
  EXPECT_EQ(r.unreferenced_objects, 6u);
  EXPECT_FALSE(HasObj(*orphan));
  EXPECT_FALSE(HasObj(*small));
  ExpectFsckClean();
}

TEST_F(GcTest, TheSpaceOfDeletedObjectsIsGivenBack) {
  std::string big(24 << 20, '\0');
  std::mt19937_64 rng(11);
  for (auto& c : big) c = static_cast<char>(rng());  // incompressible
  box_.Write("rel/config/big.bin", big);
  SnapshotId with_big = Make("big");
  std::filesystem::remove(box_ / "rel/config/big.bin");
  Make("small again");
  clock_.now += 15 * kDay;
  GcReport r = Gc();
  EXPECT_TRUE(Deleted(r).contains(with_big));
  EXPECT_GE(r.object_bytes, uint64_t{24} << 20);
  ASSERT_GT(r.disk_bytes_before, r.disk_bytes_after);
  EXPECT_GE(r.disk_bytes_before - r.disk_bytes_after, uint64_t{20} << 20)
      << r.disk_bytes_before << " -> " << r.disk_bytes_after;
  ExpectFsckClean();
}

TEST_F(GcTest, ASnapshotAHostReportedWithinTheWindowIsKept) {
  Receipt receipt;
  receipt.host = "host-1";
  receipt.deployment = "prod";
  receipt.snapshot = v_[1];
  receipt.loaded_micros = clock_.now.load() + 14 * kDay + kDay / 2;
  receipt.received_micros = receipt.loaded_micros;
  ASSERT_TRUE(AppendReceipt(store_->path(), receipt).ok());
  clock_.now += 15 * kDay;
  GcReport r = Gc();
  EXPECT_EQ(Deleted(r), (std::set<SnapshotId>{v_[0]}));
  EXPECT_EQ(r.kept_by[static_cast<size_t>(GcKeepReason::kServed)], 1u);
  clock_.now += 2 * kDay;  // the receipt is older than the window now
  EXPECT_EQ(Deleted(Gc()), (std::set<SnapshotId>{v_[1]}));
}

TEST_F(GcTest, AKeptSnapshotWithAMissingObjectStopsGcBeforeItDeletesAnything) {
  clock_.now += 15 * kDay;
  Delete(Table::kObjectMeta, ObjectKey(PromptOf(v_[2])));
  auto r = CollectGarbage(*store_, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_NE(r.status().message().find("fsck"), std::string::npos) << r.status().message();
  EXPECT_TRUE(Has(v_[0]) && Has(v_[1]));
}

TEST_F(GcTest, AReadOnlyStoreTakesOnlyADryRun) {
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  auto ro = Store::Open(box_ / "store", StoreOpenOptions{});
  ASSERT_TRUE(ro.ok());
  EXPECT_EQ(CollectGarbage(**ro, {}).status().code(), Code::kUsage);
  GcOptions dry;
  dry.dry_run = true;
  EXPECT_TRUE(CollectGarbage(**ro, dry).ok());
}

}  // namespace
}  // namespace cairn
