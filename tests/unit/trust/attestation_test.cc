// Eval attestations: recording, judging against trust, and the forgeries a gate must not
// accept (copied to another snapshot, altered, forged, untrusted or revoked signers).
#include "cairn/attestation.h"

#include <gtest/gtest.h>

#include "cairn/fsck.h"
#include "cairn/object.h"
#include "support/signing_support.h"

namespace cairn {
namespace {

using testing::FixtureKey;

class AttestationTest : public testing::SignedStoreTest {
 protected:
  Result<Attestation> AttestV(int i, const PrivateKey& key, const std::string& score,
                              std::optional<Digest> dataset = std::nullopt,
                              std::optional<std::string> report = std::nullopt) {
    clock_.now += 1000000;
    EvalStatement s;
    s.snapshot = v_[i];
    s.eval = "golden-v3";
    s.score = *Score::Parse(score, "score");
    s.n = 1200;
    s.dataset = dataset;
    s.judge = "gpt-4o-2024-08-06 with prompts/judge.md";
    AttestOptions o;
    o.actor = "ci@test";
    o.report = std::move(report);
    return Attest(*store_, std::move(s), key, o);
  }
  std::vector<AttestationCheck> Atts(int i) {
    auto trust = TrustState::Load(*store_);
    EXPECT_TRUE(trust.ok());
    auto checks = CheckAttestations(*store_, v_[i], *trust);
    EXPECT_TRUE(checks.ok()) << checks.status().ToString();
    return checks.ok() ? *checks : std::vector<AttestationCheck>{};
  }
  // Rewrites one attestation record directly in the database.
  void Plant(const SnapshotId& under, const Digest& id, const std::string& value) {
    Db& db = StoreInternal::db(*store_);
    Batch b(db);
    b.Put(Table::kAttestations, std::string(under.digest().Raw()) + std::string(id.Raw()), value);
    ASSERT_TRUE(db.Write(b, true).ok());
  }
  std::string Record(const SnapshotId& under, const Digest& id) {
    auto v = StoreInternal::db(*store_).Get(
        Table::kAttestations, std::string(under.digest().Raw()) + std::string(id.Raw()));
    EXPECT_TRUE(v.ok() && v->has_value());
    return v.ok() && v->has_value() ? **v : "";
  }
  Digest golden_ = Digest::Of("golden set v3");
};

TEST_F(AttestationTest, RecordsASignedEvalBoundToSnapshotDatasetAndJudge) {
  ASSERT_TRUE(Trust("ci", FixtureKey("ci"), {"ci"}).ok());
  auto a = AttestV(0, FixtureKey("ci"), "0.87", golden_, std::string("{\"cases\": []}"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto checks = Atts(0);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, SignatureStatus::kValid) << checks[0].detail;
  const EvalStatement& s = checks[0].attestation.statement;
  EXPECT_EQ(s.snapshot, v_[0]);
  EXPECT_EQ(s.score.ToString(), "0.87");
  EXPECT_EQ(*s.dataset, golden_);
  EXPECT_EQ(*s.n, 1200u);
  EXPECT_EQ(s.actor, "ci@test");
  ASSERT_TRUE(s.report.has_value());
  EXPECT_EQ(*ReadObject(*store_, *s.report), "{\"cases\": []}");
  EXPECT_EQ(checks[0].roles, std::vector<std::string>{"ci"});
  EXPECT_TRUE(Atts(1).empty());  // nothing about another snapshot
}

TEST_F(AttestationTest, UntrustedKeyIsUnknownAndDoesNotCount) {
  ASSERT_TRUE(AttestV(0, FixtureKey("outsider"), "0.99").ok());
  auto checks = Atts(0);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, SignatureStatus::kUnknownKey);
  EXPECT_EQ(NewestValidEval(checks, "golden-v3"), nullptr);
}

TEST_F(AttestationTest, RevokedKeyMayNotAttestAndItsOldAttestationsStopCounting) {
  ASSERT_TRUE(Trust("ci", FixtureKey("ci"), {"ci"}).ok());
  ASSERT_TRUE(AttestV(0, FixtureKey("ci"), "0.87").ok());
  ASSERT_TRUE(Revoke("ci").ok());
  auto again = AttestV(1, FixtureKey("ci"), "0.9");
  EXPECT_EQ(again.status().code(), Code::kConflict);
  auto checks = Atts(0);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, SignatureStatus::kRevoked);
  EXPECT_EQ(NewestValidEval(checks, "golden-v3"), nullptr);
}

TEST_F(AttestationTest, AttestationCopiedToAnotherSnapshotIsBad) {
  ASSERT_TRUE(Trust("ci", FixtureKey("ci"), {"ci"}).ok());
  auto a = AttestV(0, FixtureKey("ci"), "0.95");
  ASSERT_TRUE(a.ok());
  Plant(v_[1], a->id, Record(v_[0], a->id));
  auto checks = Atts(1);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, SignatureStatus::kBad);
  EXPECT_NE(checks[0].detail.find("copied"), std::string::npos) << checks[0].detail;
  EXPECT_EQ(NewestValidEval(checks, "golden-v3"), nullptr);
}

TEST_F(AttestationTest, AlteredScoreOrForgedSignatureIsBad) {
  ASSERT_TRUE(Trust("ci", FixtureKey("ci"), {"ci"}).ok());
  auto a = AttestV(0, FixtureKey("ci"), "0.79");
  ASSERT_TRUE(a.ok());
  std::string record = Record(v_[0], a->id);
  std::string altered = record;
  altered.replace(altered.find("\"0.79\""), 6, "\"0.97\"");
  Plant(v_[0], a->id, altered);
  auto checks = Atts(0);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, SignatureStatus::kBad);
  EXPECT_NE(checks[0].detail.find("altered"), std::string::npos) << checks[0].detail;

  // The statement intact, the signature's first byte changed.
  std::string forged = record;
  size_t sig = forged.find("\"sig\":\"") + 7;
  forged[sig] = forged[sig] == '0' ? '1' : '0';
  Plant(v_[0], a->id, forged);
  checks = Atts(0);
  EXPECT_EQ(checks[0].status, SignatureStatus::kBad);
  EXPECT_NE(checks[0].detail.find("does not verify"), std::string::npos) << checks[0].detail;
}

TEST_F(AttestationTest, NewestValidEvalPicksTheLatestOnTheSameDataset) {
  ASSERT_TRUE(Trust("ci", FixtureKey("ci"), {"ci"}).ok());
  Digest other = Digest::Of("golden set v2");
  ASSERT_TRUE(AttestV(0, FixtureKey("ci"), "0.80", golden_).ok());
  ASSERT_TRUE(AttestV(0, FixtureKey("ci"), "0.85", golden_).ok());
  ASSERT_TRUE(AttestV(0, FixtureKey("ci"), "0.99", other).ok());
  auto checks = Atts(0);
  const AttestationCheck* newest = NewestValidEval(checks, "golden-v3");
  ASSERT_NE(newest, nullptr);
  EXPECT_EQ(newest->attestation.statement.score.ToString(), "0.99");
  const AttestationCheck* on_golden = NewestValidEval(checks, "golden-v3", golden_, true);
  ASSERT_NE(on_golden, nullptr);
  EXPECT_EQ(on_golden->attestation.statement.score.ToString(), "0.85");
  EXPECT_EQ(NewestValidEval(checks, "other-eval"), nullptr);
}

TEST_F(AttestationTest, LargeReportIsStoredInChunksAndReadBack) {
  ASSERT_TRUE(Trust("ci", FixtureKey("ci"), {"ci"}).ok());
  std::string report(3 * kChunkSize + 17, '\0');
  for (size_t i = 0; i < report.size(); ++i) report[i] = static_cast<char>((i * 7919) >> 3);
  auto a = AttestV(0, FixtureKey("ci"), "0.5", golden_, report);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto info = StatObject(*store_, *a->statement.report);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->encoding, ObjectEncoding::kChunked);
  EXPECT_EQ(*ReadObject(*store_, *a->statement.report), report);
}

TEST_F(AttestationTest, BadEvalNameAndMissingSnapshotAreRefused) {
  EvalStatement s;
  s.snapshot = v_[0];
  s.eval = "Golden V3";
  s.score = *Score::Parse("0.5", "x");
  EXPECT_EQ(Attest(*store_, s, FixtureKey("ci"), {}).status().code(), Code::kUsage);
  s.eval = "golden";
  s.snapshot = SnapshotId(Digest::Of("no such snapshot"));
  EXPECT_EQ(Attest(*store_, s, FixtureKey("ci"), {}).status().code(), Code::kNotFound);
}

TEST_F(AttestationTest, DatasetIsADigestOrAFileHashed) {
  box_.Write("golden.jsonl", "{\"q\": \"refund?\"}\n");
  auto d = DatasetDigest(box_ / "golden.jsonl");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Digest::Of("{\"q\": \"refund?\"}\n"));
  auto parsed = DatasetDigest(d->ToString());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, *d);
  EXPECT_EQ(DatasetDigest(box_ / "missing.jsonl").status().code(), Code::kNotFound);
  EXPECT_EQ(DatasetDigest("sha256:zz").status().code(), Code::kUsage);
}

TEST_F(AttestationTest, FsckKeepsReportsReferencedAndReportsWhatIsMissing) {
  ASSERT_TRUE(Trust("ci", FixtureKey("ci"), {"ci"}).ok());
  auto a = AttestV(0, FixtureKey("ci"), "0.87", golden_, std::string("report bytes"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(SignV(0, FixtureKey("ci")).ok());
  auto clean = Fsck(*store_);
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->ok());
  EXPECT_EQ(clean->unreferenced_objects, 0u);  // the report is referenced: gc keeps it
  // The report object gone, and an attestation filed under a snapshot that does not exist.
  Db& db = StoreInternal::db(*store_);
  Batch b(db);
  b.Delete(Table::kObjects, a->statement.report->Raw());
  b.Delete(Table::kObjectMeta, a->statement.report->Raw());
  ASSERT_TRUE(db.Write(b, true).ok());
  Plant(SnapshotId(Digest::Of("gone")), a->id, Record(v_[0], a->id));
  auto broken = Fsck(*store_);
  ASSERT_TRUE(broken.ok());
  std::string all;
  for (const auto& p : broken->problems) all += p.what + ": " + p.message + "\n";
  EXPECT_NE(all.find("its report " + a->statement.report->ToString() + " is missing"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("stored under a snapshot the store does not hold"), std::string::npos) << all;
}

}  // namespace
}  // namespace cairn
