// The tool validator on single files: each dialect, and every JSON Schema rule
// (docs/release-format.md, "Tools").
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "support/validate_file.h"

namespace cairn {
namespace {

struct ToolResult {
  std::vector<Problem> problems;
  Json facts;

  // "rule@pointer ..." sorted by pointer: the walk's order is not part of the contract.
  std::string Rules() const {
    std::vector<std::string> all;
    for (const auto& p : problems) all.push_back(p.location + " " + p.rule);
    std::sort(all.begin(), all.end());
    std::string out;
    for (const auto& a : all) {
      size_t space = a.rfind(' ');
      out += (out.empty() ? "" : " ") + a.substr(space + 1) + "@" + a.substr(0, space);
    }
    return out;
  }
};

ToolResult CheckTool(const std::string& text) {
  auto v = testing::ValidateFile(ComponentKind::kTool, "tools/t.json", text);
  return ToolResult{std::move(v.problems), std::move(v.facts)};
}

// A tool whose parameters are `schema`, in cairn's own form.
ToolResult CheckSchema(const std::string& schema, bool strict = false) {
  return CheckTool(std::string(R"({"name": "t", )") + (strict ? R"("strict": true, )" : "") +
                   R"("parameters": )" + schema + "}");
}

constexpr const char* kOrderSchema =
    R"({"type": "object", "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"]})";

// The default dialect is not recorded, so facts (and content digests) of releases written
// before dialects are unchanged.
TEST(ToolDialects, CairnFormIsTheDefaultAndNotRecorded) {
  auto r = CheckSchema(kOrderSchema);
  ASSERT_TRUE(r.problems.empty()) << r.Rules();
  EXPECT_FALSE(r.facts.contains("dialect")) << r.facts.dump();
  EXPECT_EQ(r.facts["name"], "t");
  EXPECT_EQ(r.facts["parameters"], Json::array({"order_id"}));
  EXPECT_EQ(r.facts["required"], Json::array({"order_id"}));
}

TEST(ToolDialects, OpenAiChatCompletionsFunctionIsAccepted) {
  auto r = CheckTool(std::string(R"({"type": "function", "function": {"name": "lookup_order",
      "description": "Find an order", "strict": false, "parameters": )") +
                     kOrderSchema + "}}");
  ASSERT_TRUE(r.problems.empty()) << r.Rules();
  EXPECT_EQ(r.facts["dialect"], "openai-chat");
  EXPECT_EQ(r.facts["name"], "lookup_order");
  EXPECT_EQ(r.facts["required"], Json::array({"order_id"}));
}

TEST(ToolDialects, OpenAiChatFunctionWithoutParametersTakesNoArguments) {
  auto r = CheckTool(R"({"type": "function", "function": {"name": "now"}})");
  ASSERT_TRUE(r.problems.empty()) << r.Rules();
  EXPECT_EQ(r.facts["parameters"], Json::array());
}

TEST(ToolDialects, OpenAiChatNeedsTypeFunctionAndKeepsItsFieldsInsideFunction) {
  EXPECT_EQ(CheckTool(R"({"function": {"name": "now"}})").Rules(), "tool-schema@/");
  EXPECT_EQ(CheckTool(R"({"type": "tool", "function": {"name": "now"}})").Rules(),
            "tool-schema@/type");
  EXPECT_EQ(
      CheckTool(R"({"type": "function", "name": "now", "function": {"name": "now"}})").Rules(),
      "tool-dialect@/name");
  EXPECT_EQ(
      CheckTool(R"({"type": "function", "function": {"name": "now", "input_schema": {}}})").Rules(),
      "tool-dialect@/function/input_schema");
}

TEST(ToolDialects, OpenAiResponsesFlatFunctionWithStrictIsAccepted) {
  auto r = CheckTool(R"({"type": "function", "name": "lookup_order", "strict": true,
      "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                     "required": ["order_id"], "additionalProperties": false}})");
  ASSERT_TRUE(r.problems.empty()) << r.Rules();
  EXPECT_EQ(r.facts["dialect"], "openai-responses");
}

TEST(ToolDialects, OpenAiResponsesNeedsParametersButNullMeansNoArguments) {
  auto r = CheckTool(R"({"type": "function", "name": "now", "parameters": null, "strict": null})");
  ASSERT_TRUE(r.problems.empty()) << r.Rules();
  EXPECT_EQ(r.facts["parameters"], Json::array());
  EXPECT_EQ(CheckTool(R"({"type": "function", "name": "now"})").Rules(), "tool-schema@/");
}

TEST(ToolDialects, AnthropicToolWithCacheControlIsAccepted) {
  auto r = CheckTool(std::string(R"({"name": "lookup_order", "description": "Find an order",
      "cache_control": {"type": "ephemeral", "ttl": "1h"}, "input_schema": )") +
                     kOrderSchema + "}");
  ASSERT_TRUE(r.problems.empty()) << r.Rules();
  EXPECT_EQ(r.facts["dialect"], "anthropic");
  EXPECT_EQ(r.facts["parameters"], Json::array({"order_id"}));
}

TEST(ToolDialects, AnthropicNeedsInputSchemaAndAnEphemeralCacheControl) {
  EXPECT_EQ(CheckTool(R"({"name": "now", "cache_control": {"type": "ephemeral"}})").Rules(),
            "tool-schema@/");
  EXPECT_EQ(CheckTool(std::string(R"({"name": "t", "cache_control": {"type": "forever"},
                "input_schema": )") +
                      kOrderSchema + "}")
                .Rules(),
            "tool-schema@/cache_control/type");
}

TEST(ToolDialects, McpToolWithOutputSchemaAnnotationsAndTitleIsAccepted) {
  auto r = CheckTool(std::string(R"({"name": "orders.lookup", "title": "Look up an order",
      "annotations": {"readOnlyHint": true, "openWorldHint": false},
      "outputSchema": {"type": "object", "properties": {"status": {"type": "string"}}},
      "inputSchema": )") +
                     kOrderSchema + "}");
  ASSERT_TRUE(r.problems.empty()) << r.Rules();
  EXPECT_EQ(r.facts["dialect"], "mcp");
  EXPECT_EQ(r.facts["name"], "orders.lookup");
}

TEST(ToolDialects, McpOutputSchemaAndAnnotationsAreChecked) {
  EXPECT_EQ(CheckTool(std::string(R"({"name": "t", "outputSchema": {"type": "object",
                "properties": {"n": {"type": "float"}}}, "inputSchema": )") +
                      kOrderSchema + "}")
                .Rules(),
            "schema-type@/outputSchema/properties/n/type");
  EXPECT_EQ(CheckTool(std::string(R"({"name": "t", "annotations": {"readOnlyHint": "yes"},
                "inputSchema": )") +
                      kOrderSchema + "}")
                .Rules(),
            "tool-schema@/annotations/readOnlyHint");
}

TEST(ToolDialects, AFileMixingDialectsIsRefusedNamingTheFields) {
  auto r = CheckTool(std::string(R"({"name": "t", "annotations": {}, "input_schema": )") +
                     kOrderSchema + "}");
  ASSERT_EQ(r.Rules(), "tool-dialect@/");
  EXPECT_NE(r.problems[0].message.find("\"input_schema\" (anthropic)"), std::string::npos);
  EXPECT_NE(r.problems[0].message.find("\"annotations\" (mcp)"), std::string::npos);
  EXPECT_EQ(CheckTool(std::string(R"({"name": "t", "parameters": {"type": "object"},
                "input_schema": )") +
                      kOrderSchema + "}")
                .Rules(),
            "tool-dialect@/parameters");
  EXPECT_EQ(CheckTool(std::string(R"({"type": "function", "name": "t", "inputSchema": )") +
                      kOrderSchema + "}")
                .Rules(),
            "tool-dialect@/");
}

TEST(ToolDialects, NoArgumentCairnToolNeedsNoParameters) {
  auto r = CheckTool(R"({"name": "now", "description": "The current time"})");
  ASSERT_TRUE(r.problems.empty()) << r.Rules();
  EXPECT_EQ(r.facts["parameters"], Json::array());
}

TEST(ToolDialects, BfclResponseObjectIsAcceptedUncheckedAndANonObjectRefused) {
  auto r = CheckTool(std::string(R"({"name": "t", "response": {"type": "object",
      "properties": {"score": {"type": "float"}, "pair": {"type": "array",
      "items": [{"type": "float"}, {"type": "string"}]}}}, "parameters": )") +
                     kOrderSchema + "}");
  EXPECT_TRUE(r.problems.empty()) << r.Rules();
  EXPECT_EQ(CheckTool(R"({"name": "t", "response": "a float"})").Rules(), "tool-schema@/response");
}

TEST(ToolDialects, OtherUnknownTopLevelFieldsStayRefused) {
  EXPECT_EQ(CheckTool(R"({"name": "t", "returns": {}})").Rules(), "tool-schema@/returns");
  EXPECT_EQ(CheckTool(R"({"type": "function", "name": "t", "parameters": null, "x": 1})").Rules(),
            "tool-schema@/x");
}

TEST(ToolDialects, NamesFollowTheProvidersRule) {
  EXPECT_EQ(CheckTool(R"({"name": "math.sum"})").Rules(), "tool-schema@/name");
  EXPECT_EQ(CheckTool(std::string(R"({"name": ")") + std::string(65, 'a') + "\"}").Rules(),
            "tool-schema@/name");
  EXPECT_EQ(CheckTool(std::string(R"({"name": ")") + std::string(1 << 20, 'a') + "\"}").Rules(),
            "tool-schema@/name");
}

TEST(ToolSchemas, EverySubschemaKeywordIsWalked) {
  auto r = CheckSchema(R"({"type": "object",
      "$defs": {"a": {"type": "dict"}},
      "definitions": {"b": {"type": "dict"}},
      "properties": {"p": {"type": "array", "prefixItems": [{"type": "dict"}],
                           "contains": {"type": "dict"}, "items": {"type": "dict"}}},
      "patternProperties": {"^x": {"type": "dict"}},
      "additionalProperties": {"type": "dict"},
      "propertyNames": {"type": "dict"},
      "dependentSchemas": {"p": {"type": "dict"}},
      "allOf": [{"type": "dict"}], "anyOf": [{"type": "dict"}], "oneOf": [{"type": "dict"}],
      "not": {"type": "dict"},
      "if": {"type": "dict"}, "then": {"type": "dict"}, "else": {"type": "dict"},
      "unevaluatedProperties": {"type": "dict"}})");
  std::set<std::string> where;
  for (const auto& p : r.problems) {
    EXPECT_EQ(p.rule, "schema-type") << p.ToString();
    where.insert(p.location);
  }
  std::set<std::string> expected = {"/parameters/$defs/a/type",
                                    "/parameters/definitions/b/type",
                                    "/parameters/properties/p/prefixItems/0/type",
                                    "/parameters/properties/p/contains/type",
                                    "/parameters/properties/p/items/type",
                                    "/parameters/patternProperties/^x/type",
                                    "/parameters/additionalProperties/type",
                                    "/parameters/propertyNames/type",
                                    "/parameters/dependentSchemas/p/type",
                                    "/parameters/allOf/0/type",
                                    "/parameters/anyOf/0/type",
                                    "/parameters/oneOf/0/type",
                                    "/parameters/not/type",
                                    "/parameters/if/type",
                                    "/parameters/then/type",
                                    "/parameters/else/type",
                                    "/parameters/unevaluatedProperties/type"};
  EXPECT_EQ(where, expected);
}

TEST(ToolSchemas, Draft07TupleItemsAndDependenciesAreWalkedWhenSchemaSaysSo) {
  auto r = CheckSchema(R"({"$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object", "properties": {"pair": {"type": "array",
      "items": [{"type": "number"}, {"type": "float"}], "additionalItems": {"type": "tuple"}}},
      "dependencies": {"a": ["b"], "c": {"type": "dict"}}})");
  EXPECT_EQ(r.Rules(),
            "schema-type@/parameters/dependencies/c/type "
            "schema-type@/parameters/properties/pair/additionalItems/type "
            "schema-type@/parameters/properties/pair/items/1/type");
}

TEST(ToolSchemas, Draft202012RefusesTupleItemsAndIgnoresDraft07OnlyKeywords) {
  EXPECT_EQ(CheckSchema(R"({"type": "object", "properties": {"pair": {"type": "array",
                "items": [{"type": "number"}]}}})")
                .Rules(),
            "schema-keyword@/parameters/properties/pair/items");
  EXPECT_TRUE(CheckSchema(R"({"type": "object", "dependencies": {"c": {"type": "dict"}}})")
                  .problems.empty());
}

TEST(ToolSchemas, UnknownDraftIsRefused) {
  EXPECT_EQ(CheckSchema(R"({"$schema": "http://json-schema.org/draft-04/schema#",
                "type": "object"})")
                .Rules(),
            "schema-draft@/parameters/$schema");
  EXPECT_TRUE(CheckSchema(R"({"$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object"})")
                  .problems.empty());
}

TEST(ToolSchemas, LocalRefsResolve) {
  auto r = CheckSchema(R"({"type": "object",
      "$defs": {"id": {"type": "string"}, "a/b": {"type": "string"},
                "named": {"$anchor": "named", "type": "string"}},
      "definitions": {"old": {"type": "integer"}},
      "properties": {"a": {"$ref": "#/$defs/id"}, "b": {"$ref": "#/definitions/old"},
                     "c": {"$ref": "#/$defs/a~1b"}, "d": {"$ref": "#/%24defs/id"},
                     "e": {"$ref": "#named"}, "self": {"$ref": "#"},
                     "f": {"$ref": "#/properties/a"}}})");
  EXPECT_TRUE(r.problems.empty()) << r.Rules();
}

TEST(ToolSchemas, DanglingAndRemoteRefsAreRefused) {
  auto r = CheckSchema(R"({"type": "object", "$defs": {"id": {"type": "string"}},
      "properties": {"a": {"$ref": "#/$defs/missing"},
                     "b": {"$ref": "https://example.com/schemas/id.json"},
                     "c": {"$ref": "common.json#/$defs/id"},
                     "d": {"$ref": "#nowhere"}, "e": {"$ref": 7}}})");
  EXPECT_EQ(r.Rules(),
            "schema-ref@/parameters/properties/a/$ref schema-ref@/parameters/properties/b/$ref "
            "schema-ref@/parameters/properties/c/$ref schema-ref@/parameters/properties/d/$ref "
            "schema-keyword@/parameters/properties/e/$ref");
}

TEST(ToolSchemas, ValuesOfKnownKeywordsAreTypeChecked) {
  auto r = CheckSchema(R"({"type": "object", "properties": {
      "a": {"type": "integer", "minimum": "1"},
      "b": {"type": "string", "maxLength": -1},
      "c": {"type": "number", "multipleOf": 0},
      "d": {"type": "string", "pattern": 5},
      "e": {"type": "array", "uniqueItems": "yes"},
      "f": {"type": "string", "enum": []},
      "g": {"type": "object", "required": "x"},
      "h": {"type": "object", "required": ["x", "x"]},
      "i": {"type": "object", "properties": []},
      "j": {"anyOf": []},
      "k": {"type": "string", "minLength": 2.0}}})");
  EXPECT_EQ(r.Rules(),
            "schema-keyword@/parameters/properties/a/minimum "
            "schema-keyword@/parameters/properties/b/maxLength "
            "schema-keyword@/parameters/properties/c/multipleOf "
            "schema-keyword@/parameters/properties/d/pattern "
            "schema-keyword@/parameters/properties/e/uniqueItems "
            "schema-keyword@/parameters/properties/f/enum "
            "schema-keyword@/parameters/properties/g/required "
            "schema-keyword@/parameters/properties/h/required/1 "
            "schema-keyword@/parameters/properties/i/properties "
            "schema-keyword@/parameters/properties/j/anyOf");
}

TEST(ToolSchemas, UnknownKeywordsAndDefaultsAreNotChecked) {
  auto r = CheckSchema(R"({"type": "object", "x-vendor": {"type": "dict"}, "properties": {
      "a": {"type": "integer", "default": "seven", "optional": true, "minimum": 1}}})");
  EXPECT_TRUE(r.problems.empty()) << r.Rules();
}

TEST(ToolSchemas, EnumAndConstMustFitTheDeclaredType) {
  auto r = CheckSchema(R"({"type": "object", "properties": {
      "a": {"type": "boolean", "enum": ["True", "False", "dontcare"]},
      "b": {"type": "integer", "enum": ["1", "2"]},
      "c": {"type": "array", "items": {"type": "string"}, "enum": ["x", "y"]},
      "d": {"type": "integer", "const": 1.5},
      "ok1": {"type": "integer", "enum": [1, 2.0]},
      "ok2": {"type": ["string", "null"], "enum": ["x", null]},
      "ok3": {"enum": ["x", 1]},
      "ok4": {"type": "number", "const": 3}}})");
  EXPECT_EQ(r.Rules(),
            "schema-enum@/parameters/properties/a/enum schema-enum@/parameters/properties/b/enum "
            "schema-enum@/parameters/properties/c/enum schema-enum@/parameters/properties/d/const");
  EXPECT_NE(r.problems[0].message.find("\"True\", \"False\", \"dontcare\""), std::string::npos);
}

constexpr const char* kStrictSchema = R"({"type": "object", "additionalProperties": false,
    "$defs": {"money": {"type": "object", "additionalProperties": false,
              "properties": {"amount": {"type": "number", "minimum": 0},
                             "currency": {"type": "string", "enum": ["EUR", "USD"]}},
              "required": ["amount", "currency"]}},
    "properties": {
      "order_id": {"type": "string", "pattern": "^ord_"},
      "when": {"type": ["string", "null"], "format": "date-time"},
      "refund": {"anyOf": [{"$ref": "#/$defs/money"}, {"type": "null"}]},
      "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5}},
    "required": ["order_id", "when", "refund", "tags"]})";

TEST(ToolSchemas, StrictSchemaWithinOpenAiRulesIsAccepted) {
  auto r = CheckSchema(kStrictSchema, /*strict=*/true);
  EXPECT_TRUE(r.problems.empty()) << r.Rules();
}

TEST(ToolSchemas, StrictModeRulesAreAppliedOnlyWithStrictTrue) {
  const char* loose = R"({"type": "object", "properties": {
      "a": {"type": "string", "minLength": 1},
      "b": {"type": "object", "properties": {"c": {"type": "string"}}, "required": ["c"]},
      "d": {"type": "string", "format": "uri"},
      "e": {"description": "anything"}},
      "required": ["a", "b", "d"], "additionalProperties": false})";
  EXPECT_TRUE(CheckSchema(loose).problems.empty());
  EXPECT_EQ(CheckSchema(loose, /*strict=*/true).Rules(),
            "strict-mode@/parameters/properties/a/minLength strict-mode@/parameters/properties/b "
            "strict-mode@/parameters/properties/d/format strict-mode@/parameters/properties/e "
            "strict-mode@/parameters/properties/e");
}

TEST(ToolSchemas, StrictRootMustNotBeAnyOf) {
  EXPECT_EQ(CheckSchema(R"({"type": "object", "additionalProperties": false,
                "anyOf": [{"type": "object", "additionalProperties": false}]})",
                        /*strict=*/true)
                .Rules(),
            "strict-mode@/parameters/anyOf");
}

TEST(ToolSchemas, RecursiveRefsAndDeepNestingAreWalkedWithoutRecursion) {
  EXPECT_TRUE(CheckSchema(R"({"type": "object", "properties": {
      "child": {"$ref": "#"}, "loop": {"$ref": "#/properties/loop"}}})")
                  .problems.empty());
  // As deep as the parser allows: 64 levels, of which the tool, "parameters", "properties"
  // and the innermost schema take 4.
  std::string deep = R"({"type": "object", "properties": {"x": )";
  std::string close = "}}";
  int levels = 0;
  for (; levels < 60; ++levels) {
    deep += R"({"not": )";
    close += "}";
  }
  auto r = CheckSchema(deep + R"({"type": "dict"})" + close);
  ASSERT_EQ(r.problems.size(), 1u) << r.Rules();
  EXPECT_EQ(r.problems[0].rule, "schema-type");
}

TEST(ToolSchemas, ManySubschemasCostNoStackDepth) {
  std::string wide = R"({"type": "object", "properties": {)";
  for (int i = 0; i < 50000; ++i) {
    wide += (i ? "," : "") + fmt::format(R"("p{}": {{"anyOf": [{{"type": "string"}}]}})", i);
  }
  auto r = CheckSchema(wide + "}}");
  EXPECT_TRUE(r.problems.empty()) << r.Rules();
  EXPECT_EQ(r.facts["parameters"].size(), 50000u);
}

TEST(ToolSchemas, AHostileFileListsABoundedNumberOfProblems) {
  std::string many = R"({"type": "object", "properties": {)";
  for (int i = 0; i < 100000; ++i)
    many += fmt::format(R"({}"p{}": {{"type": "x"}})", i ? "," : "", i);
  auto r = CheckSchema(many + "}}");
  ASSERT_EQ(r.problems.size(), kMaxProblemsPerFile + 1);
  EXPECT_NE(r.problems.back().message.find("not listed"), std::string::npos);
}

}  // namespace
}  // namespace cairn
