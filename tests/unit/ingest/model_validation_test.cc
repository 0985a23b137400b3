// The model validator on single files: each provider's pinning convention (the table in
// docs/release-format.md, "Models"), and limits.
#include <gtest/gtest.h>

#include "support/validate_file.h"

namespace cairn {
namespace {

testing::FileVerdict CheckModel(const std::string& text) {
  return testing::ValidateFile(ComponentKind::kModel, "models/m.json", text);
}

// Pinned: accepted, and recorded as pinned.
void ExpectPinned(const std::string& text) {
  auto r = CheckModel(text);
  EXPECT_TRUE(r.problems.empty()) << text << ": " << r.problems[0].ToString();
  EXPECT_EQ(r.facts.value("pinned", false), true) << text;
}

// Floating: refused as floating-model at `pointer`; accepted, unpinned, with "pinned": false.
void ExpectFloating(const std::string& text, const std::string& pointer) {
  auto r = CheckModel(text);
  ASSERT_EQ(r.problems.size(), 1u) << text;
  EXPECT_EQ(r.problems[0].rule, "floating-model") << text;
  EXPECT_EQ(r.problems[0].location, pointer) << r.problems[0].ToString();
  std::string declared = text.substr(0, text.rfind('}')) + R"(, "pinned": false})";
  auto with_flag = CheckModel(declared);
  EXPECT_TRUE(with_flag.problems.empty()) << declared;
  EXPECT_EQ(with_flag.facts.value("pinned", true), false);
  std::string claimed = text.substr(0, text.rfind('}')) + R"(, "pinned": true})";
  auto lie = CheckModel(claimed);
  ASSERT_EQ(lie.problems.size(), 1u) << claimed;
  EXPECT_EQ(lie.problems[0].location, "/pinned");
}

TEST(ModelPins, OpenAiDatedSnapshotsPinAndAliasesFloat) {
  ExpectPinned(R"({"provider": "openai", "model": "gpt-4o-2024-08-06"})");
  ExpectPinned(R"({"provider": "openai", "model": "gpt-3.5-turbo-0125"})");
  ExpectPinned(R"({"provider": "openai", "model": "ft:gpt-4o-mini-2024-07-18:acme::9Xyz"})");
  ExpectFloating(R"({"provider": "openai", "model": "gpt-4o"})", "/model");
  ExpectFloating(R"({"provider": "openai", "model": "chatgpt-4o-latest"})", "/model");
  // OpenAI serves by model id: a revision beside an alias pins nothing.
  ExpectFloating(R"({"provider": "openai", "model": "gpt-4o", "revision": "2024-08-06"})",
                 "/model");
}

TEST(ModelPins, AnthropicDatedIdsPinAndAliasesFloat) {
  ExpectPinned(R"({"provider": "anthropic", "model": "claude-3-5-haiku-20241022"})");
  ExpectPinned(R"({"provider": "Anthropic", "model": "claude-sonnet-4-5-20250929"})");
  ExpectFloating(R"({"provider": "anthropic", "model": "claude-3-5-haiku-latest"})", "/model");
  ExpectFloating(R"({"provider": "anthropic", "model": "claude-sonnet-4-5"})", "/model");
}

TEST(ModelPins, HuggingFaceRevisionMustBeACommit) {
  ExpectPinned(R"({"provider": "huggingface", "model": "meta-llama/Llama-3.1-8B-Instruct",
      "revision": "0e9e39f249a16976918f6564b8830bc894c89659"})");
  ExpectFloating(R"({"provider": "huggingface", "model": "meta-llama/Llama-3.1-8B-Instruct",
      "revision": "main"})",
                 "/revision");
  ExpectFloating(R"({"provider": "hf", "model": "org/model", "revision": "v1.0"})", "/revision");
  ExpectFloating(R"({"provider": "hf", "model": "org/model"})", "/");
}

TEST(ModelPins, Sha256DigestsPinOllamaAndOciModels) {
  std::string hex(64, 'a');
  ExpectPinned(R"({"provider": "ollama", "model": "llama3.1:8b", "digest": "sha256:)" + hex +
               "\"}");
  ExpectPinned(R"({"provider": "oci", "model": "registry.example/models/llama@sha256:)" + hex +
               "\"}");
  ExpectFloating(R"({"provider": "ollama", "model": "llama3.1:8b"})", "/model");
  ExpectFloating(R"({"provider": "ollama", "model": "llama3.1:latest"})", "/model");
}

TEST(ModelPins, ADigestThatIsNotADigestFloats) {
  ExpectFloating(R"({"provider": "ollama", "model": "llama3.1:8b", "digest": "sha256:abc"})",
                 "/digest");
  ExpectFloating(R"({"provider": "custom", "model": "m", "digest": "stable"})", "/digest");
  std::string upper(64, 'A');
  ExpectFloating(R"({"provider": "ollama", "model": "m", "digest": "sha256:)" + upper + "\"}",
                 "/digest");
}

TEST(ModelPins, BedrockIdsPinWithAVersionSuffix) {
  ExpectPinned(R"({"provider": "bedrock", "model": "anthropic.claude-3-5-haiku-20241022-v1:0"})");
  ExpectPinned(R"({"provider": "bedrock", "model": "amazon.titan-text-express-v1"})");
  ExpectFloating(R"({"provider": "bedrock", "model": "amazon.titan-text-express"})", "/model");
}

TEST(ModelPins, VertexVersionsPin) {
  ExpectPinned(R"({"provider": "vertex", "model": "gemini-1.5-pro@002"})");
  ExpectPinned(R"({"provider": "vertex-ai", "model": "gemini-1.5-flash-002"})");
  ExpectPinned(R"({"provider": "vertex", "model": "claude-3-5-haiku@20241022"})");
  ExpectFloating(R"({"provider": "vertex", "model": "gemini-1.5-pro"})", "/model");
}

TEST(ModelPins, OtherProvidersPinWithARevisionThatIsNotAMovingName) {
  ExpectPinned(R"({"provider": "acme", "model": "m", "revision": "r42"})");
  ExpectFloating(R"({"provider": "acme", "model": "m"})", "/");
  for (const char* word : {"latest", "stable", "main", "default"}) {
    ExpectFloating(
        std::string(R"({"provider": "acme", "model": "m", "revision": ")") + word + "\"}",
        "/revision");
  }
}

TEST(ModelLimits, AreWithinTheirCaps) {
  EXPECT_TRUE(CheckModel(R"({"provider": "openai", "model": "gpt-4o-2024-08-06",
      "limits": {"max_steps": 8, "max_cost_usd": 0.05, "max_tokens": 4000, "max_seconds": 30,
                 "max_retries": 2}})")
                  .problems.empty());
  auto r = CheckModel(R"({"provider": "openai", "model": "gpt-4o-2024-08-06",
      "limits": {"max_steps": -1, "max_cost_usd": -5, "max_tokens": 2.5, "max_tool_calls": 5000,
                 "max_seconds": 0, "other": "10"}})");
  std::vector<std::string> where;
  for (const auto& p : r.problems) {
    EXPECT_EQ(p.rule, "model-limits") << p.ToString();
    where.push_back(p.location);
  }
  EXPECT_EQ(where, (std::vector<std::string>{"/limits/max_cost_usd", "/limits/max_seconds",
                                             "/limits/max_steps", "/limits/max_tokens",
                                             "/limits/max_tool_calls", "/limits/other"}));
}

}  // namespace
}  // namespace cairn
