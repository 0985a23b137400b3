// Shared by the trust and signing tests: a writable store with a fake clock, snapshots to
// sign, the test-only fixture keys (fixtures/keys/), and direct database edits for planting
// faults.
#pragma once

#include <gtest/gtest.h>

#include <atomic>

#include "cairn/deployment.h"
#include "cairn/ingest.h"
#include "cairn/signature.h"
#include "cairn/signing.h"
#include "cairn/trust.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn::testing {

class FakeClock : public Clock {
 public:
  int64_t NowMicros() const override { return now.load(); }
  std::atomic<int64_t> now{1795528980000000};  // 2026-11-24T14:03:00Z
};

// "release", "ci", "security" or "outsider".
inline PrivateKey FixtureKey(const std::string& who) {
  auto key = PrivateKey::Load(FixturePath("keys/test-" + who + "-ONLY-FOR-TESTS.pem"));
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

class SignedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Store::Init(box_ / "store").ok());
    StoreOpenOptions o;
    o.read_only = false;
    o.clock = &clock_;
    auto s = Store::Open(box_ / "store", o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    WriteMinimalRelease(box_, "rel");
    for (int i = 0; i < 3; ++i) {
      box_.Write("rel/prompts/system.md", "Version " + std::to_string(i) + " {{customer_name}}\n");
      auto r = Create();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      v_.push_back(r->snapshot.id);
    }
  }

  Result<CreateSnapshotResult> Create(const PrivateKey* sign_with = nullptr) {
    clock_.now += 1000000;
    CreateSnapshotOptions c;
    c.dir = box_ / "rel";
    c.message = "release";
    c.author = "alice@test";
    c.sign_with = sign_with;
    std::vector<Problem> problems;
    return CreateSnapshot(*store_, c, &problems);
  }

  Result<TrustEvent> Trust(const std::string& name, const PrivateKey& key,
                           std::vector<std::string> roles) {
    clock_.now += 1000000;
    return AddTrust(*store_, name, key.public_key(), roles, {"admin@test", "test", {}, {}});
  }
  Result<TrustEvent> Revoke(const std::string& name, const std::string& reason = "lost laptop") {
    clock_.now += 1000000;
    return RevokeTrust(*store_, name, {"admin@test", reason, {}, {}});
  }
  Result<SignResult> SignV(int i, const PrivateKey& key) {
    clock_.now += 1000000;
    return SignSnapshot(*store_, v_[i], key, {"signer@test"});
  }
  std::vector<SignatureCheck> Checks(int i) {
    auto trust = TrustState::Load(*store_);
    EXPECT_TRUE(trust.ok()) << trust.status().ToString();
    auto checks = CheckSnapshotSignatures(*store_, v_[i], *trust);
    EXPECT_TRUE(checks.ok()) << checks.status().ToString();
    return checks.ok() ? *checks : std::vector<SignatureCheck>{};
  }

  Db& db() { return StoreInternal::db(*store_); }
  std::string Get(Table cf, std::string_view key) {
    auto v = db().Get(cf, key);
    EXPECT_TRUE(v.ok() && v->has_value()) << "no such key";
    return v.ok() && v->has_value() ? **v : std::string();
  }
  void Put(Table cf, std::string_view key, std::string_view value) {
    Batch b(db());
    b.Put(cf, key, value);
    ASSERT_TRUE(db().Write(b, true).ok());
  }
  void Delete(Table cf, std::string_view key) {
    Batch b(db());
    b.Delete(cf, key);
    ASSERT_TRUE(db().Write(b, true).ok());
  }

  Sandbox box_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::vector<SnapshotId> v_;
  PrivateKey release_ = FixtureKey("release");
  PrivateKey ci_ = FixtureKey("ci");
  PrivateKey security_ = FixtureKey("security");
  PrivateKey outsider_ = FixtureKey("outsider");
};

}  // namespace cairn::testing
