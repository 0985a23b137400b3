// Promotion through the gates: policy checks block or pass at their boundaries, a blocked
// promotion leaves nothing behind, overrides are refused or recorded, and rollback enforces
// only the signature rules.
#include "cairn/gates.h"

#include <gtest/gtest.h>

#include "cairn/attestation.h"
#include "cairn/audit.h"
#include "support/signing_support.h"

namespace cairn {
namespace {

using testing::FixtureKey;

class GatesTest : public testing::SignedStoreTest {
 protected:
  void SetPolicyOf(Policy p) {
    p.deployment = "prod";
    clock_.now += 1000000;
    auto e = SetPolicy(*store_, p, "lead@test", "CX-1: gate prod");
    ASSERT_TRUE(e.ok()) << e.status().ToString();
  }
  void AttestV(int i, const std::string& score) {
    clock_.now += 1000000;
    EvalStatement s;
    s.snapshot = v_[i];
    s.eval = "golden-v3";
    s.score = *Score::Parse(score, "score");
    s.dataset = golden_;
    auto a = Attest(*store_, std::move(s), FixtureKey("ci"),
                    {"ci@test", std::nullopt, std::nullopt, std::nullopt});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
  }
  Result<Event> Gated(int i, std::vector<std::string> overrides = {}) {
    clock_.now += 1000000;
    MoveOptions m;
    m.actor = "alice@test";
    m.reason = "CX-2 ship";
    GateOptions g;
    g.overrides = std::move(overrides);
    report_ = GateReport{};
    return PromoteThroughGates(*store_, "prod", v_[i], m, g, &report_);
  }
  size_t EventCount() {
    auto events = ReadEvents(*store_, "prod");
    return events.ok() ? events->size() : 0;
  }
  void SetUp() override {
    SignedStoreTest::SetUp();
    ASSERT_TRUE(Trust("ci", FixtureKey("ci"), {"ci"}).ok());
    ASSERT_TRUE(Trust("release", FixtureKey("release"), {"release"}).ok());
  }

  Digest golden_ = Digest::Of("golden-v3 dataset");
  GateReport report_;
};

TEST_F(GatesTest, EvalBelowTheMinimumBlocksAndLeavesNothingBehind) {
  Policy p;
  p.min_eval["golden-v3"] = *Score::Parse("0.85", "x");
  SetPolicyOf(p);
  AttestV(0, "0.79");
  auto e = Gated(0);
  EXPECT_EQ(e.status().code(), Code::kGateBlocked);
  EXPECT_NE(e.status().message().find("0.79"), std::string::npos) << e.status().message();
  EXPECT_TRUE(report_.blocked);
  ASSERT_EQ(report_.checks.size(), 1u);
  EXPECT_FALSE(report_.checks[0].passed);
  EXPECT_EQ(GetDeployment(*store_, "prod").status().code(), Code::kNotFound);
  EXPECT_EQ(EventCount(), 0u);
}

TEST_F(GatesTest, ScoreExactlyAtTheMinimumPassesAndTheChecksAreInTheEvent) {
  Policy p;
  p.min_eval["golden-v3"] = *Score::Parse("0.87", "x");
  SetPolicyOf(p);
  AttestV(0, "0.87");
  auto e = Gated(0);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->checks.size(), 1u);
  EXPECT_EQ(e->checks[0].rule, "min-eval");
  EXPECT_EQ(e->checks[0].passed, true);
  auto stored = GetEvent(*store_, "prod", 1);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->checks, e->checks);
  auto audit = AuditVerify(*store_);
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->ok());
}

TEST_F(GatesTest, DropFrom087To079PassesAtDrop008AndFailsAt007) {
  AttestV(0, "0.87");
  AttestV(1, "0.79");
  ASSERT_TRUE(Gated(0).ok());  // no policy yet: v1 is live
  Policy p;
  p.max_eval_drop["golden-v3"] = *Score::Parse("0.07", "x");
  SetPolicyOf(p);
  auto blocked = Gated(1);
  EXPECT_EQ(blocked.status().code(), Code::kGateBlocked);
  EXPECT_EQ(EventCount(), 1u);
  p.max_eval_drop["golden-v3"] = *Score::Parse("0.08", "x");
  SetPolicyOf(p);
  auto passed = Gated(1);
  ASSERT_TRUE(passed.ok()) << passed.status().ToString();
  EXPECT_EQ(EventCount(), 2u);
}

TEST_F(GatesTest, OverrideLetsAFailingRulePassAndIsRecorded) {
  Policy p;
  p.min_eval["golden-v3"] = *Score::Parse("0.85", "x");
  SetPolicyOf(p);
  AttestV(0, "0.79");
  auto e = Gated(0, {"min-eval"});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(report_.overridden, std::vector<std::string>{"min-eval"});
  ASSERT_EQ(e->checks.size(), 1u);
  EXPECT_EQ(e->checks[0].passed, false);
  EXPECT_EQ(e->checks[0].overridden, true);
  EXPECT_EQ(GetEvent(*store_, "prod", 1)->checks[0].overridden, true);
}

TEST_F(GatesTest, OverrideIsRefusedWhereThePolicyForbidsIt) {
  Policy p;
  p.min_eval["golden-v3"] = *Score::Parse("0.85", "x");
  p.no_overrides = true;
  SetPolicyOf(p);
  AttestV(0, "0.79");
  auto e = Gated(0, {"min-eval"});
  EXPECT_EQ(e.status().code(), Code::kUsage);
  EXPECT_NE(e.status().message().find("forbids overrides"), std::string::npos);
  EXPECT_EQ(EventCount(), 0u);
  EXPECT_EQ(Gated(0, {"no-such-rule"}).status().code(), Code::kUsage);
}

TEST_F(GatesTest, OverrideWithoutAPolicyIsAUsageError) {
  EXPECT_EQ(Gated(0, {"min-eval"}).status().code(), Code::kUsage);
  EXPECT_EQ(EventCount(), 0u);
}

TEST_F(GatesTest, RollbackSkipsEvalRulesButRefusesARevokedSignerUnlessForced) {
  ASSERT_TRUE(SignV(0, FixtureKey("release")).ok());
  ASSERT_TRUE(SignV(1, FixtureKey("release")).ok());
  AttestV(0, "0.50");
  AttestV(1, "0.90");
  ASSERT_TRUE(Gated(0).ok());
  Policy p;
  p.signatures.push_back({1, "release"});
  p.min_eval["golden-v3"] = *Score::Parse("0.85", "x");
  SetPolicyOf(p);
  ASSERT_TRUE(Gated(1).ok());
  // v1 fails min-eval, but rollback does not look at evals.
  RollbackOptions r;
  r.move.actor = "oncall@test";
  r.move.reason = "INC-7";
  GateReport report;
  auto back = RollbackThroughGates(*store_, "prod", r, {}, &report);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->to, v_[0]);
  // Forward again, then revoke the release key: v1's only signature no longer counts.
  ASSERT_TRUE(Gated(1).ok());
  ASSERT_TRUE(Revoke("release").ok());
  clock_.now += 1000000;
  auto refused = RollbackThroughGates(*store_, "prod", r, {}, &report);
  EXPECT_EQ(refused.status().code(), Code::kGateBlocked);
  EXPECT_NE(refused.status().message().find("--force"), std::string::npos);
  EXPECT_EQ(GetDeployment(*store_, "prod")->live, v_[1]);
  r.force = true;
  auto forced = RollbackThroughGates(*store_, "prod", r, {}, &report);
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_EQ(forced->to, v_[0]);
  EXPECT_TRUE(forced->forced) << "an override makes the rollback forced";
  // Failing the signature rules made it a promotion in effect: every rule was evaluated.
  ASSERT_EQ(forced->checks.size(), 2u);
  for (const auto& c : forced->checks) EXPECT_TRUE(c.overridden) << c.rule;
  EXPECT_EQ(report.overridden, (std::vector<std::string>{"require-signatures", "min-eval"}));
}

TEST_F(GatesTest, EventsBeforeHookRecordsAreCountedAndAMoveAroundTheGateIsReported) {
  MoveOptions raw;
  raw.actor = "old@test";
  raw.reason = "written before hook records";
  clock_.now += 1000000;
  ASSERT_TRUE(Promote(*store_, "prod", v_[0], raw).ok());
  auto e = Gated(1);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_TRUE(e->hooks.has_value()) << "a gated move records its hooks, even none";
  EXPECT_TRUE(e->hooks->empty());
  auto audit = AuditVerify(*store_);
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->ok()) << audit->problems.size();
  EXPECT_EQ(audit->events_without_hook_record, 1u);
  // Once moves record their hooks, one without a record went around the gate.
  clock_.now += 1000000;
  ASSERT_TRUE(Promote(*store_, "prod", v_[2], raw).ok());
  audit = AuditVerify(*store_);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->problems.size(), 1u);
  EXPECT_EQ(audit->problems[0].seq, 3u);
  EXPECT_NE(audit->problems[0].message.find("it was made without the gate"), std::string::npos)
      << audit->problems[0].message;
}

}  // namespace
}  // namespace cairn
