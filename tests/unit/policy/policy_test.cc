// Policies: their audited chain of changes, and every rule passing and failing at its
// boundary — signatures (threshold, role, one key under two names, revocation), eval scores
// (trusted, bound to the snapshot and the dataset), soak time, pinned models, agent limits.
#include "cairn/policy.h"

#include <gtest/gtest.h>

#include "cairn/attestation.h"
#include "cairn/policy_eval.h"
#include "policy/policy_records.h"
#include "support/signing_support.h"

namespace cairn {
namespace {

constexpr int64_t kHour = int64_t{3600} * 1000000;

class PolicyTest : public testing::SignedStoreTest {
 protected:
  Policy Rules() {
    Policy p;
    p.deployment = "prod";
    return p;
  }
  Result<PolicyEvent> Set(const Policy& p, const std::string& reason = "CX-1: gate prod") {
    clock_.now += 1000000;
    return SetPolicy(*store_, p, "lead@test", reason);
  }
  Result<Attestation> AttestV(int i, const PrivateKey& key, const std::string& score,
                              std::optional<Digest> dataset,
                              const std::string& eval = "golden-v3") {
    clock_.now += 1000000;
    EvalStatement s;
    s.snapshot = v_[i];
    s.eval = eval;
    s.score = *Score::Parse(score, "score");
    s.dataset = dataset;
    return Attest(*store_, std::move(s), key,
                  {"ci@test", std::nullopt, std::nullopt, std::nullopt});
  }
  Result<Event> PromoteV(int i, const DeploymentName& deployment) {
    clock_.now += 1000000;
    MoveOptions m;
    m.actor = "alice@test";
    m.reason = "ship";
    return Promote(*store_, deployment, v_[i], m);
  }
  std::vector<PolicyCheck> Eval(const Policy& p, int candidate, std::optional<int> live) {
    std::optional<SnapshotId> live_id;
    if (live) live_id = v_[*live];
    auto checks = EvaluatePolicy(*store_, p, v_[candidate], live_id, clock_.now);
    EXPECT_TRUE(checks.ok()) << checks.status().ToString();
    return checks.ok() ? *checks : std::vector<PolicyCheck>{};
  }
  // The only check `p` yields for `candidate`.
  PolicyCheck One(const Policy& p, int candidate, std::optional<int> live = std::nullopt) {
    auto checks = Eval(p, candidate, live);
    EXPECT_EQ(checks.size(), 1u);
    return checks.empty() ? PolicyCheck{} : checks[0];
  }
  // A new snapshot whose primary model file is `model_json`.
  int CreateWithModel(const std::string& model_json) {
    box_.Write("rel/models/primary.json", model_json);
    auto r = Create();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    v_.push_back(r->snapshot.id);
    return static_cast<int>(v_.size()) - 1;
  }
  AuditReport Audit() {
    auto r = AuditVerify(*store_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AuditReport{};
  }

  Digest golden_ = Digest::Of("golden-v3.jsonl bytes");
};

// ---- the policy value ----

TEST_F(PolicyTest, PolicyJsonRoundTripsAndIsCanonical) {
  Policy p = Rules();
  p.signatures = {{1, ""}, {2, "release"}};
  p.min_eval["golden-v3"] = *Score::Parse("0.87", "x");
  p.max_eval_drop["golden-v3"] = *Score::Parse("0.08", "x");
  p.soak_micros["beta"] = 24 * kHour;
  p.require_pinned_models = true;
  p.require_agent_limits = true;
  p.no_overrides = true;
  EXPECT_FALSE(p.empty());
  auto bytes = CanonicalJson(p.ToJson());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString() << ": no floats anywhere";
  auto back = Policy::FromJson(Json::parse(*bytes), "policy");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), p.ToJson());
  EXPECT_EQ(back->min_eval.at("golden-v3").ToString(), "0.87");

  Json extra = p.ToJson();
  extra["surprise"] = 1;
  EXPECT_EQ(Policy::FromJson(extra, "policy").status().code(), Code::kCorruption);
  Json zero = p.ToJson();
  zero["signatures"][0]["count"] = 0;
  EXPECT_EQ(Policy::FromJson(zero, "policy").status().code(), Code::kCorruption);
  EXPECT_TRUE(Rules().empty());
}

TEST_F(PolicyTest, RuleNamesAndDurations) {
  for (const char* rule : {"require-signatures", "min-eval", "max-eval-drop", "soak",
                           "require-pinned-models", "require-agent-limits"}) {
    EXPECT_TRUE(ValidateRuleName(rule).ok()) << rule;
  }
  EXPECT_EQ(ValidateRuleName("no-overrides").code(), Code::kUsage);
  EXPECT_EQ(ValidateRuleName("min_eval").code(), Code::kUsage);

  EXPECT_EQ(*ParseDuration("24h", "--soak"), 24 * kHour);
  EXPECT_EQ(*ParseDuration("90m", "--soak"), 90 * 60 * 1000000LL);
  EXPECT_EQ(*ParseDuration("1d12h", "--soak"), 36 * kHour);
  EXPECT_EQ(*ParseDuration("1s", "--soak"), 1000000);
  EXPECT_EQ(*ParseDuration("3650d", "--soak"), 3650 * 24 * kHour);
  for (const char* bad :
       {"", "24", "h", "24x", "-1h", "0s", "1.5h", "3651d", "99999999999d", "24 h",
        // 10 digits of days overflowed int64 microseconds (found by fuzz/text_values).
        "4444444442d", "9999999999d", "1d9999999999s"}) {
    auto d = ParseDuration(bad, "--soak");
    EXPECT_EQ(d.status().code(), Code::kUsage) << bad;
    if (!d.ok()) {
      EXPECT_NE(d.status().message().find("--soak"), std::string::npos);
    }
  }
  EXPECT_EQ(FormatDuration(25 * kHour), "25h");
  EXPECT_EQ(FormatDuration(kHour + 30 * 60 * 1000000LL), "1h30m");
  EXPECT_EQ(FormatDuration(45 * 1000000LL), "45s");
  EXPECT_EQ(FormatDuration(0), "0s");
}

TEST_F(PolicyTest, CheckJsonHasTheFiveFields) {
  PolicyCheck c{"min-eval", "golden-v3", false, true, "0.79 < 0.87", {}};
  auto bytes = CanonicalJson(c.ToJson());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes,
            "{\"detail\":\"0.79 < 0.87\",\"overridden\":true,\"passed\":false,\"rule\":\"min-"
            "eval\",\"subject\":\"golden-v3\"}");
}

// ---- setting policies ----

TEST_F(PolicyTest, SetGetListAndClearAreChainedEvents) {
  Policy p = Rules();
  p.signatures = {{2, "release"}, {1, "ci"}};
  p.min_eval["golden-v3"] = *Score::Parse("0.87", "x");
  auto a = Set(p);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->seq, 1u);
  EXPECT_FALSE(a->prev.has_value());
  EXPECT_EQ(a->hash, *a->ComputeHash());
  EXPECT_STREQ(a->action(), "set");

  auto got = GetPolicy(*store_, "prod");
  ASSERT_TRUE(got.ok() && got->has_value());
  ASSERT_EQ((*got)->signatures.size(), 2u);
  EXPECT_EQ((*got)->signatures[0].role, "ci") << "kept sorted by role";
  EXPECT_EQ((*got)->min_eval.at("golden-v3").ToString(), "0.87");
  auto none = GetPolicy(*store_, "staging");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  // A bad name never reaches GetPolicy: it is refused where it is parsed (and a literal one
  // does not compile).
  EXPECT_EQ(DeploymentName::Parse("Bad Name").status().code(), Code::kUsage);

  Policy beta;
  beta.deployment = "support-bot/beta";
  beta.require_pinned_models = true;
  auto b = Set(beta);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(*b->prev, a->hash);
  auto all = ListPolicies(*store_);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].deployment, "prod");
  EXPECT_EQ((*all)[1].deployment, "support-bot/beta");

  auto cleared = Set(Rules(), "CX-2: gates off for the migration");
  ASSERT_TRUE(cleared.ok()) << cleared.status().ToString();
  EXPECT_STREQ(cleared->action(), "clear");
  EXPECT_FALSE(GetPolicy(*store_, "prod")->has_value());
  EXPECT_EQ(ListPolicies(*store_)->size(), 1u);
  auto events = ReadPolicyEvents(*store_);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[2].reason, "CX-2: gates off for the migration");
  auto report = Audit();
  EXPECT_TRUE(report.ok()) << report.problems[0].message;
  EXPECT_EQ(report.policy_events, 3u);
}

TEST_F(PolicyTest, IdenticalPolicyAndClearingNothingAreRefusedWithoutAnEvent) {
  Policy p = Rules();
  p.signatures = {{1, "release"}};
  ASSERT_TRUE(Set(p).ok());
  auto again = Set(p);
  EXPECT_EQ(again.status().code(), Code::kConflict);
  EXPECT_NE(again.status().message().find("already has exactly this policy"), std::string::npos);
  EXPECT_EQ(Set(Rules()).status().code(), Code::kOk);
  auto nothing = Set(Rules());
  EXPECT_EQ(nothing.status().code(), Code::kConflict);
  EXPECT_NE(nothing.status().message().find("nothing to clear"), std::string::npos);
  EXPECT_EQ(ReadPolicyEvents(*store_)->size(), 2u);
}

TEST_F(PolicyTest, InvalidPoliciesAreRefusedAndWriteNothing) {
  auto refused = [&](Policy p, const std::string& reason, std::string_view names) {
    auto r = Set(p, reason);
    EXPECT_EQ(r.status().code(), Code::kUsage);
    EXPECT_NE(r.status().message().find(names), std::string::npos) << r.status().message();
  };
  Policy zero = Rules();
  zero.signatures = {{0, "release"}};
  refused(zero, "x", "--require-signatures");
  Policy twice = Rules();
  twice.signatures = {{1, "release"}, {2, "release"}};
  refused(twice, "x", "--require-signatures");
  Policy role = Rules();
  role.signatures = {{1, "Release"}};
  refused(role, "x", "--signer-role");
  Policy self = Rules();
  self.soak_micros["prod"] = kHour;
  refused(self, "x", "--soak");
  Policy eval = Rules();
  eval.min_eval["Golden V3"] = Score();
  refused(eval, "x", "--min-eval");
  Policy name = Rules();
  name.deployment = "PROD";
  name.require_pinned_models = true;
  refused(name, "x", "deployment name");
  Policy alone = Rules();
  alone.no_overrides = true;
  refused(alone, "x", "--no-overrides");
  Policy ok = Rules();
  ok.require_pinned_models = true;
  refused(ok, "", "--reason");
  EXPECT_TRUE(ReadPolicyEvents(*store_)->empty());
  EXPECT_TRUE(Audit().ok());
}

TEST_F(PolicyTest, APolicyChangeOnAClockThatWentBackwardsIsRefused) {
  Policy p = Rules();
  p.require_pinned_models = true;
  auto a = Set(p);
  ASSERT_TRUE(a.ok());
  clock_.now -= 10 * kHour;
  p.require_agent_limits = true;
  auto b = SetPolicy(*store_, p, "lead@test", "clock went back");
  ASSERT_EQ(b.status().code(), Code::kConflict);
  EXPECT_NE(b.status().message().find("the clock went backwards"), std::string::npos);
  EXPECT_EQ(ReadPolicyEvents(*store_)->size(), 1u);
  EXPECT_TRUE(Audit().ok());
}

// ---- require-signatures ----

TEST_F(PolicyTest, RequireSignaturesPassesExactlyAtTheThreshold) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(Trust("sec", security_, {"release", "security"}).ok());
  Policy p = Rules();
  p.signatures = {{2, "release"}};
  ASSERT_TRUE(SignV(0, release_).ok());
  PolicyCheck below = One(p, 0);
  EXPECT_EQ(below.rule, "require-signatures");
  EXPECT_EQ(below.subject, "role release");
  EXPECT_FALSE(below.passed);
  EXPECT_NE(below.detail.find("1 of 2 signers with role release"), std::string::npos)
      << below.detail;
  ASSERT_TRUE(SignV(0, security_).ok());
  PolicyCheck at = One(p, 0);
  EXPECT_TRUE(at.passed) << at.detail;
  EXPECT_NE(at.detail.find("2 of 2 signers with role release: alice, sec"), std::string::npos)
      << at.detail;
  EXPECT_FALSE(at.overridden);
  p.signatures = {{1, ""}};
  EXPECT_TRUE(One(p, 0).passed) << "any trusted key";
  EXPECT_FALSE(One(p, 1).passed) << "unsigned";
}

TEST_F(PolicyTest, RequireSignaturesFailsOnARoleMismatch) {
  ASSERT_TRUE(Trust("ci-bot", ci_, {"ci"}).ok());
  ASSERT_TRUE(SignV(0, ci_).ok());
  Policy p = Rules();
  p.signatures = {{1, "release"}};
  PolicyCheck c = One(p, 0);
  EXPECT_FALSE(c.passed);
  EXPECT_NE(c.detail.find("0 of 1"), std::string::npos) << c.detail;
  EXPECT_NE(c.detail.find("1 without role release"), std::string::npos) << c.detail;
  p.signatures = {{1, "ci"}};
  EXPECT_TRUE(One(p, 0).passed);
}

TEST_F(PolicyTest, OneKeyUnderTwoNamesOrSigningTwiceCountsOnce) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(Trust("alice-laptop", release_, {"release"}).ok());
  ASSERT_TRUE(SignV(0, release_).ok());
  ASSERT_TRUE(SignV(0, release_).ok());
  ASSERT_TRUE(SignV(0, outsider_).ok());  // unknown key: never counts
  Policy p = Rules();
  p.signatures = {{2, "release"}};
  PolicyCheck c = One(p, 0);
  EXPECT_FALSE(c.passed);
  EXPECT_NE(c.detail.find("1 of 2"), std::string::npos) << c.detail;
  EXPECT_NE(c.detail.find("1 unknown key"), std::string::npos) << c.detail;
}

TEST_F(PolicyTest, RevokedSignerFailsTheSignatureRulesARollbackStillEnforces) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(Trust("sec", security_, {"release"}).ok());
  ASSERT_TRUE(SignV(0, release_).ok());
  ASSERT_TRUE(SignV(0, security_).ok());
  Policy p = Rules();
  p.signatures = {{2, "release"}};
  p.min_eval["golden-v3"] = *Score::Parse("0.5", "x");  // not part of a rollback's checks
  auto before = EvaluateSignatureRules(*store_, p, v_[0]);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_EQ(before->size(), 1u);
  EXPECT_TRUE((*before)[0].passed) << (*before)[0].detail;
  ASSERT_TRUE(Revoke("sec", "SEC-88: key leaked").ok());
  auto after = EvaluateSignatureRules(*store_, p, v_[0]);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_FALSE((*after)[0].passed);
  EXPECT_NE((*after)[0].detail.find("1 revoked"), std::string::npos) << (*after)[0].detail;
  EXPECT_EQ(EvaluateSignatureRules(*store_, p, SnapshotId(Digest::Of("none"))).status().code(),
            Code::kNotFound);
}

// ---- min-eval ----

TEST_F(PolicyTest, MinEvalPassesExactlyAtTheThreshold) {
  ASSERT_TRUE(Trust("ci", ci_, {"ci"}).ok());
  Policy p = Rules();
  p.min_eval["golden-v3"] = *Score::Parse("0.87", "x");
  PolicyCheck none = One(p, 0);
  EXPECT_FALSE(none.passed);
  EXPECT_NE(none.detail.find("no trusted attestation on golden-v3"), std::string::npos)
      << none.detail;
  ASSERT_TRUE(AttestV(0, ci_, "0.87", golden_).ok());
  PolicyCheck at = One(p, 0);
  EXPECT_EQ(at.rule, "min-eval");
  EXPECT_EQ(at.subject, "golden-v3");
  EXPECT_TRUE(at.passed) << at.detail;
  EXPECT_TRUE(at.detail.starts_with("0.87 >= 0.87")) << at.detail;
  p.min_eval["golden-v3"] = *Score::Parse("0.870000001", "x");
  PolicyCheck above = One(p, 0);
  EXPECT_FALSE(above.passed);
  EXPECT_TRUE(above.detail.starts_with("0.87 < 0.870000001")) << above.detail;
  // The newest valid attestation counts.
  ASSERT_TRUE(AttestV(0, ci_, "0.79", golden_).ok());
  p.min_eval["golden-v3"] = *Score::Parse("0.87", "x");
  EXPECT_TRUE(One(p, 0).detail.starts_with("0.79 < 0.87")) << One(p, 0).detail;
}

TEST_F(PolicyTest, AttestationByAnUntrustedKeyDoesNotCount) {
  ASSERT_TRUE(AttestV(0, outsider_, "0.99", golden_).ok());
  Policy p = Rules();
  p.min_eval["golden-v3"] = *Score::Parse("0.5", "x");
  PolicyCheck c = One(p, 0);
  EXPECT_FALSE(c.passed);
  EXPECT_NE(c.detail.find("not counted: 1 unknown key"), std::string::npos) << c.detail;
}

TEST_F(PolicyTest, AttestationCopiedFromAnotherSnapshotDoesNotCount) {
  ASSERT_TRUE(Trust("ci", ci_, {"ci"}).ok());
  auto a = AttestV(0, ci_, "0.95", golden_);
  ASSERT_TRUE(a.ok());
  std::string record =
      Get(Table::kAttestations, std::string(v_[0].digest().Raw()) + std::string(a->id.Raw()));
  Put(Table::kAttestations, std::string(v_[1].digest().Raw()) + std::string(a->id.Raw()), record);
  Policy p = Rules();
  p.min_eval["golden-v3"] = *Score::Parse("0.5", "x");
  EXPECT_TRUE(One(p, 0).passed);
  PolicyCheck copied = One(p, 1);
  EXPECT_FALSE(copied.passed);
  EXPECT_NE(copied.detail.find("1 bad"), std::string::npos) << copied.detail;
}

// ---- max-eval-drop ----

TEST_F(PolicyTest, MaxEvalDropIsExactAtItsBoundary) {
  ASSERT_TRUE(Trust("ci", ci_, {"ci"}).ok());
  ASSERT_TRUE(AttestV(0, ci_, "0.87", golden_).ok());
  ASSERT_TRUE(AttestV(1, ci_, "0.79", golden_).ok());
  ASSERT_TRUE(AttestV(2, ci_, "0.78", golden_).ok());
  Policy p = Rules();
  p.max_eval_drop["golden-v3"] = *Score::Parse("0.08", "x");
  PolicyCheck at = One(p, 1, 0);
  EXPECT_EQ(at.rule, "max-eval-drop");
  EXPECT_TRUE(at.passed) << at.detail;
  EXPECT_TRUE(at.detail.starts_with("0.87 -> 0.79: drop 0.08 <= 0.08")) << at.detail;
  PolicyCheck beyond = One(p, 2, 0);
  EXPECT_FALSE(beyond.passed);
  EXPECT_TRUE(beyond.detail.starts_with("0.87 -> 0.78: drop 0.09 > 0.08")) << beyond.detail;
  PolicyCheck better = One(p, 0, 2);
  EXPECT_TRUE(better.passed);
  EXPECT_TRUE(better.detail.starts_with("0.78 -> 0.87: drop -0.09 <= 0.08")) << better.detail;
}

TEST_F(PolicyTest, MaxEvalDropWithNothingLiveOrNoComparableScore) {
  ASSERT_TRUE(Trust("ci", ci_, {"ci"}).ok());
  Policy p = Rules();
  p.max_eval_drop["golden-v3"] = *Score::Parse("0.08", "x");
  EXPECT_FALSE(One(p, 1).passed) << "the candidate has no score";
  ASSERT_TRUE(AttestV(1, ci_, "0.79", golden_).ok());
  PolicyCheck first = One(p, 1);
  EXPECT_TRUE(first.passed);
  EXPECT_NE(first.detail.find("nothing live on prod to compare with"), std::string::npos);

  // The live snapshot was scored on another golden set: not comparable, fail closed.
  ASSERT_TRUE(AttestV(0, ci_, "0.87", Digest::Of("golden set v2")).ok());
  PolicyCheck other = One(p, 1, 0);
  EXPECT_FALSE(other.passed);
  EXPECT_EQ(other.detail, "no comparable score for the live snapshot " + v_[0].Short() +
                              " on golden-v3 with dataset " + golden_.ToString());

  // A candidate score without a dataset cannot be compared at all.
  ASSERT_TRUE(AttestV(2, ci_, "0.9", std::nullopt).ok());
  PolicyCheck no_dataset = One(p, 2, 0);
  EXPECT_FALSE(no_dataset.passed);
  EXPECT_NE(no_dataset.detail.find("names no dataset"), std::string::npos) << no_dataset.detail;
}

// ---- soak ----

TEST_F(PolicyTest, SoakPassesExactlyAtItsDuration) {
  Policy p = Rules();
  p.soak_micros["beta"] = 24 * kHour;
  PolicyCheck never = One(p, 0);
  EXPECT_FALSE(never.passed);
  EXPECT_NE(never.detail.find("never live on beta"), std::string::npos) << never.detail;
  auto promoted = PromoteV(0, "beta");
  ASSERT_TRUE(promoted.ok());
  int64_t since = promoted->time_micros;
  auto at = EvaluatePolicy(*store_, p, v_[0], std::nullopt, since + 24 * kHour);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ((*at)[0].subject, "beta");
  EXPECT_TRUE((*at)[0].passed) << (*at)[0].detail;
  EXPECT_TRUE((*at)[0].detail.starts_with("live on beta 24h (needs 24h)")) << (*at)[0].detail;
  auto short_of = EvaluatePolicy(*store_, p, v_[0], std::nullopt, since + 24 * kHour - 1);
  ASSERT_TRUE(short_of.ok());
  EXPECT_FALSE((*short_of)[0].passed);
  EXPECT_TRUE((*short_of)[0].detail.starts_with("live on beta 23h59m59s (needs 24h)"))
      << (*short_of)[0].detail;

  // Replaced on beta after 25 hours: its stay there ended then, however late we look.
  clock_.now = since + 25 * kHour - 1000000;
  ASSERT_TRUE(PromoteV(1, "beta").ok());
  auto later = EvaluatePolicy(*store_, p, v_[0], std::nullopt, since + 1000 * kHour);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE((*later)[0].passed);
  EXPECT_TRUE((*later)[0].detail.starts_with("live on beta 25h (needs 24h)")) << (*later)[0].detail;
}

TEST_F(PolicyTest, SoakFailsAfterARollbackThere) {
  ASSERT_TRUE(PromoteV(0, "beta").ok());
  ASSERT_TRUE(PromoteV(1, "beta").ok());
  clock_.now += 48 * kHour;
  RollbackOptions r;
  r.move.actor = "oncall@test";
  r.move.reason = "INC-7: wrong refunds";
  ASSERT_TRUE(Rollback(*store_, "beta", r).ok());
  Policy p = Rules();
  p.soak_micros["beta"] = kHour;
  PolicyCheck c = One(p, 1);
  EXPECT_FALSE(c.passed);
  EXPECT_NE(c.detail.find("rolled back on beta"), std::string::npos) << c.detail;
  EXPECT_NE(c.detail.find("INC-7"), std::string::npos) << c.detail;
  // v_[0] is live on beta again for 48 hours, but only its first stay there counts: 1 s.
  PolicyCheck first_stay = One(p, 0);
  EXPECT_FALSE(first_stay.passed);
  EXPECT_TRUE(first_stay.detail.starts_with("live on beta 1s (needs 1h)")) << first_stay.detail;
  EXPECT_NE(first_stay.detail.find("until event #2"), std::string::npos) << first_stay.detail;
}

// ---- models ----

TEST_F(PolicyTest, RequirePinnedModelsNamesTheFloatingOnes) {
  Policy p = Rules();
  p.require_pinned_models = true;
  PolicyCheck pinned = One(p, 0);
  EXPECT_EQ(pinned.rule, "require-pinned-models");
  EXPECT_EQ(pinned.subject, "models/primary.json");
  EXPECT_TRUE(pinned.passed) << pinned.detail;
  EXPECT_NE(pinned.detail.find("revision 2024-08-06"), std::string::npos) << pinned.detail;
  int floating = CreateWithModel(R"({"provider": "openai", "model": "gpt-4o", "pinned": false})");
  PolicyCheck c = One(p, floating);
  EXPECT_FALSE(c.passed);
  EXPECT_EQ(c.subject, "models/primary.json");
  EXPECT_NE(c.detail.find("gpt-4o floats"), std::string::npos) << c.detail;
}

TEST_F(PolicyTest, RequireAgentLimitsReadsEachModelComponent) {
  Policy p = Rules();
  p.require_agent_limits = true;
  PolicyCheck none = One(p, 0);
  EXPECT_FALSE(none.passed);
  EXPECT_EQ(none.subject, "models/primary.json");
  EXPECT_NE(none.detail.find("declares no \"limits\""), std::string::npos) << none.detail;
  int limited = CreateWithModel(R"({"provider": "openai", "model": "gpt-4o-2024-08-06",
      "revision": "2024-08-06", "limits": {"max_steps": 8, "max_cost_usd": 0.05}})");
  PolicyCheck ok = One(p, limited);
  EXPECT_TRUE(ok.passed) << ok.detail;
  EXPECT_EQ(ok.detail, "max_steps 8, max_cost_usd 0.05");
  // (A non-numeric limit is refused at ingest, rule model-limits: only a missing one is left.)
  int half = CreateWithModel(R"({"provider": "openai", "model": "gpt-4o-2024-08-06",
      "revision": "2024-08-06", "limits": {"max_steps": 8}})");
  PolicyCheck partial = One(p, half);
  EXPECT_FALSE(partial.passed);
  EXPECT_NE(partial.detail.find("lacks a numeric max_cost_usd"), std::string::npos)
      << partial.detail;
}

TEST_F(PolicyTest, EveryRuleIsEvaluatedInOneCallOnAReadOnlyStore) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(Trust("ci", ci_, {"ci"}).ok());
  ASSERT_TRUE(SignV(1, release_).ok());
  ASSERT_TRUE(AttestV(0, ci_, "0.87", golden_).ok());
  ASSERT_TRUE(AttestV(1, ci_, "0.88", golden_).ok());
  ASSERT_TRUE(PromoteV(1, "beta").ok());
  Policy p = Rules();
  p.signatures = {{1, "release"}};
  p.min_eval["golden-v3"] = *Score::Parse("0.87", "x");
  p.max_eval_drop["golden-v3"] = *Score::Parse("0.02", "x");
  p.soak_micros["beta"] = kHour;
  p.require_pinned_models = true;
  p.require_agent_limits = true;
  StoreOpenOptions o;
  o.read_only = true;
  auto reader = Store::Open(box_ / "store", o);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto checks = EvaluatePolicy(**reader, p, v_[1], v_[0], clock_.now + 2 * kHour);
  ASSERT_TRUE(checks.ok()) << checks.status().ToString();
  std::vector<std::string> rules;
  for (const auto& c : *checks) rules.push_back(c.rule + (c.passed ? " ok" : " FAIL"));
  EXPECT_EQ(rules, (std::vector<std::string>{
                       "require-signatures ok", "min-eval ok", "max-eval-drop ok", "soak ok",
                       "require-pinned-models ok", "require-agent-limits FAIL"}));
  EXPECT_EQ(EvaluatePolicy(**reader, p, SnapshotId(Digest::Of("none")), v_[0], 0).status().code(),
            Code::kNotFound);
}

// ---- the chain under audit ----

TEST_F(PolicyTest, AuditCatchesAnEditedPolicyEvent) {
  Policy p = Rules();
  p.min_eval["golden-v3"] = *Score::Parse("0.87", "x");
  ASSERT_TRUE(Set(p).ok());
  p.min_eval["golden-v3"] = *Score::Parse("0.9", "x");
  ASSERT_TRUE(Set(p).ok());
  ASSERT_TRUE(Audit().ok());
  // Lower the threshold of event 1 in place, keeping its old hash.
  std::string bytes = Get(Table::kPolicy, PolicyEventKey(1));
  Json j = Json::parse(bytes);
  j["policy"]["min_eval"]["golden-v3"] = "0.1";
  Put(Table::kPolicy, PolicyEventKey(1), *CanonicalJson(j));
  auto report = Audit();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].chain, AuditChain::kPolicy);
  EXPECT_EQ(report.problems[0].seq, 1u);
  EXPECT_NE(report.problems[0].message.find("was altered"), std::string::npos);
}

TEST_F(PolicyTest, AuditCatchesAnEditedOrDeletedPolicyRecord) {
  Policy p = Rules();
  p.min_eval["golden-v3"] = *Score::Parse("0.87", "x");
  auto e = Set(p);
  ASSERT_TRUE(e.ok());
  std::string record = Get(Table::kPolicy, PolicyRecordKey("prod"));
  // Swap the record for a weaker, self-consistent event that the chain never held.
  PolicyEvent forged = *e;
  Policy weak = Rules();
  weak.min_eval["golden-v3"] = *Score::Parse("0.1", "x");
  forged.policy = weak.ToJson();
  forged.hash = *forged.ComputeHash();
  Put(Table::kPolicy, PolicyRecordKey("prod"), *CanonicalJson(forged.ToJson()));
  auto edited = Audit();
  ASSERT_EQ(edited.problems.size(), 1u);
  EXPECT_EQ(edited.problems[0].chain, AuditChain::kPolicy);
  EXPECT_EQ(edited.problems[0].deployment, "prod");
  EXPECT_NE(edited.problems[0].message.find("edited"), std::string::npos);

  Delete(Table::kPolicy, PolicyRecordKey("prod"));
  auto deleted = Audit();
  ASSERT_EQ(deleted.problems.size(), 1u);
  EXPECT_NE(deleted.problems[0].message.find("missing"), std::string::npos);

  Put(Table::kPolicy, PolicyRecordKey("prod"), record);
  EXPECT_TRUE(Audit().ok());
  Delete(Table::kPolicy, PolicyEventKey(1));
  auto cut = Audit();
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.problems[0].chain, AuditChain::kPolicy);
}

}  // namespace
}  // namespace cairn
