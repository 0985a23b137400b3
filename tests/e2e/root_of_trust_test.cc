// End-to-end: the root of trust (docs/trust.md, "The root of trust") with the real binary — a
// 2-of-3 root approves trust and policy changes, an insider without root keys cannot change
// them, `audit verify --root` catches a store whose trust chain grew from another root, and
// the clock cases run under faketime (Debian's libfaketime).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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
    auto r = Cairn({"trust", "init", "--root", keys_.Public("root1"), "--root",
                    keys_.Public("root2"), "--root", keys_.Public("root3"), "--threshold", "2",
                    "--key", keys_.Private("root1"), "--key", keys_.Private("root2"), "--reason",
                    "the release board's root"});
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
  std::vector<std::string> add = {"trust",   "add",     "alice",           keys_.Public("release"),
                                  "--role",  "release", "--reason",        "new release lead"};
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
  auto outsider = Cairn({"trust", "add", "bob", keys_.Public("ci"), "--role", "ci", "--reason",
                         "x", "--key", keys_.Private("release"), "--key", keys_.Private("root1")});
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
  ASSERT_EQ(Cairn({"policy", "set", "prod", "--require-pinned-models", "--reason", "before"})
                .exit_code,
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
  std::vector<std::string> rotate = {"trust",  "init",  "--root",   keys_.Public("root3"),
                                     "--root", keys_.Public("security"), "--threshold", "2",
                                     "--reason", "rotate root1 and root2 out"};
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

}  // namespace
}  // namespace cairn::testing
