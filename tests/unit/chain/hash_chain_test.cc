// The one hash chain shared by deployments, trust and policy: links, and a replay that
// finds each kind of break, shown on the policy chain through its public API.
#include "chain/hash_chain.h"

#include <gtest/gtest.h>

#include "cairn/policy.h"
#include "cairn/store.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

struct TestEvent {
  uint64_t seq = 0;
  int64_t time_micros = 0;
  std::optional<Digest> prev;
  Digest hash;
};

TEST(HashChain, LinksNumberFromOneAndAClockThatWentBackIsRefused) {
  TestEvent first;
  ASSERT_TRUE(LinkAfter<TestEvent>(nullptr, 1000, &first, "event").ok());
  EXPECT_EQ(first.seq, 1u);
  EXPECT_FALSE(first.prev.has_value());
  EXPECT_EQ(first.time_micros, 1000);
  first.hash = Digest::Of("first");
  TestEvent second;
  Status back = LinkAfter(&first, 400, &second, "event");  // the clock went back
  EXPECT_EQ(back.code(), Code::kConflict);
  EXPECT_NE(back.message().find("the clock went backwards"), std::string::npos);
  ASSERT_TRUE(LinkAfter(&first, 1000, &second, "event").ok());  // the same instant is fine
  EXPECT_EQ(second.seq, 2u);
  EXPECT_EQ(*second.prev, first.hash);
  EXPECT_EQ(second.time_micros, 1000);
  TestEvent third;
  ASSERT_TRUE(LinkAfter(&second, 5000, &third, "event").ok());
  EXPECT_EQ(third.time_micros, 5000);
}

class PolicyChainBreaks : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Init(box_ / "store");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    for (const char* d : {"prod", "beta", "dev"}) {
      Policy p;
      p.deployment = d;
      p.require_pinned_models = true;
      ASSERT_TRUE(SetPolicy(*store_, p, "alice", "CX-1").ok());
    }
  }
  Db& db() { return StoreInternal::db(*store_); }
  std::string Get(const std::string& key) { return *db().Get(Table::kPolicy, key).value(); }
  void Put(const std::string& key, const std::string& value) {
    Batch b(db());
    b.Put(Table::kPolicy, key, value);
    ASSERT_TRUE(db().Write(b, true).ok());
  }
  void Delete(const std::string& key) {
    Batch b(db());
    b.Delete(Table::kPolicy, key);
    ASSERT_TRUE(db().Write(b, true).ok());
  }
  std::string Problem() {
    auto audit = AuditPolicyChain(*store_, {}, 0);
    EXPECT_TRUE(audit.ok());
    return audit->problem ? audit->problem->message : "";
  }

  testing::Sandbox box_;
  std::unique_ptr<Store> store_;
};

TEST_F(PolicyChainBreaks, AnIntactChainHasNoProblem) { EXPECT_EQ(Problem(), ""); }

TEST_F(PolicyChainBreaks, AGapIsFound) {
  Delete(PolicyEventKey(2));
  EXPECT_NE(Problem().find("gap or a duplicate"), std::string::npos) << Problem();
}

TEST_F(PolicyChainBreaks, AnEventCopiedUnderAnotherSeqIsFound) {
  Put(PolicyEventKey(2), Get(PolicyEventKey(3)));
  EXPECT_NE(Problem().find("gap or a duplicate"), std::string::npos) << Problem();
}

TEST_F(PolicyChainBreaks, ACutChainIsFoundByItsHead) {
  Delete(PolicyEventKey(3));
  EXPECT_NE(Problem().find("the head is not a copy of the last policy event (#2)"),
            std::string::npos)
      << Problem();
}

TEST_F(PolicyChainBreaks, AMissingHeadIsFound) {
  Delete(std::string(kPolicyHeadKey));
  EXPECT_NE(Problem().find("head (the copy of the last event) is missing"), std::string::npos)
      << Problem();
}

TEST_F(PolicyChainBreaks, DerivedRecordsMustBeByteCopies) {
  Put(PolicyRecordKey("beta"), Get(PolicyRecordKey("prod")));
  EXPECT_NE(Problem().find("differs from the policy event that wrote it"), std::string::npos)
      << Problem();
  Put(PolicyRecordKey("beta"), Get(PolicyEventKey(2)));
  EXPECT_EQ(Problem(), "");
  Put(PolicyRecordKey("staging"), Get(PolicyEventKey(2)));
  EXPECT_NE(Problem().find("exists that no policy event wrote"), std::string::npos) << Problem();
  Delete(PolicyRecordKey("staging"));
  Delete(PolicyRecordKey("dev"));
  EXPECT_NE(Problem().find("1 policy record(s) the policy events wrote are missing"),
            std::string::npos)
      << Problem();
}

}  // namespace
}  // namespace cairn
