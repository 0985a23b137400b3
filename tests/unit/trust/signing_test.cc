// Keys, signed messages, snapshot signatures and their verification.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/signing_support.h"
#include "trust/signature_records.h"

namespace cairn {
namespace {

using testing::FixtureKey;
using testing::FixturePath;

constexpr const char* kReleaseKeyId =
    "sha256:20fb4799fd86355f2b5ca9c1d5ccd65815f2fe24532994ec93130628649d06da";

// ---- keys and messages ----

TEST(KeysTest, KeyIdIsTheSha256OfTheRawPublicKey) {
  PrivateKey key = FixtureKey("release");
  EXPECT_EQ(key.id().ToString(), kReleaseKeyId);
  std::string raw(reinterpret_cast<const char*>(key.public_key().bytes().data()), 32);
  EXPECT_EQ(key.id().digest(), Digest::Of(raw));
  auto pub = PublicKey::Load(FixturePath("keys/test-release-ONLY-FOR-TESTS.pub.pem"));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(*pub, key.public_key());
  EXPECT_EQ(key.id().Short(), "sha256:20fb4799fd86355f");
}

TEST(KeysTest, PemRoundTripsAndHexParses) {
  auto key = PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  auto pem = key->Pem();
  ASSERT_TRUE(pem.ok());
  EXPECT_TRUE(pem->starts_with("-----BEGIN PRIVATE KEY-----"));
  auto again = PrivateKey::FromPem(*pem, "test");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key(), key->public_key());
  auto pub = PublicKey::ParseHex(key->public_key().Hex());
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(*pub, key->public_key());
  EXPECT_FALSE(PublicKey::ParseHex(std::string(64, 'G')).ok());
  EXPECT_FALSE(PublicKey::ParseHex(key->public_key().Hex().substr(2)).ok());
}

TEST(KeysTest, ForeignAndMalformedPemIsRefusedNamingTheFile) {
  auto garbage = PrivateKey::FromPem("not a key", "keys/x.pem");
  EXPECT_EQ(garbage.status().code(), Code::kInvalidInput);
  EXPECT_NE(garbage.status().message().find("keys/x.pem"), std::string::npos);
  // A public key where a private key is expected, and the other way round.
  std::string pub_pem = *FixtureKey("ci").public_key().Pem();
  EXPECT_EQ(PrivateKey::FromPem(pub_pem, "p").status().code(), Code::kInvalidInput);
  std::string priv_pem = *FixtureKey("ci").Pem();
  EXPECT_EQ(PublicKey::FromPem(priv_pem, "p").status().code(), Code::kInvalidInput);
  // An EC key is not an Ed25519 key.
  const char* ec =
      "-----BEGIN PUBLIC KEY-----\n"
      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEchQSt0HwpH+qdDuDrxl8fvdI6vte\n"
      "3/i+CyhchOO1GtSLDHYtAzEFER7DHofCLtFy3wZMP9YEvZhRZwVRagHBbw==\n"
      "-----END PUBLIC KEY-----\n";
  auto not_ed25519 = PublicKey::FromPem(ec, "ec.pem");
  EXPECT_EQ(not_ed25519.status().code(), Code::kInvalidInput);
  EXPECT_NE(not_ed25519.status().message().find("Ed25519"), std::string::npos)
      << not_ed25519.status().message();
  EXPECT_TRUE(PrivateKey::Load("/nonexistent/key.pem").status().IsNotFound());
}

TEST(KeysTest, SignedMessagesAreDomainSeparatedWithExactBytes) {
  SnapshotId id(Digest::Of("snapshot"));
  std::string m = SnapshotSigningMessage(id);
  ASSERT_EQ(m.size(), 18u + 32u);
  EXPECT_EQ(m.substr(0, 18), std::string("cairn-snapshot-v1\0", 18));
  EXPECT_EQ(m.substr(18), id.digest().Raw());
  Digest h = Digest::Of("event");
  std::string e = EventSigningMessage(h);
  ASSERT_EQ(e.size(), 15u + 32u);
  EXPECT_EQ(e.substr(0, 15), std::string("cairn-event-v1\0", 15));
  EXPECT_EQ(e.substr(15), h.Raw());
  // A snapshot signature never verifies as an event signature over the same 32 bytes.
  PrivateKey key = FixtureKey("release");
  auto sig = key.Sign(m);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerifySignature(key.public_key(), m, *sig));
  EXPECT_FALSE(VerifySignature(key.public_key(), EventSigningMessage(id.digest()), *sig));
}

TEST(KeysTest, AFlippedBitInMessageOrSignatureFailsVerification) {
  PrivateKey key = FixtureKey("ci");
  std::string m = SnapshotSigningMessage(SnapshotId(Digest::Of("x")));
  auto sig = key.Sign(m);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(*key.Sign(m), *sig) << "Ed25519 is deterministic";
  std::string m2 = m;
  m2.back() ^= 1;
  EXPECT_FALSE(VerifySignature(key.public_key(), m2, *sig));
  for (size_t byte : {0u, 31u, 32u, 63u}) {
    Signature::Bytes b = sig->bytes();
    b[byte] ^= 0x01;
    EXPECT_FALSE(VerifySignature(key.public_key(), m, Signature(b))) << "byte " << byte;
  }
  EXPECT_FALSE(VerifySignature(FixtureKey("release").public_key(), m, *sig));
}

// ---- key files ----

class KeyFilesTest : public ::testing::Test {
 protected:
  testing::Sandbox box_;
};

TEST_F(KeyFilesTest, GenerateWritesAPrivateKeyWithMode0600AndItsPublicKey) {
  auto files = GenerateKeyFiles("alice", box_ / "keys");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(files->private_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(files->private_path, box_ / "keys/alice.pem");
  EXPECT_EQ(files->public_path, box_ / "keys/alice.pub.pem");
  auto key = PrivateKey::Load(files->private_path);
  ASSERT_TRUE(key.ok());
  auto pub = PublicKey::Load(files->public_path);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(key->public_key(), *pub);
  EXPECT_EQ(files->public_key, *pub);
}

TEST_F(KeyFilesTest, KeyFilesAreNeverOverwritten) {
  ASSERT_TRUE(GenerateKeyFiles("alice", box_.path()).ok());
  std::string before = box_.Read("alice.pem");
  auto again = GenerateKeyFiles("alice", box_.path());
  EXPECT_EQ(again.status().code(), Code::kConflict);
  EXPECT_NE(again.status().message().find("never overwritten"), std::string::npos);
  EXPECT_EQ(box_.Read("alice.pem"), before);

  // Only the public file exists: nothing is written, not even the private key.
  box_.Write("bob.pub.pem", "mine");
  EXPECT_EQ(GenerateKeyFiles("bob", box_.path()).status().code(), Code::kConflict);
  EXPECT_FALSE(std::filesystem::exists(box_ / "bob.pem"));
  EXPECT_EQ(box_.Read("bob.pub.pem"), "mine");

  // A symlink planted where the private key goes is not followed.
  box_.Write("target", "keep");
  ASSERT_EQ(::symlink((box_ / "target").c_str(), (box_ / "carol.pem").c_str()), 0);
  EXPECT_EQ(GenerateKeyFiles("carol", box_.path()).status().code(), Code::kConflict);
  EXPECT_EQ(box_.Read("target"), "keep");
}

TEST_F(KeyFilesTest, KeyNamesAreChecked) {
  for (const char* bad : {"", "Alice", "../x", "a/b", ".hidden", "a..b", "a b"}) {
    EXPECT_EQ(GenerateKeyFiles(bad, box_.path()).status().code(), Code::kUsage) << bad;
  }
  EXPECT_TRUE(ValidateKeyName("release-ci.2").ok());
}

// ---- snapshot signatures ----

using SignatureTest = testing::SignedStoreTest;

TEST_F(SignatureTest, ATrustedSignatureIsValidWithItsNameAndRoles) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  auto r = SignV(0, release_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->already_signed);
  EXPECT_EQ(r->key_trust, KeyTrust::kTrusted);
  auto checks = Checks(0);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, SignatureStatus::kValid) << checks[0].detail;
  EXPECT_EQ(checks[0].key_id.ToString(), kReleaseKeyId);
  ASSERT_EQ(checks[0].names.size(), 1u);
  EXPECT_EQ(checks[0].names[0].name, "alice");
  EXPECT_EQ(checks[0].roles, std::vector<std::string>{"release"});
  EXPECT_EQ(checks[0].actor, "signer@test");
  EXPECT_TRUE(Checks(1).empty()) << "other snapshots are unsigned";
  auto v = VerifySnapshot(*store_, v_[0], {});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->valid_signers(), 1u);
  EXPECT_FALSE(v->any_bad());
}

TEST_F(SignatureTest, AForgedSignatureWithOneFlippedBitIsBad) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(SignV(0, release_).ok());
  std::string key = SignatureKey(v_[0], release_.id());
  std::string record = Get(Table::kSignatures, key);
  // Flip one bit inside the hex signature: the record stays well-formed.
  size_t at = record.find("\"sig\":\"") + 7;
  record[at] = record[at] == '0' ? '1' : '0';
  Put(Table::kSignatures, key, record);
  auto checks = Checks(0);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, SignatureStatus::kBad);
  EXPECT_NE(checks[0].detail.find("does not verify"), std::string::npos);
  EXPECT_EQ(CountValidSigners(checks), 0u);
  auto v = VerifySnapshot(*store_, v_[0], {});
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->any_bad());
}

TEST_F(SignatureTest, ASignatureByAnUntrustedKeyIsUnknownUntilTheKeyIsTrusted) {
  auto r = SignV(0, outsider_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->key_trust, KeyTrust::kUnknown);
  auto checks = Checks(0);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, SignatureStatus::kUnknownKey);
  EXPECT_TRUE(checks[0].names.empty());
  EXPECT_EQ(CountValidSigners(checks), 0u);
  ASSERT_TRUE(Trust("outsider", outsider_, {"ci"}).ok());
  EXPECT_EQ(Checks(0)[0].status, SignatureStatus::kValid);
}

TEST_F(SignatureTest, ASignatureByARevokedKeyIsRevokedAndTheKeyMayNotSignAgain) {
  ASSERT_TRUE(Trust("bob", ci_, {"ci"}).ok());
  ASSERT_TRUE(SignV(0, ci_).ok());
  ASSERT_TRUE(Revoke("bob", "key leaked").ok());
  auto checks = Checks(0);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, SignatureStatus::kRevoked);
  EXPECT_NE(checks[0].detail.find("key leaked"), std::string::npos);
  EXPECT_TRUE(checks[0].roles.empty());
  EXPECT_EQ(CountValidSigners(checks, "ci"), 0u);
  auto again = SignV(1, ci_);
  EXPECT_EQ(again.status().code(), Code::kConflict);
  EXPECT_TRUE(Checks(1).empty()) << "nothing was written";
}

TEST_F(SignatureTest, OneKeyTrustedUnderTwoNamesCountsAsOneSigner) {
  ASSERT_TRUE(Trust("bob", ci_, {"ci"}).ok());
  ASSERT_TRUE(Trust("bob-release", ci_, {"release"}).ok());
  ASSERT_TRUE(SignV(0, ci_).ok());
  auto checks = Checks(0);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].names.size(), 2u);
  EXPECT_EQ(checks[0].roles, (std::vector<std::string>{"ci", "release"}));
  EXPECT_EQ(CountValidSigners(checks), 1u);
  EXPECT_EQ(CountValidSigners(checks, "ci"), 1u);
  EXPECT_EQ(CountValidSigners(checks, "release"), 1u);
  // Even if the same verdict appears twice in a list, one key is one signer.
  checks.push_back(checks[0]);
  EXPECT_EQ(CountValidSigners(checks, "release"), 1u);
}

TEST_F(SignatureTest, SigningTwiceIsIdempotentAndCountsOnce) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  auto first = SignV(0, release_);
  ASSERT_TRUE(first.ok());
  std::string record = Get(Table::kSignatures, SignatureKey(v_[0], release_.id()));
  auto second = SignV(0, release_);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->already_signed);
  EXPECT_EQ(second->signature.time_micros, first->signature.time_micros);
  EXPECT_EQ(Get(Table::kSignatures, SignatureKey(v_[0], release_.id())), record) << "unchanged";
  auto checks = Checks(0);
  EXPECT_EQ(checks.size(), 1u);
  EXPECT_EQ(CountValidSigners(checks, "release"), 1u);
}

TEST_F(SignatureTest, ThresholdsCountDistinctKeysHoldingTheRole) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(Trust("ci", ci_, {"ci", "release"}).ok());
  ASSERT_TRUE(Trust("sec", security_, {"security"}).ok());
  for (const PrivateKey* k : {&release_, &ci_, &security_, &outsider_}) {
    ASSERT_TRUE(SignV(0, *k).ok());
  }
  auto checks = Checks(0);
  EXPECT_EQ(checks.size(), 4u);
  EXPECT_EQ(CountValidSigners(checks), 3u);
  EXPECT_EQ(CountValidSigners(checks, "release"), 2u);
  EXPECT_EQ(CountValidSigners(checks, "security"), 1u);
  EXPECT_EQ(CountValidSigners(checks, "ops"), 0u);
}

TEST_F(SignatureTest, ASignatureRecordCopiedFromAnotherSnapshotIsBad) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(SignV(0, release_).ok());
  std::string record = Get(Table::kSignatures, SignatureKey(v_[0], release_.id()));
  Put(Table::kSignatures, SignatureKey(v_[1], release_.id()), record);
  auto checks = Checks(1);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, SignatureStatus::kBad);
  EXPECT_NE(checks[0].detail.find("copied from another snapshot"), std::string::npos);
  EXPECT_EQ(Checks(0)[0].status, SignatureStatus::kValid) << "the original stays valid";
}

TEST_F(SignatureTest, ARecordFiledUnderAnotherKeyIdIsBad) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  ASSERT_TRUE(Trust("bob", ci_, {"ci"}).ok());
  ASSERT_TRUE(SignV(0, release_).ok());
  std::string record = Get(Table::kSignatures, SignatureKey(v_[0], release_.id()));
  Put(Table::kSignatures, SignatureKey(v_[0], ci_.id()), record);
  auto checks = Checks(0);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(CountValidSigners(checks), 1u);
  Put(Table::kSignatures, SignatureKey(v_[0], ci_.id()), "{not json");
  checks = Checks(0);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(CountValidSigners(checks), 1u);
}

TEST_F(SignatureTest, SnapshotCreateSignsInTheSameBatch) {
  ASSERT_TRUE(Trust("alice", release_, {"release"}).ok());
  box_.Write("rel/prompts/system.md", "Signed {{customer_name}}\n");
  auto r = Create(&release_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->signature.has_value());
  auto trust = TrustState::Load(*store_);
  auto checks = CheckSnapshotSignatures(*store_, r->snapshot.id, *trust);
  ASSERT_TRUE(checks.ok());
  ASSERT_EQ(checks->size(), 1u);
  EXPECT_EQ((*checks)[0].status, SignatureStatus::kValid);
  EXPECT_EQ((*checks)[0].actor, "alice@test");
}

TEST_F(SignatureTest, SnapshotCreateWithARevokedKeyWritesNothing) {
  ASSERT_TRUE(Trust("bob", ci_, {"ci"}).ok());
  ASSERT_TRUE(Revoke("bob").ok());
  box_.Write("rel/prompts/system.md", "Never stored {{customer_name}}\n");
  auto r = Create(&ci_);
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_EQ(ListSnapshots(*store_)->size(), 3u);
}

TEST_F(SignatureTest, SigningAMissingSnapshotIsNotFound) {
  auto r = SignSnapshot(*store_, SnapshotId(Digest::Of("none")), release_, {"x"});
  EXPECT_TRUE(r.status().IsNotFound());
}

TEST_F(SignatureTest, DeepVerificationRehashesEveryObject) {
  auto shallow = VerifySnapshot(*store_, v_[0], {});
  ASSERT_TRUE(shallow.ok());
  EXPECT_EQ(shallow->objects_checked, 0u);
  VerifyOptions deep;
  deep.deep = true;
  auto ok = VerifySnapshot(*store_, v_[0], deep);
  ASSERT_TRUE(ok.ok());
  EXPECT_GT(ok->objects_checked, 3u);
  EXPECT_TRUE(ok->object_problems.empty());
  auto snapshot = LoadSnapshot(*store_, v_[0]);
  const Digest& d = snapshot->Find("prompts/system.md")->digest;
  std::string rec = Get(Table::kObjects, d.Raw());
  rec.back() ^= 0x20;
  Put(Table::kObjects, d.Raw(), rec);
  auto bad = VerifySnapshot(*store_, v_[0], deep);
  ASSERT_TRUE(bad.ok());
  ASSERT_EQ(bad->object_problems.size(), 1u);
  EXPECT_NE(bad->object_problems[0].find("prompts/system.md"), std::string::npos);
}

// ---- stores made before signing existed ----

// A format-1 store made before the signatures and trust families existed: readers see
// them empty, and the upgrade to format 2 (which no longer has families per table) works.
TEST(OldStoreTest, AFormat1StoreWithoutTheNewFamiliesIsReadAndUpgraded) {
  testing::Sandbox box;
  std::string store_dir = box.CopyFixture("format1-store/.cairn", "store");
  std::string db1 = store_dir + "/db";
  {
    rocksdb::DBOptions o;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(o, db1, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, db1, cfs, &handles, &raw).ok());
    for (auto* h : handles) {
      if (h->GetName() == "signatures" || h->GetName() == "trust") {
        ASSERT_TRUE(raw->DropColumnFamily(h).ok());
      }
    }
    for (auto* h : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
    delete raw;
    names.clear();
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(o, db1, &names).ok());
    ASSERT_EQ(std::count(names.begin(), names.end(), "trust"), 0);
  }
  SnapshotId v1(
      *Digest::Parse("sha256:9f86c58b8d084df9acc57b25ea290a3e6fc6a3eb67b9843356f224cb07fb18b5"));
  {
    auto store = Store::Open(store_dir, StoreOpenOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->format_version(), 1);
    auto trust = TrustState::Load(**store);
    ASSERT_TRUE(trust.ok()) << trust.status().ToString();
    EXPECT_TRUE(trust->entries().empty());
    EXPECT_TRUE(ReadTrustEvents(**store)->empty());
    auto checks = CheckSnapshotSignatures(**store, v1, *trust);
    ASSERT_TRUE(checks.ok());
    EXPECT_TRUE(checks->empty());
  }
  {
    StoreOpenOptions w;
    w.read_only = false;
    auto store = Store::Open(store_dir, w);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->format_version(), 2);
    PrivateKey key = FixtureKey("ci");
    ASSERT_TRUE(AddTrust(**store, "ci", key.public_key(), {"ci"}, {"a", "", {}, {}}).ok());
    SignOptions sign;
    sign.actor = "a";
    ASSERT_TRUE(SignSnapshot(**store, v1, key, sign).ok());
    auto trust = TrustState::Load(**store);
    ASSERT_TRUE(trust.ok());
    auto checks = CheckSnapshotSignatures(**store, v1, *trust);
    ASSERT_TRUE(checks.ok());
    EXPECT_EQ(checks->size(), 1u);
  }
  std::vector<std::string> names;
  ASSERT_TRUE(
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), store_dir + "/db2", &names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"default", "objects", "stat_cache"}));
}

}  // namespace
}  // namespace cairn
