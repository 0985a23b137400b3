#include "cairn/deployment.h"

#include <gtest/gtest.h>

#include <atomic>

#include "cairn/audit.h"
#include "cairn/ingest.h"
#include "cairn/revision.h"
#include "deploy/deployment_records.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

class FakeClock : public Clock {
 public:
  int64_t NowMicros() const override { return now.load(); }
  std::atomic<int64_t> now{1795528980000000};  // 2026-11-24T14:03:00Z
};

class DeploymentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Store::Init(box_ / "store").ok());
    StoreOpenOptions o;
    o.read_only = false;
    o.clock = &clock_;
    auto s = Store::Open(box_ / "store", o);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    std::string dir = testing::WriteMinimalRelease(box_, "rel");
    for (int i = 0; i < 5; ++i) {
      box_.Write("rel/prompts/system.md", "Version " + std::to_string(i) + " {{customer_name}}\n");
      CreateSnapshotOptions c;
      c.dir = dir;
      c.message = "v" + std::to_string(i + 1);
      std::vector<Problem> problems;
      auto r = CreateSnapshot(*store_, c, &problems);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      v_.push_back(r->snapshot.id);
    }
  }

  MoveOptions Move(const std::string& reason = "test") {
    MoveOptions m;
    m.actor = "alice@test";
    m.reason = reason;
    return m;
  }
  Result<Event> PromoteV(int i) {
    clock_.now += 1000000;
    return Promote(*store_, "prod", v_[i], Move());
  }
  Result<Event> Back(uint32_t steps = 1) {
    clock_.now += 1000000;
    RollbackOptions r;
    r.move = Move("incident");
    r.steps = steps;
    return Rollback(*store_, "prod", r);
  }
  SnapshotId Live() { return GetDeployment(*store_, "prod")->live; }

  testing::Sandbox box_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::vector<SnapshotId> v_;  // v_[0] = v1 ...
};

TEST_F(DeploymentTest, PromoteMovesThePointerAndChainsEvents) {
  auto e1 = PromoteV(0);
  ASSERT_TRUE(e1.ok()) << e1.status().ToString();
  EXPECT_EQ(e1->seq, 1u);
  EXPECT_FALSE(e1->from.has_value());
  EXPECT_FALSE(e1->prev.has_value());
  auto e2 = PromoteV(1);
  ASSERT_TRUE(e2.ok());
  EXPECT_EQ(e2->seq, 2u);
  EXPECT_EQ(*e2->from, v_[0]);
  EXPECT_EQ(*e2->prev, e1->hash);
  EXPECT_EQ(e2->hash, *e2->ComputeHash());
  EXPECT_EQ(e2->actor, "alice@test");
  EXPECT_EQ(Live(), v_[1]);
  EXPECT_EQ(ReadEvents(*store_, "prod")->size(), 2u);
}

TEST_F(DeploymentTest, PromotingTheLiveSnapshotIsRefusedWithoutAnEvent) {
  ASSERT_TRUE(PromoteV(0).ok());
  auto again = PromoteV(0);
  EXPECT_EQ(again.status().code(), Code::kConflict);
  EXPECT_NE(again.status().message().find("already live"), std::string::npos);
  EXPECT_EQ(ReadEvents(*store_, "prod")->size(), 1u);
}

TEST_F(DeploymentTest, ReasonIsRequired) {
  EXPECT_EQ(Promote(*store_, "prod", v_[0], Move("")).status().code(), Code::kUsage);
}

TEST_F(DeploymentTest, ThreeRollbacksInARowWalkBackWithoutPingPong) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(PromoteV(i).ok());
  auto r1 = Back();
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->to, v_[2]);
  EXPECT_EQ(*r1->from, v_[3]);
  EXPECT_EQ(Back()->to, v_[1]);
  EXPECT_EQ(Back()->to, v_[0]);
  auto none = Back();
  EXPECT_TRUE(none.status().IsNotFound());
  EXPECT_NE(none.status().message().find("nothing"), std::string::npos);
  EXPECT_EQ(Live(), v_[0]);
  EXPECT_EQ(ReadEvents(*store_, "prod")->size(), 7u);
}

TEST_F(DeploymentTest, RollbackAfterANewPromotionReturnsBelowIt) {
  ASSERT_TRUE(PromoteV(0).ok());
  ASSERT_TRUE(PromoteV(1).ok());
  EXPECT_EQ(Back()->to, v_[0]);  // v2 rolled back
  ASSERT_TRUE(PromoteV(2).ok());
  EXPECT_EQ(Back()->to, v_[0]) << "v2 was rolled back; it is not returned to";
}

TEST_F(DeploymentTest, RollbackStepsWalksSeveralAtOnce) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(PromoteV(i).ok());
  auto r = Back(3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->to, v_[0]);
  EXPECT_TRUE(Back(1).status().IsNotFound());
  EXPECT_TRUE(Back(0).status().code() == Code::kUsage);
}

TEST_F(DeploymentTest, RollbackWithNothingToReturnToSaysSo) {
  RollbackOptions r;
  r.move = Move();
  EXPECT_TRUE(Rollback(*store_, "prod", r).status().IsNotFound()) << "no deployment yet";
  ASSERT_TRUE(PromoteV(0).ok());
  EXPECT_TRUE(Back().status().IsNotFound());
}

TEST_F(DeploymentTest, RollbackToAcceptsOnlyEarlierLiveSnapshotsUnlessForced) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(PromoteV(i).ok());
  RollbackOptions r;
  r.move = Move("to v1");
  r.to = v_[0];
  auto to_v1 = Rollback(*store_, "prod", r);
  ASSERT_TRUE(to_v1.ok()) << to_v1.status().ToString();
  EXPECT_EQ(to_v1->to, v_[0]);
  EXPECT_FALSE(to_v1->forced);
  EXPECT_TRUE(Back().status().IsNotFound()) << "v1 is the bottom of the stack";

  r.to = v_[4];  // never live on prod
  auto refused = Rollback(*store_, "prod", r);
  EXPECT_EQ(refused.status().code(), Code::kUsage);
  EXPECT_NE(refused.status().message().find("--force"), std::string::npos);
  r.force = true;
  auto forced = Rollback(*store_, "prod", r);
  ASSERT_TRUE(forced.ok());
  EXPECT_TRUE(forced->forced);
  EXPECT_EQ(Live(), v_[4]);
  // A forced entry sits above what was live, which it rolled back from: going back down to
  // it is a return to a snapshot judged bad, so it needs force too.
  auto down = Back();
  EXPECT_EQ(down.status().code(), Code::kUsage) << down.status().ToString();
  RollbackOptions back_forced;
  back_forced.move = Move("down again");
  back_forced.force = true;
  clock_.now += 1000000;
  auto forced_down = Rollback(*store_, "prod", back_forced);
  ASSERT_TRUE(forced_down.ok()) << forced_down.status().ToString();
  EXPECT_EQ(forced_down->to, v_[0]);
  EXPECT_TRUE(forced_down->forced);

  r.to = v_[2];  // live before, rolled back from here since: a bad one returns only forced
  r.force = false;
  auto bad = Rollback(*store_, "prod", r);
  EXPECT_EQ(bad.status().code(), Code::kUsage);
  EXPECT_NE(bad.status().message().find("was rolled back from prod at"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("\"to v1\""), std::string::npos)
      << "names the rollback's reason: " << bad.status().message();
  EXPECT_EQ(Live(), v_[0]);
  r.force = true;
  auto v3 = Rollback(*store_, "prod", r);
  ASSERT_TRUE(v3.ok());
  EXPECT_TRUE(v3->forced);
  EXPECT_TRUE(GetLiveHistory(*store_, "prod", v_[2])->rolled_back_seq > 0);
}

TEST_F(DeploymentTest, ExpectIsACompareAndSwap) {
  ASSERT_TRUE(PromoteV(0).ok());
  MoveOptions m = Move();
  m.expect = v_[1];
  auto lost = Promote(*store_, "prod", v_[2], m);
  EXPECT_EQ(lost.status().code(), Code::kMoved);
  EXPECT_EQ(Live(), v_[0]);
  EXPECT_EQ(ReadEvents(*store_, "prod")->size(), 1u);
  m.expect = v_[0];
  EXPECT_TRUE(Promote(*store_, "prod", v_[2], m).ok());
}

TEST_F(DeploymentTest, AClockThatWentBackwardsIsRefusedNotHidden) {
  ASSERT_TRUE(PromoteV(0).ok());
  clock_.now -= 3600000000;  // an hour back
  auto e = Promote(*store_, "prod", v_[1], Move());
  ASSERT_EQ(e.status().code(), Code::kConflict);
  EXPECT_NE(e.status().message().find("the clock went backwards"), std::string::npos)
      << e.status().message();
  EXPECT_EQ(ReadEvents(*store_, "prod")->size(), 1u);
  clock_.now += 3600000000;  // the same instant as the last event is not backwards
  ASSERT_TRUE(Promote(*store_, "prod", v_[1], Move()).ok());
}

TEST_F(DeploymentTest, LiveAtBeforeAtAndBetweenEvents) {
  auto e1 = PromoteV(0);
  auto e2 = PromoteV(1);
  ASSERT_TRUE(e1.ok() && e2.ok());
  EXPECT_TRUE(LiveAt(*store_, "prod", e1->time_micros - 1).status().IsNotFound());
  EXPECT_EQ(LiveAt(*store_, "prod", e1->time_micros)->to, v_[0]);
  EXPECT_EQ(LiveAt(*store_, "prod", e1->time_micros + 500000)->to, v_[0]);
  EXPECT_EQ(LiveAt(*store_, "prod", e2->time_micros)->to, v_[1]);
  EXPECT_EQ(LiveAt(*store_, "prod", e2->time_micros + 999999999)->seq, 2u);
}

TEST_F(DeploymentTest, RevisionsNameDeploymentsHistoryAndTimes) {
  auto e1 = PromoteV(0);
  ASSERT_TRUE(PromoteV(1).ok());
  ASSERT_TRUE(PromoteV(2).ok());
  EXPECT_EQ(*ResolveRevision(*store_, "prod"), v_[2]);
  EXPECT_EQ(*ResolveRevision(*store_, "prod@{0}"), v_[2]);
  EXPECT_EQ(*ResolveRevision(*store_, "prod@{2}"), v_[0]);
  EXPECT_TRUE(ResolveRevision(*store_, "prod@{3}").status().IsNotFound());
  EXPECT_EQ(ResolveRevision(*store_, "prod@{x}").status().code(), Code::kUsage);
  std::string t1 = FormatTime(e1->time_micros + 10);
  EXPECT_EQ(*ResolveRevision(*store_, "prod@" + t1), v_[0]);
  EXPECT_TRUE(ResolveRevision(*store_, "prod@2020-01-01 00:00").status().IsNotFound());
  EXPECT_TRUE(ResolveRevision(*store_, "staging").status().IsNotFound());
  auto split = SplitRevisionPath("prod@" + t1 + ":prompts/system.md");
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->rev, "prod@" + t1);
  EXPECT_EQ(split->path, "prompts/system.md");
}

TEST_F(DeploymentTest, DeploymentNamesAreChecked) {
  for (const char* good : {"prod", "support-bot/beta", "a.b_c-d", "eu/prod/v2"}) {
    EXPECT_TRUE(ValidateDeploymentName(good).ok()) << good;
  }
  for (const char* bad :
       {"", "Prod", "-x", "a//b", "/a", "a/", "a@b", "a b", "deadbeef01", "a/b/c/d/e", "x..y"}) {
    EXPECT_EQ(ValidateDeploymentName(bad).code(), Code::kUsage) << bad;
  }
}

// The rule is constexpr: a literal name is checked by the compiler (a bad one does not build).
static_assert(deployment_name_internal::FindFlaw("support-bot/beta") ==
              deployment_name_internal::Flaw::kNone);
static_assert(deployment_name_internal::FindFlaw("deadbeef") ==
              deployment_name_internal::Flaw::kHexPrefix);
static_assert(deployment_name_internal::FindFlaw("a/b/c/d/e") ==
              deployment_name_internal::Flaw::kShape);

TEST(DeploymentNameTest, ParseIsTheOneCheckAndKeepsTheText) {
  auto name = DeploymentName::Parse("support-bot/beta");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->view(), "support-bot/beta");
  EXPECT_EQ(*name, DeploymentName("support-bot/beta"));
  EXPECT_LT(DeploymentName("beta"), DeploymentName("prod"));
  EXPECT_TRUE(DeploymentName::Parse(std::string(128, 'a')).ok());
  EXPECT_FALSE(DeploymentName::Parse(std::string(129, 'a')).ok());
  EXPECT_FALSE(DeploymentName::Parse(std::string(64, 'a')).ok());  // reads as an id prefix
  EXPECT_TRUE(DeploymentName::Parse(std::string(65, 'a')).ok());   // longer than any id
  EXPECT_FALSE(DeploymentName::Parse(std::string("pr\0od", 5)).ok());
  auto bad = DeploymentName::Parse("x..Y");
  EXPECT_NE(bad.status().message().find("lowercase letters"), std::string::npos)
      << bad.status().message();
}

TEST_F(DeploymentTest, AuditVerifyPassesAndCatchesAnEditedEvent) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(PromoteV(i).ok());
  ASSERT_TRUE(Back().ok());
  auto ok = AuditVerify(*store_);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->ok());
  EXPECT_EQ(ok->events, 4u);
  // Rewrite event 2's reason directly in the database.
  Db& db = StoreInternal::db(*store_);
  std::string bytes = *db.Get(Table::kEvents, EventKey("prod", 2)).value();
  bytes.replace(bytes.find("\"test\""), 6, "\"TEST\"");
  Batch b(db);
  b.Put(Table::kEvents, EventKey("prod", 2), bytes);
  ASSERT_TRUE(db.Write(b, true).ok());
  auto broken = AuditVerify(*store_);
  ASSERT_TRUE(broken.ok());
  ASSERT_EQ(broken->problems.size(), 1u);
  EXPECT_EQ(broken->problems[0].seq, 2u);
  EXPECT_NE(broken->problems[0].message.find("altered"), std::string::npos);
}

TEST_F(DeploymentTest, AuditVerifyCatchesAPointerThatDisagreesWithTheLastEvent) {
  ASSERT_TRUE(PromoteV(0).ok());
  ASSERT_TRUE(PromoteV(1).ok());
  Db& db = StoreInternal::db(*store_);
  std::string first = *db.Get(Table::kEvents, EventKey("prod", 1)).value();
  Batch b(db);
  b.Put(Table::kDeployments, "prod", first);  // an old signed pointer replayed
  ASSERT_TRUE(db.Write(b, true).ok());
  auto r = AuditVerify(*store_, DeploymentName("prod"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].seq, 0u);
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

TEST_F(DeploymentTest, GateChecksAreStoredInTheHashedEventAndARefusalChangesNothing) {
  ASSERT_TRUE(PromoteV(0).ok());
  MoveOptions m = Move("gated");
  Event seen;
  m.gate = [&](const Event& planned) -> Result<GateVerdict> {
    seen = planned;
    PolicyCheck c;
    c.rule = "min-eval";
    c.subject = "golden-v3";
    c.passed = true;
    c.detail = "0.9 >= 0.8";
    GateVerdict v;
    v.checks = {c};
    v.records_hooks = true;
    v.hooks = {{"pre-promote", "10-freeze", Digest::Of("#!/bin/sh\n"), 0}};
    return v;
  };
  clock_.now += 1000000;
  auto e = Promote(*store_, "prod", v_[1], m);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(*seen.from, v_[0]);
  EXPECT_EQ(seen.to, v_[1]);
  EXPECT_EQ(e->checks.size(), 1u);
  auto stored = GetEvent(*store_, "prod", 2);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->checks, e->checks);
  EXPECT_EQ(stored->checks[0].rule, "min-eval");
  EXPECT_EQ(stored->checks[0].detail, "0.9 >= 0.8");
  ASSERT_TRUE(stored->hooks.has_value()) << "the hooks that ran are in the hashed event";
  EXPECT_EQ(*stored->hooks, *e->hooks);
  EXPECT_EQ(stored->hooks->size(), 1u);
  EXPECT_EQ((*stored->hooks)[0].name, "10-freeze");
  EXPECT_EQ(stored->hash, *stored->ComputeHash());
  auto audit = AuditVerify(*store_);
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->ok());
  // A refusing gate: no event, no move.
  m.gate = [](const Event&) -> Result<GateVerdict> { return Status::GateBlocked("eval too low"); };
  clock_.now += 1000000;
  auto refused = Promote(*store_, "prod", v_[2], m);
  EXPECT_EQ(refused.status().code(), Code::kGateBlocked);
  EXPECT_EQ(Live(), v_[1]);
  EXPECT_EQ(ReadEvents(*store_, "prod")->size(), 2u);
  // Events without checks keep the old canonical form (no "checks" member).
  EXPECT_FALSE(GetEvent(*store_, "prod", 1)->ToJson().contains("checks"));
}

}  // namespace
}  // namespace cairn
