#include "cairn/canonical_json.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(CanonicalJson, SortsKeysAndDropsWhitespace) {
  Json v = Json::parse(R"({"b": 1, "a": {"z": [1, 2], "y": "é"}, "A": null})");
  auto out = CanonicalJson(v);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, R"({"A":null,"a":{"y":"é","z":[1,2]},"b":1})");
}

TEST(CanonicalJson, RefusesFloats) {
  EXPECT_FALSE(CanonicalJson(Json::parse(R"({"x": [1, 2.5]})")).ok());
}

TEST(CanonicalJson, EscapesOnlyWhatJsonRequires) {
  auto out = CanonicalJson(Json("a\"b\\c\n\x01/"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, R"("a\"b\\c\n\u0001/")");
}

TEST(CanonicalJson, ParseAcceptsOnlyCanonicalBytes) {
  EXPECT_TRUE(ParseCanonicalJson(R"({"a":1,"b":2})", "m").ok());
  EXPECT_TRUE(ParseCanonicalJson(R"({"b":2,"a":1})", "m").status().IsCorruption());
  EXPECT_TRUE(ParseCanonicalJson(R"({"a": 1})", "m").status().IsCorruption());
  EXPECT_TRUE(ParseCanonicalJson(R"({"a":)", "m").status().IsCorruption());
}

}  // namespace
}  // namespace cairn
