// End-to-end: keys, trust, signatures and signed events with the real binary. Faults are
// planted by editing the database between commands, the way an attacker with file access
// would.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cairn/store.h"
#include "store/store_internal.h"
#include "support/sandbox.h"
#include "trust/signature_records.h"
#include "trust/trust_records.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;

constexpr const char* kReleaseKeyId =
    "sha256:20fb4799fd86355f2b5ca9c1d5ccd65815f2fe24532994ec93130628649d06da";

class TrustE2E : public ::testing::Test {
 protected:
  void SetUp() override {}
  std::string Key(const std::string& who) { return keys_.Private(who); }
  std::string Pub(const std::string& who) { return keys_.Public(who); }
  RunResult Cairn(std::vector<std::string> args, RunOptions o = {}) {
    args.insert(args.begin(), {"--store", box_ / "store"});
    o.env["CAIRN_ACTOR"] = "tester@e2e";
    return RunCairn(args, o);
  }
  void SetUpStore(int snapshots) {
    ASSERT_EQ(Cairn({"init"}).exit_code, 0);
    std::string rel = WriteMinimalRelease(box_, "rel");
    for (int i = 0; i < snapshots; ++i) {
      box_.Write("rel/prompts/system.md", "Release " + std::to_string(i) + " {{customer_name}}\n");
      auto r = Cairn({"snapshot", "create", rel, "-m", "r" + std::to_string(i), "-q"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ids_.push_back(r.out.substr(0, 64));
    }
  }
  // Runs `edit` on the store's database while no cairn process has it open.
  void EditStore(const std::function<void(Db&)>& edit) {
    StoreOpenOptions o;
    o.read_only = false;
    auto store = Store::Open(box_ / "store", o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    edit(StoreInternal::db(**store));
  }
  static void Put(Db& db, Table cf, std::string_view key, std::string_view value) {
    Batch b(db);
    b.Put(cf, key, value);
    ASSERT_TRUE(db.Write(b, true).ok());
  }
  Json VerifyJson(const std::string& rev, int expected_exit, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"verify", rev, "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Cairn(args);
    EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
    return r.out.empty() ? Json() : Json::parse(r.out);
  }

  Sandbox box_;
  TestKeys keys_{box_};
  std::vector<std::string> ids_;
};

TEST_F(TrustE2E, KeyGenerateWritesMode0600NeverOverwritesAndPrintsTheKeyId) {
  auto r = RunCairn({"key", "generate", "alice", "--out", box_ / "mykeys", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json j = Json::parse(r.out);
  struct stat st {};
  ASSERT_EQ(::stat((box_ / "mykeys/alice.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(j["private_key_file"], box_ / "mykeys/alice.pem");
  EXPECT_TRUE(j["public_key"].get<std::string>().starts_with("-----BEGIN PUBLIC KEY-----"));
  EXPECT_EQ(j["public_key"], box_.Read("mykeys/alice.pub.pem"));
  std::string key_id = j["key_id"];
  EXPECT_EQ(key_id.size(), 71u);
  std::string before = box_.Read("mykeys/alice.pem");
  auto again = RunCairn({"key", "generate", "alice", "--out", box_ / "mykeys"});
  EXPECT_EQ(again.exit_code, 6);
  EXPECT_NE(again.err.find("never overwritten"), std::string::npos);
  EXPECT_EQ(box_.Read("mykeys/alice.pem"), before);
  EXPECT_EQ(RunCairn({"key", "generate", "Bad/Name", "--out", box_.path()}).exit_code, 2);
  // The human form names the files and the key id.
  auto human = RunCairn({"key", "generate", "bob", "--out", box_ / "mykeys"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("key id:      sha256:"), std::string::npos);
  EXPECT_NE(human.out.find("BEGIN PUBLIC KEY"), std::string::npos);
}

TEST_F(TrustE2E, TrustAddListRevokeWithTheirRulesAndExitCodes) {
  SetUpStore(0);
  auto add = Cairn({"trust", "add", "alice", Pub("release"), "--role", "release", "--role", "ci",
                    "--reason", "release lead"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find(kReleaseKeyId), std::string::npos);
  EXPECT_EQ(Cairn({"trust", "add", "alice", Pub("ci"), "--role", "ci"}).exit_code, 6);
  EXPECT_EQ(Cairn({"trust", "add", "bob", Pub("ci")}).exit_code, 2) << "--role is required";
  EXPECT_EQ(Cairn({"trust", "add", "bob", Pub("ci"), "--role", "CI"}).exit_code, 2);
  EXPECT_EQ(Cairn({"trust", "add", "bob", box_ / "missing.pem", "--role", "ci"}).exit_code, 3);
  EXPECT_EQ(Cairn({"trust", "add", "bob", Key("ci"), "--role", "ci"}).exit_code, 4)
      << "a private key is not a public key";
  ASSERT_EQ(Cairn({"trust", "add", "bob", Pub("ci"), "--role", "ci"}).exit_code, 0);
  ASSERT_EQ(Cairn({"trust", "add", "bob-release", Pub("ci"), "--role", "release"}).exit_code, 0);
  EXPECT_EQ(Cairn({"trust", "revoke", "bob"}).exit_code, 2) << "--reason is required";
  EXPECT_EQ(Cairn({"trust", "revoke", "nobody", "--reason", "x"}).exit_code, 3);
  auto revoke = Cairn({"trust", "revoke", "bob", "--reason", "laptop stolen"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_NE(revoke.out.find("also revoked: \"bob-release\""), std::string::npos) << revoke.out;
  EXPECT_EQ(Cairn({"trust", "revoke", "bob-release", "--reason", "again"}).exit_code, 6);
  EXPECT_EQ(Cairn({"trust", "add", "bob2", Pub("ci"), "--role", "ci"}).exit_code, 6)
      << "a revoked key is never trusted again";

  auto list = Cairn({"trust", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  Json l = Json::parse(list.out);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0]["name"], "alice");
  EXPECT_EQ(l[0]["status"], "trusted");
  EXPECT_EQ(l[0]["roles"], Json({"ci", "release"}));
  EXPECT_EQ(l[1]["status"], "revoked");
  EXPECT_EQ(l[2]["status"], "revoked");
  EXPECT_EQ(l[2]["revoked"]["reason"], "laptop stolen");
  EXPECT_EQ(l[2]["revoked"]["as"], "bob");
  auto human = Cairn({"trust", "list"});
  EXPECT_NE(human.out.find("REVOKED"), std::string::npos);
  auto log = Cairn({"trust", "log", "--json"});
  ASSERT_EQ(log.exit_code, 0);
  Json events = Json::parse(log.out);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3]["action"], "revoke");
  EXPECT_EQ(events[3]["actor"], "tester@e2e");
  EXPECT_EQ(events[3]["prev"], events[2]["hash"]);
  auto audit = Cairn({"audit", "verify", "--json"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out;
  EXPECT_EQ(Json::parse(audit.out)["trust_events"], 4);
}

TEST_F(TrustE2E, SignVerifyAndShowReportEachSignaturesStatus) {
  SetUpStore(2);
  ASSERT_EQ(Cairn({"trust", "add", "alice", Pub("release"), "--role", "release"}).exit_code, 0);
  ASSERT_EQ(Cairn({"trust", "add", "bob", Pub("ci"), "--role", "ci"}).exit_code, 0);
  EXPECT_EQ(VerifyJson(ids_[0], 7)["verdict"], "untrusted") << "no signature at all";

  ASSERT_EQ(Cairn({"sign", ids_[0].substr(0, 8), "--key", Key("release")}).exit_code, 0);
  auto twice = Cairn({"sign", ids_[0], "--key", Key("release"), "--json"});
  ASSERT_EQ(twice.exit_code, 0) << twice.err;
  EXPECT_TRUE(Json::parse(twice.out)["already_signed"].get<bool>());
  RunOptions env;
  env.env["CAIRN_KEY"] = Key("outsider");
  auto outsider = Cairn({"sign", ids_[0]}, env);
  ASSERT_EQ(outsider.exit_code, 0) << outsider.err;
  EXPECT_NE(outsider.err.find("not in the trust list"), std::string::npos);

  Json v = VerifyJson(ids_[0], 0);
  EXPECT_EQ(v["verdict"], "verified");
  EXPECT_EQ(v["valid_signers"], 1);
  ASSERT_EQ(v["signatures"].size(), 2u);
  std::map<std::string, std::string> status;
  for (const auto& s : v["signatures"]) status[s["key_id"]] = s["status"];
  EXPECT_EQ(status[kReleaseKeyId], "valid");
  EXPECT_EQ(std::count_if(status.begin(), status.end(),
                          [](const auto& kv) { return kv.second == "unknown key"; }),
            1);

  auto show = Cairn({"show", ids_[0]});
  ASSERT_EQ(show.exit_code, 0);
  EXPECT_NE(show.out.find("signatures (2, 1 valid signer)"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("alice (release)"), std::string::npos) << show.out;
  Json show_json = Json::parse(Cairn({"show", ids_[0], "--json"}).out);
  EXPECT_EQ(show_json["signatures"].size(), 2u);

  // Revoking the only trusted signer leaves the snapshot untrusted: exit 7, status revoked.
  ASSERT_EQ(Cairn({"sign", ids_[1], "--key", Key("ci")}).exit_code, 0);
  EXPECT_EQ(VerifyJson(ids_[1], 0)["verdict"], "verified");
  ASSERT_EQ(Cairn({"trust", "revoke", "bob", "--reason", "left"}).exit_code, 0);
  Json revoked = VerifyJson(ids_[1], 7);
  EXPECT_EQ(revoked["signatures"][0]["status"], "revoked");
  EXPECT_NE(revoked["signatures"][0]["detail"].get<std::string>().find("left"), std::string::npos);
  EXPECT_EQ(Cairn({"sign", ids_[1], "--key", Key("ci")}).exit_code, 6)
      << "revoked keys may not sign";
  EXPECT_EQ(Cairn({"sign", ids_[1]}).exit_code, 2) << "no key given";
  EXPECT_EQ(Cairn({"verify", "ffffffffff"}).exit_code, 3);
}

TEST_F(TrustE2E, AForgedOrCopiedSignatureFailsVerifyWithIntegrityExit) {
  SetUpStore(2);
  ASSERT_EQ(Cairn({"trust", "add", "alice", Pub("release"), "--role", "release"}).exit_code, 0);
  ASSERT_EQ(Cairn({"sign", ids_[0], "--key", Key("release")}).exit_code, 0);
  auto id0 = SnapshotId::Parse(ids_[0]).value();
  auto id1 = SnapshotId::Parse(ids_[1]).value();
  KeyId key = KeyId::Parse(kReleaseKeyId).value();
  // Copy the record of snapshot 0 under snapshot 1.
  EditStore([&](Db& db) {
    std::string record = *db.Get(Table::kSignatures, SignatureKey(id0, key)).value();
    Put(db, Table::kSignatures, SignatureKey(id1, key), record);
  });
  Json copied = VerifyJson(ids_[1], 5);
  EXPECT_EQ(copied["verdict"], "BAD");
  EXPECT_EQ(copied["signatures"][0]["status"], "bad");
  EXPECT_EQ(VerifyJson(ids_[0], 0)["verdict"], "verified");
  // Flip one bit of the signature of snapshot 0.
  EditStore([&](Db& db) {
    std::string record = *db.Get(Table::kSignatures, SignatureKey(id0, key)).value();
    size_t at = record.find("\"sig\":\"") + 7;
    record[at] = record[at] == '0' ? '1' : '0';  // still hex, one bit or two different
    Put(db, Table::kSignatures, SignatureKey(id0, key), record);
  });
  auto human = Cairn({"verify", ids_[0]});
  EXPECT_EQ(human.exit_code, 5) << human.out << human.err;
  EXPECT_NE(human.out.find("bad"), std::string::npos);
}

TEST_F(TrustE2E, VerifyDeepRehashesObjectsAndSnapshotCreateSigns) {
  SetUpStore(0);
  ASSERT_EQ(Cairn({"trust", "add", "ci", Pub("ci"), "--role", "ci"}).exit_code, 0);
  std::string rel = WriteMinimalRelease(box_, "rel2");
  auto create = Cairn({"snapshot", "create", rel, "-m", "signed", "--sign", Key("ci"), "--json"});
  ASSERT_EQ(create.exit_code, 0) << create.err;
  Json c = Json::parse(create.out);
  EXPECT_EQ(c["signed_by"],
            "sha256:c3180f7ffefbf20e1ae9460f43093696ce23f8bf63877b3f3ac3e2a00f7e42fe");
  std::string id = c["id"];
  Json deep = VerifyJson(id, 0, {"--deep"});
  EXPECT_GT(deep["objects_checked"].get<int>(), 3);
  EXPECT_TRUE(deep["object_problems"].empty());
  auto ok = Cairn({"verify", id, "--deep"});
  EXPECT_NE(ok.out.find("all intact"), std::string::npos) << ok.out;
  EXPECT_EQ(Cairn({"snapshot", "create", rel, "-m", "x", "--sign", box_ / "nokey.pem"}).exit_code,
            3);
}

TEST_F(TrustE2E, SignedPromotionsAndRollbacksVerifyInTheAudit) {
  SetUpStore(3);
  ASSERT_EQ(Cairn({"trust", "add", "alice", Pub("release"), "--role", "release"}).exit_code, 0);
  auto p1 = Cairn({"promote", ids_[0], "--to", "prod", "--reason", "v1", "--key", Key("release")});
  ASSERT_EQ(p1.exit_code, 0) << p1.err;
  EXPECT_NE(p1.out.find("signed by alice (sha256:20fb4799fd86355f)"), std::string::npos) << p1.out;
  RunOptions env;
  env.env["CAIRN_KEY"] = Key("release");
  ASSERT_EQ(Cairn({"promote", ids_[1], "--to", "prod", "--reason", "v2"}, env).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", ids_[2], "--to", "prod", "--reason", "v3"}).exit_code, 0);
  ASSERT_EQ(Cairn({"rollback", "prod", "--reason", "bad evals"}, env).exit_code, 0);
  // An untrusted key may not move a pointer; nothing is written.
  auto refused =
      Cairn({"promote", ids_[0], "--to", "prod", "--reason", "x", "--key", Key("outsider")});
  EXPECT_EQ(refused.exit_code, 6) << refused.err;
  EXPECT_EQ(Json::parse(Cairn({"log", "prod", "--json"}).out).size(), 4u);

  auto audit = Cairn({"audit", "verify", "--json"});
  ASSERT_EQ(audit.exit_code, 0) << audit.out;
  Json a = Json::parse(audit.out);
  ASSERT_EQ(a["signatures"].size(), 3u);
  for (const auto& s : a["signatures"]) EXPECT_EQ(s["status"], "valid");
  auto human = Cairn({"audit", "verify"});
  EXPECT_NE(human.out.find("4 events (3 signed, 3 valid)"), std::string::npos) << human.out;

  // Tamper with the signature of event 2.
  EditStore([&](Db& db) {
    std::string key = std::string("prod") + '\0' + std::string("\0\0\0\0\0\0\0\2", 8);
    std::string bytes = *db.Get(Table::kEvents, key).value();
    Json j = Json::parse(bytes);
    std::string sig = j["signature"]["sig"];
    sig[0] = sig[0] == 'a' ? 'b' : 'a';
    j["signature"]["sig"] = sig;
    Put(db, Table::kEvents, key, j.dump());
  });
  auto broken = Cairn({"audit", "verify"});
  EXPECT_EQ(broken.exit_code, 5) << broken.out;
  EXPECT_NE(broken.out.find("prod: event #2: signature by sha256:20fb4799fd86355f: bad"),
            std::string::npos)
      << broken.out;
}

TEST_F(TrustE2E, ATrustChainEditedInTheDatabaseFailsTheAudit) {
  SetUpStore(0);
  ASSERT_EQ(Cairn({"trust", "add", "bob", Pub("ci"), "--role", "ci"}).exit_code, 0);
  ASSERT_EQ(Cairn({"trust", "revoke", "bob", "--reason", "left the team"}).exit_code, 0);
  ASSERT_EQ(Cairn({"audit", "verify"}).exit_code, 0);
  // Un-revoke by deleting the revocation record: `trust list` is fooled, the audit is not.
  EditStore([&](Db& db) {
    Batch b(db);
    b.Delete(
        Table::kTrust,
        TrustRevokedKey(
            KeyId::Parse("sha256:c3180f7ffefbf20e1ae9460f43093696ce23f8bf63877b3f3ac3e2a00f7e42fe")
                .value()));
    ASSERT_TRUE(db.Write(b, true).ok());
  });
  EXPECT_EQ(Json::parse(Cairn({"trust", "list", "--json"}).out)[0]["status"], "trusted");
  auto audit = Cairn({"audit", "verify", "--json"});
  EXPECT_EQ(audit.exit_code, 5) << audit.out;
  Json a = Json::parse(audit.out);
  ASSERT_EQ(a["problems"].size(), 1u);
  EXPECT_EQ(a["problems"][0]["chain"], "trust");
  auto human = Cairn({"audit", "verify"});
  EXPECT_NE(human.out.find("trust: "), std::string::npos) << human.out;
}

}  // namespace
}  // namespace cairn::testing
