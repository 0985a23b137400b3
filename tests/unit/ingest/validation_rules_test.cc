// One test per validation rule, each on its fixtures/bad/<rule> directory: the rule is
// reported, exactly once, naming the right file — and nothing else is reported.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "cairn/ingest.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

using testing::Sandbox;

// One per fixtures/bad/<rule> directory, named after the rule it breaks.
constexpr const char* kRules[] = {
    "symlink",      "special-file",       "bad-name",       "unknown-entry",   "empty-release",
    "invalid-utf8", "nul-byte",           "malformed-json", "duplicate-key",   "too-deep",
    "number-range", "template",           "snapshot-json",  "model-ref",       "floating-model",
    "tool-schema",  "knowledge-manifest", "escaping-path",  "digest-mismatch", "unlisted-document",
    "tool-dialect", "schema-draft",       "schema-type",    "schema-keyword",  "schema-enum",
    "schema-ref",   "strict-mode",        "model-limits",
};

class ValidationRule : public ::testing::TestWithParam<const char*> {};

TEST_P(ValidationRule, BadFixtureReportsExactlyThatRule) {
  std::string rule = GetParam();
  Sandbox box;
  std::string dir = box.CopyFixture("bad/" + rule, "rel");
  if (rule == "special-file") {
    ASSERT_EQ(::mkfifo((dir + "/prompts/pipe").c_str(), 0644), 0);
  }
  std::vector<Problem> problems;
  ASSERT_TRUE(ValidateRelease(dir, &problems).ok());
  ASSERT_EQ(problems.size(), 1u) << [&] {
    std::string all;
    for (const auto& p : problems) all += p.ToString() + "\n";
    return all;
  }();
  EXPECT_EQ(problems[0].rule, rule) << problems[0].ToString();
  EXPECT_FALSE(problems[0].message.empty());
}

INSTANTIATE_TEST_SUITE_P(AllRules, ValidationRule, ::testing::ValuesIn(kRules),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(ValidationRules, EverySampleReleaseIsValid) {
  for (const char* v : {"v1", "v2", "v3"}) {
    std::vector<Problem> problems;
    ASSERT_TRUE(
        ValidateRelease(testing::FixturePath(std::string("releases/") + v), &problems).ok());
    EXPECT_TRUE(problems.empty()) << v << ": " << problems.front().ToString();
  }
}

TEST(ValidationRules, EveryBadFixtureDirectoryIsCovered) {
  std::set<std::string> dirs;
  for (const auto& e : std::filesystem::directory_iterator(testing::FixturePath("bad"))) {
    if (e.is_directory()) dirs.insert(e.path().filename().string());
  }
  std::set<std::string> tested(std::begin(kRules), std::end(kRules));
  EXPECT_EQ(dirs, tested) << "every fixtures/bad/<rule> needs a line in kRules, and back";
}

TEST(ValidationRules, FloatingModelWithPinnedFalseIsAccepted) {
  Sandbox box;
  std::string dir = testing::WriteMinimalRelease(box, "rel");
  box.Write("rel/models/experimental.json",
            R"({"provider": "openai", "model": "gpt-4o", "pinned": false})");
  std::vector<Problem> problems;
  ASSERT_TRUE(ValidateRelease(dir, &problems).ok());
  EXPECT_TRUE(problems.empty());
  box.Write("rel/models/experimental.json",
            R"({"provider": "openai", "model": "gpt-4o-latest", "revision": "latest"})");
  ASSERT_TRUE(ValidateRelease(dir, &problems).ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rule, "floating-model");
}

// "required" may name a property that "properties" does not describe: valid JSON Schema.
TEST(ValidationRules, ToolSchemaChecksNestedSchemasAndAcceptsRequiredOutsideProperties) {
  Sandbox box;
  std::string dir = testing::WriteMinimalRelease(box, "rel");
  box.Write("rel/tools/lookup.json", R"({"name": "t", "parameters": {"type": "object",
    "properties": {"a": {"type": "object", "properties": {"b": {"type": "strng"}}}},
    "required": ["a", "zz"]}})");
  std::vector<Problem> problems;
  ASSERT_TRUE(ValidateRelease(dir, &problems).ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].location, "/parameters/properties/a/properties/b/type");
  EXPECT_EQ(problems[0].rule, "schema-type");
}

}  // namespace
}  // namespace cairn
