// PolicyCheck: the typed form of an event's `checks`, exact both ways.
#include "cairn/policy_check.h"

#include <gtest/gtest.h>

#include <type_traits>

#include "cairn/signing.h"

namespace cairn {
namespace {

TEST(PolicyCheck, RoundTripsThroughItsJson) {
  PolicyCheck c;
  c.rule = "min-eval";
  c.subject = "golden-v3";
  c.passed = false;
  c.overridden = true;
  c.detail = "0.79 < 0.85";
  auto back = PolicyCheck::FromJson(c.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
  EXPECT_EQ(ChecksJson({c, c}).size(), 2u);
}

TEST(PolicyCheck, RefusesAnythingButTheFiveMembers) {
  Json good = {{"rule", "soak"},
               {"subject", "beta"},
               {"passed", true},
               {"overridden", false},
               {"detail", "live 25h"}};
  ASSERT_TRUE(PolicyCheck::FromJson(good).ok());
  Json extra = good;
  extra["note"] = "x";
  Json missing = good;
  missing.erase("detail");
  Json mistyped = good;
  mistyped["passed"] = "yes";
  Json number = good;
  number["rule"] = 7;
  for (const Json& bad : {extra, missing, mistyped, number, Json::array(), Json("soak")}) {
    auto r = PolicyCheck::FromJson(bad);
    EXPECT_EQ(r.status().code(), Code::kCorruption) << bad.dump();
  }
  EXPECT_NE(PolicyCheck::FromJson(mistyped).status().message().find("\"passed\""),
            std::string::npos);
}

// A secret has one owner.
static_assert(!std::is_copy_constructible_v<PrivateKey>);
static_assert(!std::is_copy_assignable_v<PrivateKey>);
static_assert(std::is_nothrow_move_constructible_v<PrivateKey>);

TEST(PrivateKey, AMovedKeyStillSigns) {
  auto key = PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  PublicKey pub = key->public_key();
  PrivateKey moved = std::move(*key);
  auto sig = moved.Sign("message");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerifySignature(pub, "message", *sig));
}

}  // namespace
}  // namespace cairn
