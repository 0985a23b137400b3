// The trust list, its audited chain, and signed deployment events.
#include <gtest/gtest.h>

#include "deploy/deployment_records.h"
#include "support/signing_support.h"
#include "trust/trust_records.h"

namespace cairn {
namespace {

class TrustTest : public testing::SignedStoreTest {
 protected:
  Result<Event> PromoteV(int i, const PrivateKey* key = nullptr) {
    clock_.now += 1000000;
    MoveOptions m;
    m.actor = "alice@test";
    m.reason = "ship";
    m.key = key;
    return Promote(*store_, "prod", v_[i], m);
  }
  AuditReport Audit() {
    auto r = AuditVerify(*store_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AuditReport{};
  }
  // Rewrites one stored event (and the pointer, when it is the last one) with `edit`.
  void EditEvent(uint64_t seq, const std::function<void(Json&)>& edit, bool pointer_too) {
    std::string bytes = Get(Table::kEvents, EventKey("prod", seq));
    Json j = Json::parse(bytes);
    edit(j);
    std::string edited = *CanonicalJson(j);
    Put(Table::kEvents, EventKey("prod", seq), edited);
    if (pointer_too) Put(Table::kDeployments, "prod", edited);
  }
};

// ---- the trust list ----

TEST_F(TrustTest, AddListAndRevokeAreChainedEvents) {
  auto a = Trust("alice", release_, {"release", "ci", "release"});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->seq, 1u);
  EXPECT_FALSE(a->prev.has_value());
  EXPECT_EQ(a->roles, (std::vector<std::string>{"ci", "release"})) << "sorted, unique";
  EXPECT_EQ(a->key_id, release_.id());
  auto b = Trust("bob", ci_, {"ci"});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b->prev, a->hash);
  EXPECT_EQ(b->hash, *b->ComputeHash());
  auto r = Revoke("bob");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->action, TrustAction::kRevoke);
  EXPECT_EQ(r->roles, std::vector<std::string>{"ci"});
  EXPECT_EQ(*r->prev, b->hash);

  auto state = TrustState::Load(*store_);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->head_seq(), 3u);
  ASSERT_EQ(state->entries().size(), 2u);
  EXPECT_EQ(state->entries()[0].name, "alice");
  EXPECT_FALSE(state->entries()[0].revoked());
  EXPECT_TRUE(state->entries()[1].revoked());
  EXPECT_EQ(state->entries()[1].revocation->reason, "lost laptop");
  EXPECT_EQ(state->StatusOf(release_.id()), KeyTrust::kTrusted);
  EXPECT_EQ(state->StatusOf(ci_.id()), KeyTrust::kRevoked);
  EXPECT_EQ(state->StatusOf(outsider_.id()), KeyTrust::kUnknown);
  EXPECT_TRUE(state->RolesOf(ci_.id()).empty()) << "a revoked key holds no role";
  auto events = ReadTrustEvents(*store_);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 3u);
  EXPECT_TRUE(Audit().ok());
  EXPECT_EQ(Audit().trust_events, 3u);
}

TEST_F(TrustTest, AddingANameThatExistsIsRefusedEvenAfterRevocation) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  auto dup = Trust("alice", ci_, {"ci"});
  EXPECT_EQ(dup.status().code(), Code::kConflict);
  EXPECT_NE(dup.status().message().find("never reused"), std::string::npos);
  ASSERT_TRUE(Revoke("alice").ok());
  EXPECT_EQ(Trust("alice", ci_, {"ci"}).status().code(), Code::kConflict);
  EXPECT_EQ(ReadTrustEvents(*store_)->size(), 2u) << "refusals write nothing";
}

TEST_F(TrustTest, ARevokedKeyStaysRevokedUnderANewName) {
  ASSERT_TRUE(Trust("bob", ci_, {"ci"}).ok());
  ASSERT_TRUE(Revoke("bob", "compromised").ok());
  auto again = Trust("bob-new", ci_, {"ci"});
  EXPECT_EQ(again.status().code(), Code::kConflict);
  EXPECT_NE(again.status().message().find("compromised"), std::string::npos);
  EXPECT_EQ(TrustState::Load(*store_)->StatusOf(ci_.id()), KeyTrust::kRevoked);
}

TEST_F(TrustTest, RevokingOneNameRevokesTheKeyUnderEveryName) {
  ASSERT_TRUE(Trust("bob", ci_, {"ci"}).ok());
  ASSERT_TRUE(Trust("bob-release", ci_, {"release"}).ok());
  ASSERT_TRUE(Revoke("bob-release").ok());
  auto state = TrustState::Load(*store_);
  EXPECT_TRUE(state->Find("bob")->revoked());
  EXPECT_EQ(state->Find("bob")->revocation->name, "bob-release");
  EXPECT_EQ(Revoke("bob").status().code(), Code::kConflict) << "already revoked";
}

TEST_F(TrustTest, BadNamesRolesAndMissingReasonsAreRefused) {
  EXPECT_EQ(Trust("Alice", release_, {"release"}).status().code(), Code::kUsage);
  EXPECT_EQ(Trust("alice", release_, {}).status().code(), Code::kUsage);
  EXPECT_EQ(Trust("alice", release_, {"Release"}).status().code(), Code::kUsage);
  EXPECT_EQ(Trust("alice", release_, {"re lease"}).status().code(), Code::kUsage);
  EXPECT_EQ(Trust("alice", release_, {std::string(33, 'a')}).status().code(), Code::kUsage);
  EXPECT_TRUE(Revoke("nobody").status().IsNotFound());
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  EXPECT_EQ(Revoke("alice", "").status().code(), Code::kUsage);
  EXPECT_EQ(ReadTrustEvents(*store_)->size(), 1u);
}

TEST_F(TrustTest, ATrustChangeOnAClockThatWentBackwardsIsRefused) {
  auto a = Trust("alice", release_, {"release"});
  ASSERT_TRUE(a.ok());
  clock_.now -= 3600000000;
  auto b = AddTrust(*store_, "bob", ci_.public_key(), {"ci"}, {"x", "", {}, {}});
  ASSERT_EQ(b.status().code(), Code::kConflict);
  EXPECT_NE(b.status().message().find("the clock went backwards"), std::string::npos);
  EXPECT_EQ(ReadTrustEvents(*store_)->size(), 1u);
  EXPECT_TRUE(Audit().ok());
}

// ---- audit of the trust chain ----

TEST_F(TrustTest, AuditCatchesATrustEventEditedInTheDatabase) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(Trust("bob", ci_, {"ci"}).ok());
  std::string bytes = Get(Table::kTrust, TrustEventKey(1));
  bytes.replace(bytes.find("[\"release\"]"), 11, "[\"security\"]");
  Put(Table::kTrust, TrustEventKey(1), bytes);
  auto report = Audit();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].chain, AuditChain::kTrust);
  EXPECT_EQ(report.problems[0].seq, 1u);
  EXPECT_NE(report.problems[0].message.find("altered"), std::string::npos);
}

TEST_F(TrustTest, AuditCatchesANameRecordGrantedARoleDirectly) {
  ASSERT_TRUE(Trust("alice", release_, {"ci"}).ok());
  // Forge a consistent-looking add event with more roles and store it as the record only.
  auto state = TrustState::Load(*store_);
  TrustEvent forged = state->Find("alice")->added;
  forged.roles = {"ci", "release"};
  forged.hash = *forged.ComputeHash();
  Put(Table::kTrust, TrustNameKey("alice"), *CanonicalJson(forged.ToJson()));
  EXPECT_EQ(TrustState::Load(*store_)->RolesOf(release_.id()).size(), 2u) << "the forgery took";
  auto report = Audit();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].chain, AuditChain::kTrust);
  EXPECT_NE(report.problems[0].message.find("differs"), std::string::npos);
}

TEST_F(TrustTest, AuditCatchesADeletedRevocationAndACutChain) {
  ASSERT_TRUE(Trust("bob", ci_, {"ci"}).ok());
  ASSERT_TRUE(Revoke("bob").ok());
  Delete(Table::kTrust, TrustRevokedKey(ci_.id()));
  EXPECT_EQ(TrustState::Load(*store_)->StatusOf(ci_.id()), KeyTrust::kTrusted);
  auto report = Audit();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].message.find("missing"), std::string::npos);

  // Cutting the revocation event off the chain (and the head back to the add) is caught too.
  Put(Table::kTrust, TrustRevokedKey(ci_.id()), Get(Table::kTrust, TrustEventKey(2)));
  ASSERT_TRUE(Audit().ok());
  Delete(Table::kTrust, TrustEventKey(2));
  report = Audit();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].chain, AuditChain::kTrust);
  Put(Table::kTrust, kTrustHeadKey, Get(Table::kTrust, TrustEventKey(1)));
  report = Audit();
  ASSERT_EQ(report.problems.size(), 1u) << "the revocation record has no event now";
}

TEST_F(TrustTest, AuditCatchesARewrittenChainThatBreaksTheRules) {
  // A whole chain rewritten consistently (hashes and prev recomputed) that adds a key after
  // its revocation still breaks a rule the commands enforce.
  ASSERT_TRUE(Trust("bob", ci_, {"ci"}).ok());
  ASSERT_TRUE(Revoke("bob").ok());
  auto events = *ReadTrustEvents(*store_);
  TrustEvent readd = events[0];
  readd.seq = 3;
  readd.name = "bob2";
  readd.prev = events[1].hash;
  readd.time_micros = events[1].time_micros + 1;
  readd.hash = *readd.ComputeHash();
  std::string bytes = *CanonicalJson(readd.ToJson());
  Put(Table::kTrust, TrustEventKey(3), bytes);
  Put(Table::kTrust, kTrustHeadKey, bytes);
  Put(Table::kTrust, TrustNameKey("bob2"), bytes);
  auto report = Audit();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].seq, 3u);
  EXPECT_NE(report.problems[0].message.find("revoked before"), std::string::npos);
}

// ---- signed events ----

TEST_F(TrustTest, UnsignedEventsHashAsBefore) {
  auto e = PromoteV(0);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->signed_by.has_value());
  EXPECT_FALSE(e->signature.has_value());
  Json hashed = e->ToJson(false);
  EXPECT_FALSE(hashed.contains("signed_by"));
  EXPECT_FALSE(hashed.contains("signature"));
  // The pre-signing field set, exactly.
  std::vector<std::string> fields;
  for (const auto& [k, v] : hashed.items()) fields.push_back(k);
  EXPECT_EQ(fields, (std::vector<std::string>{"action", "actor", "below", "deployment", "from",
                                              "prev", "reason", "seq", "time", "to", "top"}));
  EXPECT_EQ(e->hash, Digest::Of(*CanonicalJson(hashed)));
}

TEST_F(TrustTest, SignedEventsVerifyInTheAudit) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  auto e1 = PromoteV(0, &release_);
  ASSERT_TRUE(e1.ok()) << e1.status().ToString();
  ASSERT_TRUE(e1->signed_by.has_value());
  EXPECT_EQ(e1->signed_by->key_id, release_.id());
  EXPECT_EQ(e1->signed_by->trust_seq, 1u);
  ASSERT_TRUE(e1->signature.has_value());
  EXPECT_TRUE(
      VerifySignature(release_.public_key(), EventSigningMessage(e1->hash), e1->signature->sig));
  EXPECT_TRUE(e1->ToJson(false).contains("signed_by")) << "the signer is covered by the hash";
  EXPECT_FALSE(e1->ToJson(false).contains("signature"));
  ASSERT_TRUE(PromoteV(1).ok()) << "unsigned events stay valid next to signed ones";
  clock_.now += 1000000;
  RollbackOptions r;
  r.move.actor = "oncall@test";
  r.move.reason = "incident";
  r.move.key = &release_;
  ASSERT_TRUE(Rollback(*store_, "prod", r).ok());
  auto report = Audit();
  for (const auto& p : report.problems) ADD_FAILURE() << p.seq << ": " << p.message;
  ASSERT_EQ(report.signatures.size(), 2u);
  EXPECT_EQ(report.signatures[0].status, SignatureStatus::kValid);
  EXPECT_EQ(report.signatures[0].names, std::vector<std::string>{"alice"});
  EXPECT_EQ(report.signatures[1].seq, 3u);
}

TEST_F(TrustTest, ASignatureMadeBeforeItsKeyWasRevokedStaysValid) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(PromoteV(0, &release_).ok());
  ASSERT_TRUE(Revoke("alice").ok());
  auto report = Audit();
  EXPECT_TRUE(report.ok());
  ASSERT_EQ(report.signatures.size(), 1u);
  EXPECT_EQ(report.signatures[0].status, SignatureStatus::kValid);
  EXPECT_NE(report.signatures[0].detail.find("revoked later"), std::string::npos);
}

TEST_F(TrustTest, UntrustedAndRevokedKeysMayNotSignAMove) {
  auto unknown = PromoteV(0, &outsider_);
  EXPECT_EQ(unknown.status().code(), Code::kConflict);
  EXPECT_NE(unknown.status().message().find("not in the trust list"), std::string::npos);
  ASSERT_TRUE(Trust("bob", ci_, {"ci"}).ok());
  ASSERT_TRUE(Revoke("bob").ok());
  EXPECT_EQ(PromoteV(0, &ci_).status().code(), Code::kConflict);
  EXPECT_TRUE(GetDeployment(*store_, "prod").status().IsNotFound()) << "nothing changed";
}

TEST_F(TrustTest, ATamperedEventSignatureIsCaught) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(PromoteV(0, &release_).ok());
  ASSERT_TRUE(PromoteV(1, &release_).ok());
  EditEvent(
      1,
      [](Json& j) {
        std::string sig = j["signature"]["sig"];
        sig[10] = sig[10] == 'a' ? 'b' : 'a';
        j["signature"]["sig"] = sig;
      },
      false);
  auto report = Audit();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].seq, 1u);
  EXPECT_NE(report.problems[0].message.find("bad"), std::string::npos);
  ASSERT_EQ(report.signatures.size(), 2u);
  EXPECT_EQ(report.signatures[0].status, SignatureStatus::kBad);
  EXPECT_EQ(report.signatures[1].status, SignatureStatus::kValid);
}

TEST_F(TrustTest, AStrippedOrSwappedEventSignatureIsCaught) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(Trust("bob", ci_, {"ci"}).ok());
  ASSERT_TRUE(PromoteV(0, &release_).ok());
  EditEvent(
      1, [](Json& j) { j.erase("signature"); }, true);
  auto stripped = Audit();
  ASSERT_EQ(stripped.problems.size(), 1u);
  EXPECT_NE(stripped.problems[0].message.find("removed"), std::string::npos);

  // A valid signature by another trusted key over the same hash does not match the signer
  // the hashed part declares.
  auto e = GetEvent(*store_, "prod", 1);
  ASSERT_TRUE(e.ok());
  Signature other = *ci_.Sign(EventSigningMessage(e->hash));
  EditEvent(
      1,
      [&](Json& j) {
        j["signature"] = {{"key_id", ci_.id().ToString()}, {"sig", other.Hex()}};
      },
      true);
  auto swapped = Audit();
  ASSERT_EQ(swapped.problems.size(), 1u);
  EXPECT_NE(swapped.problems[0].message.find("declares signer"), std::string::npos);

  // Declaring another signer changes the hash.
  EditEvent(
      1, [&](Json& j) { j["signed_by"]["key_id"] = ci_.id().ToString(); }, true);
  auto redeclared = Audit();
  ASSERT_EQ(redeclared.problems.size(), 1u);
  EXPECT_NE(redeclared.problems[0].message.find("altered"), std::string::npos);
}

TEST_F(TrustTest, AnEventClaimingATrustStateBeforeTheRevocationIsCaught) {
  // An event signed after a revocation but claiming an older trust_seq must rehash; and
  // one that names a trust event that does not exist is refused.
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(PromoteV(0, &release_).ok());
  auto e = *GetEvent(*store_, "prod", 1);
  e.signed_by->trust_seq = 9;
  e.hash = *e.ComputeHash();
  e.signature->sig = *release_.Sign(EventSigningMessage(e.hash));
  std::string bytes = *CanonicalJson(e.ToJson());
  Put(Table::kEvents, EventKey("prod", 1), bytes);
  Put(Table::kDeployments, "prod", bytes);
  auto report = Audit();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].message.find("does not exist"), std::string::npos);
}

}  // namespace
}  // namespace cairn
