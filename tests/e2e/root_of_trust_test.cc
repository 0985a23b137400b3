// End-to-end: the root of trust (docs/trust.md, "The root of trust") with the real binary — a
// 2-of-3 root approves trust and policy changes, an insider without root keys cannot change
// them, `audit verify --root` catches a store whose trust chain grew from another root, and
// the clock cases run under faketime (Debian's libfaketime).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include "cairn/snapshot.h"
#include "cairn/store.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;

constexpr const char* kRoot1 =
    "sha256:9ea7074c546e014951434902170201a9641a3821eab55945f0d7830ef6fc14b0";
constexpr const char* kRoot2 =
    "sha256:259a8c5ee1aab8f97c0ebd6fb3f0f37dbb32b999b5c75231e1b73ca0e749e4db";
constexpr const char* kRoot3 =
    "sha256:14c86c6b5c5df38508651191fa9cedecefc4e9bf363b98332c95380a4b754d0d";
constexpr const char* kFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

class RootE2E : public ::testing::Test {
 protected:
  RunResult Cairn(std::vector<std::string> args, RunOptions o = {}) {
    args.insert(args.begin(), {"--store", box_ / store_});
    if (!o.env.contains("CAIRN_ACTOR")) o.env["CAIRN_ACTOR"] = "tester@e2e";
    return RunCairn(args, o);
  }
  // Runs cairn with its clock moved by `offset` ("+25h", "-2d").
  RunResult CairnAt(const std::string& offset, std::vector<std::string> args) {
    RunOptions o;
    o.env["LD_PRELOAD"] = kFaketime;
    o.env["FAKETIME"] = offset;
    o.env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1";
    return Cairn(std::move(args), o);
  }
  void SetUpStore(int snapshots) {
    ASSERT_EQ(Cairn({"init"}).exit_code, 0);
    std::string rel = WriteMinimalRelease(box_, "rel-" + store_);
    for (int i = 0; i < snapshots; ++i) {
      box_.Write("rel-" + store_ + "/prompts/system.md",
                 "Release " + std::to_string(i) + " {{customer_name}}\n");
      auto r = Cairn({"snapshot", "create", rel, "-m", "r" + std::to_string(i), "-q"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ids_.push_back(r.out.substr(0, 64));
    }
  }
  // trust init with the three root keys, 2 of 3, approved by root1 and root2.
  void InitRoot() {
    auto r =
        Cairn({"trust", "init", "--root", keys_.Public("root1"), "--root", keys_.Public("root2"),
               "--root", keys_.Public("root3"), "--threshold", "2", "--key", keys_.Private("root1"),
               "--key", keys_.Private("root2"), "--reason", "the release board's root"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::vector<std::string> Keys(std::initializer_list<const char*> who) {
    std::vector<std::string> out;
    for (const char* w : who) {
      out.push_back("--key");
      out.push_back(keys_.Private(w));
    }
    return out;
  }
  static std::vector<std::string> Cat(std::vector<std::string> a,
                                      const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  Json AuditJson(int expected_exit, std::vector<std::string> extra = {}) {
    auto r = Cairn(Cat({"audit", "verify", "--json"}, extra));
    EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
    return r.out.empty() ? Json() : Json::parse(r.out);
  }

  Sandbox box_;
  TestKeys keys_{box_};
  std::string store_ = "store";
  std::vector<std::string> ids_;
};

TEST_F(RootE2E, ATrustChangeIsRefusedWithOneRootSignatureAndAcceptedWithTwo) {
  SetUpStore(0);
  InitRoot();
  std::vector<std::string> add = {"trust",  "add",     "alice",    keys_.Public("release"),
                                  "--role", "release", "--reason", "new release lead"};
  auto none = Cairn(add);
  EXPECT_EQ(none.exit_code, 7) << none.err;
  EXPECT_NE(none.err.find("needs the signatures of 2 of the 3 root keys"), std::string::npos)
      << none.err;
  auto one = Cairn(Cat(add, Keys({"root3"})));
  EXPECT_EQ(one.exit_code, 7) << one.err;
  EXPECT_NE(one.err.find("1 given"), std::string::npos) << one.err;
  auto list = Json::parse(Cairn({"trust", "list", "--json"}).out);
  ASSERT_EQ(list.size(), 3u);  // the three root keys, no alice
  for (const auto& e : list) EXPECT_EQ(e["roles"], Json::array({"root"}));
  auto two = Cairn(Cat(add, Keys({"root3", "root1"})));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_NE(two.out.find("approved by 2 root keys"), std::string::npos) << two.out;
  list = Json::parse(Cairn({"trust", "list", "--json"}).out);
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[3]["name"], "alice");
  // A key that is not a root key approves nothing.
  auto outsider = Cairn({"trust", "add", "bob", keys_.Public("ci"), "--role", "ci", "--reason", "x",
                         "--key", keys_.Private("release"), "--key", keys_.Private("root1")});
  EXPECT_EQ(outsider.exit_code, 2) << outsider.err;
  EXPECT_NE(outsider.err.find("not a root key"), std::string::npos) << outsider.err;
  Json audit = AuditJson(0, {"--root", kRoot1, "--root", kRoot2, "--root", kRoot3});
  EXPECT_TRUE(audit["rooted"]);
  EXPECT_TRUE(audit["root_pinned"]);
  EXPECT_EQ(audit["root"]["threshold"], 2);
}

// Finding 1: one insider trusted two keys of their own as release and met "2 release
// signers"; cleared a policy, promoted and re-set it. With a root neither is possible
// without the root keys, and the audit shows every approval.
TEST_F(RootE2E, AnInsiderWithoutRootKeysCanChangeNeitherTrustNorPolicy) {
  SetUpStore(2);
  InitRoot();
  auto set = Cairn(Cat({"policy", "set", "prod", "--require-signatures", "2", "--signer-role",
                        "release", "--reason", "two release signers"},
                       Keys({"root1", "root2"})));
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(Cairn({"trust", "add", "mine1", keys_.Public("release"), "--role", "release",
                   "--reason", "me"})
                .exit_code,
            7);
  auto clear = Cairn({"policy", "set", "prod", "--clear", "--reason", "quick fix"});
  EXPECT_EQ(clear.exit_code, 7) << clear.err;
  EXPECT_NE(clear.err.find("a policy change needs the signatures of 2"), std::string::npos)
      << clear.err;
  auto promote = Cairn({"promote", ids_[0], "--to", "prod", "--reason", "ship"});
  EXPECT_EQ(promote.exit_code, 7) << promote.err;  // the policy still holds
  auto policy_log = Json::parse(Cairn({"policy", "log", "--json"}).out);
  ASSERT_EQ(policy_log.size(), 1u);
  EXPECT_EQ(policy_log[0]["signatures"].size(), 2u);
  EXPECT_EQ(policy_log[0]["trust_seq"], 1);
}

// What the binary refuses, an editor of the database can still write: an unsigned policy
// event appended after the root (a re-chained "clear") is flagged by audit verify.
TEST_F(RootE2E, AnUnsignedPolicyChangeWrittenIntoTheDatabaseIsFlagged) {
  SetUpStore(0);
  ASSERT_EQ(
      Cairn({"policy", "set", "prod", "--require-pinned-models", "--reason", "before"}).exit_code,
      0);
  InitRoot();
  // Drop the root, write an unapproved policy change, put the root back: the chain bytes
  // are all valid, only the approval is missing.
  std::string root_event, root_record, trust_head;
  {
    StoreOpenOptions o;
    o.read_only = false;
    auto store = Store::Open(box_ / "store", o);
    ASSERT_TRUE(store.ok());
    Db& db = StoreInternal::db(**store);
    root_event = **db.Get(Table::kTrust, TrustEventKey(1));
    root_record = **db.Get(Table::kTrust, "root");
    trust_head = **db.Get(Table::kTrust, "head");
    Batch b(db);
    b.Delete(Table::kTrust, TrustEventKey(1));
    b.Delete(Table::kTrust, "root");
    b.Delete(Table::kTrust, "head");
    ASSERT_TRUE(db.Write(b, true).ok());
  }
  ASSERT_EQ(Cairn({"policy", "set", "prod", "--clear", "--reason", "sneaky"}).exit_code, 0);
  {
    StoreOpenOptions o;
    o.read_only = false;
    auto store = Store::Open(box_ / "store", o);
    ASSERT_TRUE(store.ok());
    Db& db = StoreInternal::db(**store);
    Batch b(db);
    b.Put(Table::kTrust, TrustEventKey(1), root_event);
    b.Put(Table::kTrust, "root", root_record);
    b.Put(Table::kTrust, "head", trust_head);
    ASSERT_TRUE(db.Write(b, true).ok());
  }
  Json audit = AuditJson(5);
  ASSERT_EQ(audit["problems"].size(), 1u) << audit.dump();
  EXPECT_EQ(audit["problems"][0]["chain"], "policy");
  EXPECT_EQ(audit["problems"][0]["seq"], 2);
  EXPECT_NE(audit["problems"][0]["message"].get<std::string>().find(
                "carries no root approval: an unsigned policy change"),
            std::string::npos)
      << audit.dump();
}

// A store whose whole trust chain was made afresh from a root of the insider's own keys
// passes a plain audit — and fails the one pinned to the real root.
TEST_F(RootE2E, AuditPinnedToTheRootCatchesATrustChainGrownFromAnotherRoot) {
  SetUpStore(0);
  auto r = Cairn({"trust", "init", "--root", keys_.Public("ci"), "--threshold", "1", "--key",
                  keys_.Private("ci"), "--reason", "my own root"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  AuditJson(0);
  Json pinned = AuditJson(5, {"--root", kRoot1, "--root", kRoot2, "--root", kRoot3});
  ASSERT_EQ(pinned["problems"].size(), 1u);
  EXPECT_NE(pinned["problems"][0]["message"].get<std::string>().find(
                "no root of this store has exactly the pinned keys"),
            std::string::npos);
  // A subset of the real keys is not the root either.
  store_ = "store2";
  SetUpStore(0);
  InitRoot();
  AuditJson(5, {"--root", kRoot1, "--root", kRoot2});
  AuditJson(0, {"--root", kRoot3, "--root", kRoot1, "--root", kRoot2});
}

TEST_F(RootE2E, AnUnrootedStoreIsReportedAsSuchAndAPinFailsIt) {
  SetUpStore(0);
  auto text = Cairn({"audit", "verify"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("unrooted: trust and policy changes need no signature"),
            std::string::npos)
      << text.out;
  Json j = AuditJson(5, {"--root", kRoot1});
  EXPECT_FALSE(j["rooted"]);
  EXPECT_NE(j["problems"][0]["message"].get<std::string>().find("the store has no root"),
            std::string::npos);
  // Root keys given to an unrooted store's change are refused, not ignored.
  auto keyed = Cairn(Cat({"trust", "add", "alice", keys_.Public("release"), "--role", "release"},
                         Keys({"root1"})));
  EXPECT_EQ(keyed.exit_code, 2) << keyed.err;
  EXPECT_NE(keyed.err.find("the store has no root"), std::string::npos);
}

TEST_F(RootE2E, ARotationNeedsTheOldRootAndTheNewOne) {
  SetUpStore(0);
  InitRoot();
  std::vector<std::string> rotate = {"trust",       "init",
                                     "--root",      keys_.Public("root3"),
                                     "--root",      keys_.Public("security"),
                                     "--threshold", "2",
                                     "--reason",    "rotate root1 and root2 out"};
  // The new keys alone: the old root did not approve.
  auto new_only = Cairn(Cat(rotate, Keys({"root3", "security"})));
  EXPECT_EQ(new_only.exit_code, 7) << new_only.err;
  EXPECT_NE(new_only.err.find("(the root of trust event #1)"), std::string::npos) << new_only.err;
  auto both = Cairn(Cat(rotate, Keys({"root3", "security", "root1"})));
  ASSERT_EQ(both.exit_code, 0) << both.err;
  // Now the new root approves: root1 no longer does.
  EXPECT_EQ(Cairn(Cat({"trust", "add", "alice", keys_.Public("release"), "--role", "release"},
                      Keys({"root1", "root2"})))
                .exit_code,
            2);
  EXPECT_EQ(Cairn(Cat({"trust", "add", "alice", keys_.Public("release"), "--role", "release"},
                      Keys({"root3", "security"})))
                .exit_code,
            0);
  // The first root still pins the store: the rotation was approved by it.
  AuditJson(0, {"--root", kRoot1, "--root", kRoot2, "--root", kRoot3});
}

// ---- signed moves (finding 1) ----

class MovesE2E : public RootE2E {
 protected:
  void TrustSigners() {
    for (auto [name, who, role] :
         {std::tuple{"rel-lead", "release", "release"}, std::tuple{"ci-bot", "ci", "ci"}}) {
      auto r = Cairn({"trust", "add", name, keys_.Public(who), "--role", role});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  Json LastEvent(const std::string& deployment) {
    auto log = Json::parse(Cairn({"log", deployment, "--json"}).out);
    return log.back();
  }
};

TEST_F(MovesE2E, ASignedMovesActorIsTheSignersTrustedName) {
  SetUpStore(2);
  TrustSigners();
  auto r = Cairn(
      {"promote", ids_[0], "--to", "prod", "--reason", "ship", "--key", keys_.Private("release")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json e = LastEvent("prod");
  EXPECT_EQ(e["actor"], "rel-lead");  // not CAIRN_ACTOR's tester@e2e
  EXPECT_EQ(e["signed_by"]["name"], "rel-lead");
  auto lie = Cairn({"--actor", "release-lead", "promote", ids_[1], "--to", "prod", "--reason",
                    "ship", "--key", keys_.Private("ci")});
  EXPECT_EQ(lie.exit_code, 2) << lie.err;
  EXPECT_NE(lie.err.find("a signed move's actor is its signer's trusted name, here \"ci-bot\""),
            std::string::npos)
      << lie.err;
  EXPECT_EQ(Json::parse(Cairn({"log", "prod", "--json"}).out).size(), 1u);
  AuditJson(0);
}

TEST_F(MovesE2E, RequireSignedMovesRefusesUnsignedAndWrongRoleMovesEvenForced) {
  SetUpStore(3);
  TrustSigners();
  ASSERT_EQ(Cairn({"policy", "set", "prod", "--require-signed-moves", "release", "--reason",
                   "every move signed"})
                .exit_code,
            0);
  auto unsigned_move = Cairn({"promote", ids_[0], "--to", "prod", "--reason", "ship"});
  EXPECT_EQ(unsigned_move.exit_code, 7) << unsigned_move.err;
  EXPECT_NE(unsigned_move.out.find("is not signed"), std::string::npos) << unsigned_move.out;
  auto wrong_role =
      Cairn({"promote", ids_[0], "--to", "prod", "--reason", "ship", "--key", keys_.Private("ci")});
  EXPECT_EQ(wrong_role.exit_code, 7) << wrong_role.err;
  auto overridden = Cairn({"promote", ids_[0], "--to", "prod", "--reason", "ship", "--override",
                           "require-signed-moves"});
  EXPECT_EQ(overridden.exit_code, 2) << overridden.err;
  for (int i : {0, 1}) {
    auto ok = Cairn({"promote", ids_[i], "--to", "prod", "--reason", "ship", "--key",
                     keys_.Private("release")});
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
  }
  auto forced = Cairn({"rollback", "prod", "--to", ids_[2], "--force", "--reason", "incident"});
  EXPECT_EQ(forced.exit_code, 7) << forced.err;
  EXPECT_NE(forced.err.find("--force does not lift this rule"), std::string::npos) << forced.err;
  auto rollback =
      Cairn({"rollback", "prod", "--reason", "incident", "--key", keys_.Private("release")});
  ASSERT_EQ(rollback.exit_code, 0) << rollback.err;
  Json e = LastEvent("prod");
  EXPECT_EQ(e["checks"].back()["rule"], "require-signed-moves");
  EXPECT_TRUE(e["checks"].back()["passed"]);
  EXPECT_EQ(e["policy_seq"], 1);
}

// Clear the policy, promote, set it again: the promote event names the policy it was gated
// by, and audit verify flags the window.
TEST_F(MovesE2E, AMoveInAWindowOfWeakerPolicyIsFlagged) {
  SetUpStore(2);
  TrustSigners();
  std::vector<std::string> set = {"policy", "set",           "prod",    "--require-signatures",
                                  "1",      "--signer-role", "release", "--reason",
                                  "gate"};
  ASSERT_EQ(Cairn(set).exit_code, 0);
  EXPECT_EQ(Cairn({"promote", ids_[0], "--to", "prod", "--reason", "ship"}).exit_code, 7);
  ASSERT_EQ(Cairn({"policy", "set", "prod", "--clear", "--reason", "quick"}).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "prod", "--reason", "ship"}).exit_code, 0);
  AuditJson(0);  // a policy relaxed for good is not a window
  ASSERT_EQ(Cairn(set).exit_code, 0);
  Json audit = AuditJson(5);
  ASSERT_EQ(audit["problems"].size(), 1u) << audit.dump();
  EXPECT_EQ(audit["problems"][0]["deployment"], "prod");
  EXPECT_EQ(audit["problems"][0]["seq"], 1);
  EXPECT_NE(audit["problems"][0]["message"].get<std::string>().find(
                "gated by policy event #2, weaker than the policy before it (#1) and after it "
                "(#3): require-signatures role release: 0 < 1"),
            std::string::npos)
      << audit.dump();
}

// ---- time you can audit (finding 2) ----

TEST_F(MovesE2E, AFutureDatedMoveIsFlaggedAndTheNextHonestMoveIsRefusedNotClamped) {
  SetUpStore(2);
  ASSERT_EQ(Cairn({"policy", "set", "prod", "--soak", "beta=24h", "--reason", "soak"}).exit_code,
            0);
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "beta", "--reason", "beta"}).exit_code, 0);
  auto early = Cairn({"promote", ids_[0], "--to", "prod", "--reason", "ship"});
  EXPECT_EQ(early.exit_code, 7) << early.err;  // not soaked
  // A clock 25 h ahead passes the soak at write time: nothing on this machine can tell...
  auto faked = CairnAt("+25h", {"promote", ids_[0], "--to", "prod", "--reason", "ship"});
  ASSERT_EQ(faked.exit_code, 0) << faked.err;
  // ...but the audit can, and the chain will not be bent to follow it.
  Json audit = AuditJson(5);
  ASSERT_GE(audit["problems"].size(), 1u);
  EXPECT_NE(audit["problems"][0]["message"].get<std::string>().find("in the future of this audit"),
            std::string::npos)
      << audit.dump();
  auto honest = Cairn({"promote", ids_[1], "--to", "prod", "--reason", "next"});
  EXPECT_EQ(honest.exit_code, 6) << honest.err;
  EXPECT_NE(honest.err.find("the clock went backwards"), std::string::npos) << honest.err;
  EXPECT_EQ(Json::parse(Cairn({"log", "prod", "--json"}).out).size(), 1u);
}

TEST_F(MovesE2E, AMoveOrAttestationDatedBeforeTheSnapshotExistedIsRefused) {
  SetUpStore(1);
  TrustSigners();
  auto move = CairnAt("-2d", {"promote", ids_[0], "--to", "beta", "--reason", "backdated"});
  EXPECT_EQ(move.exit_code, 6) << move.err;
  EXPECT_NE(move.err.find("a move cannot be dated before what it makes live"), std::string::npos)
      << move.err;
  auto attest = CairnAt("-2d", {"attest", ids_[0], "--eval", "golden", "--score", "0.9", "--key",
                                keys_.Private("ci")});
  EXPECT_EQ(attest.exit_code, 6) << attest.err;
  EXPECT_NE(attest.err.find("cannot predate what it is about"), std::string::npos) << attest.err;
}

// ---- honest evidence (findings 3 and 4) ----

class EvidenceE2E : public MovesE2E {
 protected:
  void Attest(const std::string& who, const std::string& score, const std::string& n,
              const std::string& dataset, const std::string& offset = "") {
    std::vector<std::string> args = {"attest",  ids_[0], "--eval", "golden",
                                     "--score", score,   "--key",  keys_.Private(who)};
    if (!n.empty()) args.insert(args.end(), {"--n", n});
    if (!dataset.empty()) args.insert(args.end(), {"--dataset", dataset});
    auto r = offset.empty() ? Cairn(args) : CairnAt(offset, args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  RunResult Promote() { return Cairn({"promote", ids_[0], "--to", "prod", "--reason", "ship"}); }
  const std::string kDataset = "sha256:" + std::string(64, 'a');
  const std::string kOther = "sha256:" + std::string(64, 'b');
};

TEST_F(EvidenceE2E, OnlyTheBoundDatasetRoleAndCaseCountCount) {
  SetUpStore(1);
  TrustSigners();
  ASSERT_EQ(Cairn({"policy", "set", "prod", "--min-eval", "golden=0.8", "--min-n", "100",
                   "--attester-role", "ci", "--eval-dataset", "golden=" + kDataset, "--reason",
                   "honest evidence"})
                .exit_code,
            0);
  Attest("release", "1", "1", kDataset);  // a perfect score on one case, by the release key
  Attest("ci", "1", "500", kOther);       // the wrong dataset
  Attest("ci", "1", "50", kDataset);      // too few cases
  auto blocked = Promote();
  EXPECT_EQ(blocked.exit_code, 7) << blocked.err;
  for (const char* why :
       {"by a key without role ci", "on another dataset", "over fewer than 100 cases"}) {
    EXPECT_NE(blocked.out.find(why), std::string::npos) << why << "\n" << blocked.out;
  }
  Attest("ci", "0.85", "1200", kDataset);
  auto passed = Promote();
  EXPECT_EQ(passed.exit_code, 0) << passed.out << passed.err;
}

TEST_F(EvidenceE2E, NewestIsTheStoresOrderNotTheAttestersClock) {
  SetUpStore(1);
  TrustSigners();
  ASSERT_EQ(
      Cairn({"policy", "set", "prod", "--min-eval", "golden=0.8", "--reason", "gate"}).exit_code,
      0);
  Attest("ci", "0.95", "100", kDataset, "+365d");  // dated a year ahead
  Attest("ci", "0.5", "100", kDataset);            // the honest run, recorded later
  auto r = Promote();
  EXPECT_EQ(r.exit_code, 7) << r.out;
  EXPECT_NE(r.out.find("0.5 < 0.8"), std::string::npos) << r.out;
}

// Anyone with a trusted key could attest the live snapshot low, so that any candidate's
// "drop" vanished; with --attester-role only CI's baseline counts.
TEST_F(EvidenceE2E, AnAttesterWithoutTheRoleCannotZeroTheLiveBaseline) {
  SetUpStore(2);
  TrustSigners();
  ASSERT_EQ(Cairn({"policy", "set", "prod", "--max-eval-drop", "golden=0.05", "--attester-role",
                   "ci", "--reason", "no regressions"})
                .exit_code,
            0);
  // Attest() and Promote() work on ids_[0]: first the live snapshot, then the candidate.
  std::string live = ids_[0];
  Attest("ci", "0.9", "100", kDataset);
  ASSERT_EQ(Cairn({"promote", live, "--to", "prod", "--reason", "v1"}).exit_code, 0);
  Attest("release", "0", "100", kDataset);  // the live snapshot "scored 0", by the release key
  ids_[0] = ids_[1];
  Attest("ci", "0.7", "100", kDataset);  // the candidate really dropped 0.2
  auto r = Promote();
  EXPECT_EQ(r.exit_code, 7) << r.out;
  EXPECT_NE(r.out.find("0.9 -> 0.7: drop 0.2 > 0.05"), std::string::npos) << r.out;
}

TEST_F(EvidenceE2E, AuditFlagsAnAttestationDatedInTheFuture) {
  SetUpStore(1);
  TrustSigners();
  Attest("ci", "0.9", "100", kDataset);
  AuditJson(0);
  Attest("ci", "0.95", "100", kDataset, "+365d");
  Json audit = AuditJson(5);
  ASSERT_EQ(audit["problems"].size(), 1u) << audit.dump();
  EXPECT_EQ(audit["problems"][0]["chain"], "attestations");
  EXPECT_NE(audit["problems"][0]["message"].get<std::string>().find("in the future of this audit"),
            std::string::npos);
  EXPECT_EQ(audit["attestations"], 2);
}

TEST_F(EvidenceE2E, ARevokedAttestersNewerResultBlocksInsteadOfVanishing) {
  SetUpStore(1);
  TrustSigners();
  ASSERT_EQ(Cairn({"trust", "add", "ci-two", keys_.Public("security"), "--role", "ci"}).exit_code,
            0);
  ASSERT_EQ(
      Cairn({"policy", "set", "prod", "--min-eval", "golden=0.8", "--reason", "gate"}).exit_code,
      0);
  Attest("ci", "0.9", "100", kDataset);        // older, passing
  Attest("security", "0.6", "100", kDataset);  // newer, failing
  ASSERT_EQ(Cairn({"trust", "revoke", "ci-two", "--reason", "leaked"}).exit_code, 0);
  auto r = Promote();
  EXPECT_EQ(r.exit_code, 7) << r.out;
  EXPECT_NE(r.out.find("is by a key revoked since: re-run the eval"), std::string::npos) << r.out;
}

TEST_F(EvidenceE2E, OneKeyUnderTwoRolesMeetsOneSignatureRequirementOnly) {
  SetUpStore(1);
  ASSERT_EQ(
      Cairn({"trust", "add", "both", keys_.Public("release"), "--role", "release", "--role", "ci"})
          .exit_code,
      0);
  ASSERT_EQ(Cairn({"trust", "add", "ci-bot", keys_.Public("ci"), "--role", "ci"}).exit_code, 0);
  ASSERT_EQ(Cairn({"policy", "set", "prod", "--require-signatures", "1", "--signer-role", "release",
                   "--require-signatures", "1", "--signer-role", "ci", "--reason", "two people"})
                .exit_code,
            0);
  ASSERT_EQ(Cairn({"sign", ids_[0], "--key", keys_.Private("release")}).exit_code, 0);
  auto one = Promote();
  EXPECT_EQ(one.exit_code, 7) << one.out;
  EXPECT_NE(one.out.find("counted for another requirement"), std::string::npos) << one.out;
  ASSERT_EQ(Cairn({"sign", ids_[0], "--key", keys_.Private("ci")}).exit_code, 0);
  auto two = Promote();
  EXPECT_EQ(two.exit_code, 0) << two.out << two.err;
}

// ---- revocation and derived records in the audit (finding 5) ----

TEST_F(MovesE2E, AuditFlagsMovesSignedAfterAKeyWasCompromisedAndSaysRevokedLater) {
  SetUpStore(2);
  TrustSigners();
  ASSERT_EQ(
      Cairn({"promote", ids_[0], "--to", "prod", "--reason", "ship", "--key", keys_.Private("ci")})
          .exit_code,
      0);
  ASSERT_EQ(Cairn({"trust", "revoke", "ci-bot", "--reason", "rotated"}).exit_code, 0);
  auto text = Cairn({"audit", "verify"});
  EXPECT_EQ(text.exit_code, 0) << text.out;
  EXPECT_NE(text.out.find("prod: event #1: signed by ci-bot"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("valid, key revoked later (trust event #3)"), std::string::npos)
      << text.out;
  // Another store, the same story, but the key was known stolen before it signed.
  store_ = "store2";
  SetUpStore(1);
  TrustSigners();
  ASSERT_EQ(Cairn({"promote", ids_.back(), "--to", "prod", "--reason", "ship", "--key",
                   keys_.Private("ci")})
                .exit_code,
            0);
  ASSERT_EQ(Cairn({"trust", "revoke", "ci-bot", "--reason", "stolen", "--compromised-since",
                   "2020-01-01T00:00:00Z"})
                .exit_code,
            0);
  Json audit = AuditJson(5);
  ASSERT_EQ(audit["problems"].size(), 1u) << audit.dump();
  EXPECT_NE(audit["problems"][0]["message"].get<std::string>().find(
                "after the key was compromised (since 2020-01-01T00:00:00.000000Z"),
            std::string::npos)
      << audit.dump();
}

TEST_F(MovesE2E, AuditFlagsSignaturesAndAttestationsMadeAfterAKeyWasCompromised) {
  SetUpStore(1);
  TrustSigners();
  ASSERT_EQ(Cairn({"sign", ids_[0], "--key", keys_.Private("ci")}).exit_code, 0);
  ASSERT_EQ(
      Cairn({"attest", ids_[0], "--eval", "golden", "--score", "0.9", "--key", keys_.Private("ci")})
          .exit_code,
      0);
  ASSERT_EQ(Cairn({"trust", "revoke", "ci-bot", "--reason", "lost in 2025", "--compromised-since",
                   "2099-01-01 00:00"})
                .exit_code,
            2);  // not in the future
  ASSERT_EQ(Cairn({"trust", "revoke", "ci-bot", "--reason", "lost in 2025", "--compromised-since",
                   "2025-06-01 00:00"})
                .exit_code,
            0);
  Json audit = AuditJson(5);
  ASSERT_EQ(audit["problems"].size(), 2u) << audit.dump();
  std::string all = audit["problems"].dump();
  EXPECT_NE(all.find("attested at"), std::string::npos) << all;
  EXPECT_NE(all.find("signature of snapshot"), std::string::npos) << all;
}

TEST_F(MovesE2E, AuditRebuildsTheLiveHistoryThatSoakAndRollbackRead) {
  SetUpStore(2);
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "beta", "--reason", "a"}).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", ids_[1], "--to", "beta", "--reason", "b"}).exit_code, 0);
  ASSERT_EQ(Cairn({"rollback", "beta", "--reason", "bad"}).exit_code, 0);
  AuditJson(0);
  // Forget that ids_[1] was rolled back on beta (what soak reads to refuse it).
  {
    StoreOpenOptions o;
    o.read_only = false;
    auto store = Store::Open(box_ / "store", o);
    ASSERT_TRUE(store.ok());
    Db& db = StoreInternal::db(**store);
    auto id = SnapshotId::Parse(ids_[1]);
    ASSERT_TRUE(id.ok());
    std::string key = LiveHistoryKey("beta", *id);
    auto value = db.Get(Table::kLiveHistory, key);
    ASSERT_TRUE(value.ok() && value->has_value());
    std::string forged = **value;
    for (size_t i = 8; i < 16 && i < forged.size(); ++i) forged[i] = 0;  // rolled-back seq 0
    Batch b(db);
    b.Put(Table::kLiveHistory, key, forged);
    ASSERT_TRUE(db.Write(b, true).ok());
  }
  Json audit = AuditJson(5);
  ASSERT_EQ(audit["problems"].size(), 1u) << audit.dump();
  EXPECT_NE(audit["problems"][0]["message"].get<std::string>().find(
                "the index soak and rollback read disagrees with the events"),
            std::string::npos)
      << audit.dump();
}

// Issue 14, finding 4: the text views show what --json shows about a move's evidence.
TEST_F(MovesE2E, LogAndStatusShowOverridesForcedMovesAndSigners) {
  SetUpStore(3);
  TrustSigners();
  ASSERT_EQ(
      Cairn({"policy", "set", "prod", "--min-eval", "golden=0.8", "--reason", "gate"}).exit_code,
      0);
  auto r = Cairn({"promote", ids_[0], "--to", "prod", "--reason", "emergency", "--override",
                  "min-eval", "--key", keys_.Private("release")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto log = Cairn({"log", "prod"});
  EXPECT_NE(log.out.find("[override: min-eval]  [signed by rel-lead (sha256:20fb4799fd86355f)]"),
            std::string::npos)
      << log.out;
  auto status = Cairn({"status"});
  EXPECT_NE(status.out.find("[override: min-eval]"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("[signed by rel-lead"), std::string::npos) << status.out;
  ASSERT_EQ(Cairn({"rollback", "prod", "--to", ids_[2], "--force", "--reason", "r"}).exit_code, 0);
  status = Cairn({"status"});
  EXPECT_NE(status.out.find("[forced]"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("[signed by"), std::string::npos) << status.out;  // unsigned
}

}  // namespace
}  // namespace cairn::testing
