#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cairn/validate.h"

namespace cairn {
namespace {

std::vector<Problem> Parse(const std::string& text, int depth = 64) {
  std::vector<Problem> problems;
  auto v = ParseStrictJson(text, "f.json", &problems, JsonLimits{depth});
  EXPECT_EQ(v.has_value(), problems.empty());
  return problems;
}

TEST(StrictJson, AcceptsOrdinaryJson) {
  EXPECT_TRUE(Parse(R"({"a": [1, -2, 3.5, "x", true, null, {"b": {}}]})").empty());
}

TEST(StrictJson, DuplicateKeyDeepInsideIsFoundWithItsPointer) {
  auto p = Parse(R"({"a": {"b": [{"c": 1, "c": 2}]}})");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].rule, "duplicate-key");
  EXPECT_EQ(p[0].location, "/a/b/0/c");
}

TEST(StrictJson, SameKeyInSiblingObjectsIsFine) {
  EXPECT_TRUE(Parse(R"([{"a": 1}, {"a": 2}])").empty());
}

TEST(StrictJson, DepthAtTheLimitPassesOneMoreFails) {
  EXPECT_TRUE(Parse(std::string(64, '[') + std::string(64, ']')).empty());
  auto p = Parse(std::string(65, '[') + std::string(65, ']'));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].rule, "too-deep");
}

TEST(StrictJson, HostileNestingDoesNotRecurse) {
  // A million levels would overflow the stack of a recursive parser or dump().
  auto p = Parse(std::string(1000000, '['));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].rule, "too-deep");
}

// 100,000 empty objects: 300 KB of text, about 10 MB as a tree.
std::string ManyEmptyObjects() {
  std::string text = "[{}";
  for (int i = 1; i < 100000; ++i) text += ",{}";
  return text + "]";
}

TEST(StrictJson, ATreeLargerThanTheLimitIsRefusedWhileParsing) {
  std::vector<Problem> problems;
  JsonLimits small;
  small.max_tree_bytes = 4 << 20;
  auto v = ParseStrictJson(ManyEmptyObjects(), "f.json", &problems, small);
  EXPECT_FALSE(v.has_value());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rule, "too-large");
  EXPECT_TRUE(problems[0].location.starts_with("/")) << problems[0].location;
  EXPECT_NE(problems[0].message.find("4 MiB"), std::string::npos) << problems[0].message;
  problems.clear();
  small.max_tree_bytes = 16 << 20;
  EXPECT_TRUE(ParseStrictJson(ManyEmptyObjects(), "f.json", &problems, small).has_value());
}

TEST(StrictJson, LongStringsCostAboutTheirSize) {
  std::vector<Problem> problems;
  JsonLimits limits;
  limits.max_tree_bytes = 2 << 20;
  std::string text = "[\"" + std::string(1 << 20, 'x') + "\"]";  // 1 MiB in one string
  EXPECT_TRUE(ParseStrictJson(text, "f.json", &problems, limits).has_value());
  std::string keys = "{";
  for (int i = 0; i < 3; ++i)
    keys += fmt::format("{}\"k{}{}\": 1", i ? "," : "", i, std::string(1 << 20, 'k'));
  EXPECT_FALSE(ParseStrictJson(keys + "}", "f.json", &problems, limits).has_value());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rule, "too-large");
}

TEST(StrictJson, IntegerThatDoesNotFitIsRefused) {
  auto p = Parse(R"({"n": 99999999999999999999999})");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].rule, "number-range");
  EXPECT_EQ(p[0].location, "/n");
  EXPECT_TRUE(Parse(R"({"n": 18446744073709551615, "m": -9223372036854775808})").empty());
  EXPECT_EQ(Parse(R"({"n": -9223372036854775809})").at(0).rule, "number-range");
}

TEST(StrictJson, FloatOverflowIsRefused) {
  auto p = Parse(R"([1e999])");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].rule, "number-range");
}

TEST(StrictJson, SyntaxErrorNamesLineAndColumn) {
  auto p = Parse("{\n  \"a\": 1,\n}\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].rule, "malformed-json");
  EXPECT_EQ(p[0].location.rfind("line 3", 0), 0u) << p[0].location;
}

TEST(StrictJson, InvalidUtf8IsItsOwnRule) {
  auto p = Parse("{\"a\": \"\xff\"}");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].rule, "invalid-utf8");
}

// nlohmann's lexer ends the input at a NUL byte; cairn's parser refuses any NUL first.
TEST(StrictJson, ANulByteAnywhereIsRefused) {
  for (std::string text : {std::string("123\0", 4), std::string("{\"a\": 1}\0{\"b\"", 13),
                           std::string("[\"a\0b\"]", 7)}) {
    auto p = Parse(text);
    ASSERT_EQ(p.size(), 1u) << text.size();
    EXPECT_EQ(p[0].rule, "malformed-json");
    EXPECT_NE(p[0].message.find("NUL"), std::string::npos);
  }
}

TEST(Utf8, RejectsOverlongsSurrogatesAndTruncation) {
  EXPECT_TRUE(IsValidUtf8("héllo €𝄞"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  size_t bad = 0;
  EXPECT_FALSE(IsValidUtf8("ab\xe2\x82", &bad));
  EXPECT_EQ(bad, 2u);
}

}  // namespace
}  // namespace cairn
