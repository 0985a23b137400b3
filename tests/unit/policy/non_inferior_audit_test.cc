// The non-inferior rule through the gates on a real store, and `audit verify` recomputing
// its stored numbers: intact, they are reproduced field for field; a case file whose stored
// bytes were edited is caught.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cairn/attestation.h"
#include "cairn/audit.h"
#include "cairn/gates.h"
#include "cairn/policy.h"
#include "port/zstd_codec.h"
#include "store/object_codec.h"
#include "support/signing_support.h"

namespace cairn {
namespace {

// n cases; the candidate scores `shift` billionths above the live one on every other case.
std::string CaseFile(int n, int64_t base, int64_t shift) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    int64_t v = base + (i % 3) * 50000000 + (i % 2 == 0 ? shift : 0);
    out += fmt::format("{{\"case\":\"c{:03}\",\"scores\":[\"{}\"]}}\n", i,
                       Score::FromBillionths(v).ToString());
  }
  return out;
}

class NonInferiorAuditTest : public testing::SignedStoreTest {
 protected:
  Result<Attestation> AttestCases(int i, const std::string& cases) {
    clock_.now += 1000000;
    EvalStatement s;
    s.snapshot = v_[i];
    s.eval = "golden-v4";
    s.dataset = Digest::Of("dataset");
    s.judge_digest = *JudgeDigest("judge-model", "prompt");
    AttestOptions o;
    o.actor = "ci@test";
    o.cases = cases;
    return Attest(*store_, std::move(s), ci_, o);
  }
  Result<Event> PromoteV(int i) {
    clock_.now += 1000000;
    MoveOptions m;
    m.actor = "alice@test";
    m.reason = "ship";
    GateOptions g;
    g.run_hooks = false;
    GateReport report;
    return PromoteThroughGates(*store_, "prod", v_[i], m, g, &report);
  }
};

TEST_F(NonInferiorAuditTest, AuditRecomputesTheVerdictAndCatchesAnEditedCaseFile) {
  ASSERT_TRUE(Trust("ci", ci_, {"ci"}).ok());
  ASSERT_TRUE(AttestCases(0, CaseFile(40, 700000000, 0)).ok());
  auto mine = AttestCases(1, CaseFile(40, 700000000, 10000000));
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_EQ(*mine->statement.n, 40u);
  Policy p;
  p.deployment = "prod";
  p.non_inferior["golden-v4"] = NonInferiorRule{*Score::Parse("0.02", "m"), 50000000, 10};
  clock_.now += 1000000;
  ASSERT_TRUE(SetPolicy(*store_, p, "lead@test", "gate").ok());
  ASSERT_TRUE(PromoteV(0).ok());
  auto moved = PromoteV(1);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  ASSERT_EQ(moved->checks.size(), 1u);
  EXPECT_EQ(moved->checks[0].stats.at("verdict"), "pass");
  EXPECT_EQ(moved->checks[0].stats.at("mean"), "0.005000000");  // +0.01 on half the cases
  EXPECT_EQ(moved->checks[0].stats.at("candidate"), mine->id.ToString());

  auto audit = AuditVerify(*store_);
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  EXPECT_TRUE(audit->ok()) << audit->problems.front().message;
  EXPECT_EQ(audit->verdicts_recomputed, 1u);

  // Edit the candidate's stored case file: one case scores 0 now (same key, other bytes).
  std::string edited = CaseFile(40, 700000000, 10000000);
  auto set = ParseEvalCases(edited, "edited");
  ASSERT_TRUE(set.ok());
  set->cases[0].scores[0] = Score::FromBillionths(0);
  std::string bytes = *set->Canonical();
  Compressor compressor(3);
  std::string record;
  ASSERT_TRUE(EncodeInlineObject(bytes, compressor, &record).ok());
  Batch b(db());
  ASSERT_TRUE(AddObjectToBatch(b, *mine->statement.cases, record, bytes.size()).ok());
  ASSERT_TRUE(db().Write(b, true).ok());

  audit = AuditVerify(*store_);
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  ASSERT_FALSE(audit->ok());
  bool found = false;
  for (const auto& problem : audit->problems) {
    found = found || problem.message.find("check non-inferior golden-v4: not reproduced") !=
                         std::string::npos;
  }
  EXPECT_TRUE(found) << audit->problems.front().message;
}

}  // namespace
}  // namespace cairn
