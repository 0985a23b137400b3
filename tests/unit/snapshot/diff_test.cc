#include "cairn/diff.h"

#include <gtest/gtest.h>

#include "cairn/ingest.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

std::vector<std::string> Descriptions(const std::vector<SchemaChange>& changes, bool breaking) {
  std::vector<std::string> out;
  for (const auto& c : changes) {
    if (c.breaking == breaking) out.push_back(c.description);
  }
  return out;
}

TEST(ToolDiff, ClassifiesBreakingAndCompatibleChanges) {
  Json before = Json::parse(R"({"name": "t", "parameters": {"type": "object",
    "properties": {"id": {"type": "string"}, "gone": {"type": "string"},
                   "mode": {"type": "string", "enum": ["a", "b"]},
                   "opt": {"type": "integer"}},
    "required": ["id"]}})");
  Json after = Json::parse(R"({"name": "t", "parameters": {"type": "object",
    "properties": {"id": {"type": "integer"}, "mode": {"type": "string", "enum": ["a", "c"]},
                   "opt": {"type": "integer"}, "newreq": {"type": "string"},
                   "newopt": {"type": "boolean"}},
    "required": ["id", "newreq", "opt"]}})");
  auto changes = DiffToolSchemas(before, after);
  EXPECT_EQ(Descriptions(changes, true),
            (std::vector<std::string>{
                "parameter \"gone\" removed", "parameter \"id\" retyped: string -> integer",
                "parameter \"mode\" no longer accepts \"b\"", "parameter \"opt\" is now required",
                "required parameter \"newreq\" added"}));
  EXPECT_EQ(Descriptions(changes, false),
            (std::vector<std::string>{"parameter \"mode\" also accepts \"c\"",
                                      "optional parameter \"newopt\" added"}));
}

TEST(ToolDiff, NestedObjectParametersAreCompared) {
  Json before = Json::parse(R"({"name": "t", "parameters": {"type": "object", "properties":
    {"addr": {"type": "object", "properties": {"zip": {"type": "string"}}}}}})");
  Json after = Json::parse(R"({"name": "t", "parameters": {"type": "object", "properties":
    {"addr": {"type": "object", "properties": {"zip": {"type": "integer"}}}}}})");
  auto changes = DiffToolSchemas(before, after);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_TRUE(changes[0].breaking);
  EXPECT_EQ(changes[0].description, "parameter \"addr.zip\" retyped: string -> integer");
}

TEST(ToolDiff, OnlyOptionalAdditionIsCompatible) {
  Json before = Json::parse(R"({"name": "t", "parameters": {"type": "object", "properties": {}}})");
  Json after = Json::parse(R"({"name": "t", "parameters": {"type": "object",
    "properties": {"x": {"type": "string"}}}})");
  auto changes = DiffToolSchemas(before, after);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_FALSE(changes[0].breaking);
}

constexpr const char* kRefundSchema = R"({"type": "object",
    "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"}},
    "required": ["order_id"]})";

TEST(ToolDiff, AToolMovedToAnotherDialectWithTheSameSchemaIsCompatible) {
  Json cairn_form =
      Json::parse(std::string(R"({"name": "refund", "parameters": )") + kRefundSchema + "}");
  Json forms[] = {
      Json::parse(std::string(R"({"type": "function", "function": {"name": "refund",
          "parameters": )") +
                  kRefundSchema + "}}"),
      Json::parse(std::string(R"({"type": "function", "name": "refund", "parameters": )") +
                  kRefundSchema + "}"),
      Json::parse(std::string(R"({"name": "refund", "input_schema": )") + kRefundSchema + "}"),
      Json::parse(std::string(R"({"name": "refund", "inputSchema": )") + kRefundSchema + "}"),
  };
  for (const Json& moved : forms) {
    auto changes = DiffToolSchemas(cairn_form, moved);
    ASSERT_EQ(changes.size(), 1u) << moved.dump();
    EXPECT_FALSE(changes[0].breaking);
    EXPECT_TRUE(changes[0].description.starts_with("dialect changed: cairn -> "))
        << changes[0].description;
  }
  // And a breaking change made while moving is still found, at the new place.
  Json narrowed = Json::parse(R"({"name": "refund", "inputSchema": {"type": "object",
      "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}})");
  auto changes = DiffToolSchemas(cairn_form, narrowed);
  EXPECT_EQ(Descriptions(changes, true), std::vector<std::string>{"parameter \"amount\" removed"});
  EXPECT_EQ(changes.back().pointer, "/inputSchema/properties/amount");
}

TEST(ToolDiff, BreakingChangesAreFoundThroughRefsAndNestedSchemas) {
  Json before = Json::parse(R"({"name": "t", "parameters": {"type": "object",
    "$defs": {"money": {"type": "object", "properties": {
                "amount": {"type": "number"},
                "currency": {"type": "string", "enum": ["EUR", "USD"]}},
              "required": ["amount"]}},
    "properties": {"refund": {"$ref": "#/$defs/money"},
                   "lines": {"type": "array", "items": {"type": "object",
                             "properties": {"sku": {"type": "string"},
                                            "qty": {"type": "integer"}}}}}}})");
  Json after = Json::parse(R"({"name": "t", "parameters": {"type": "object",
    "definitions": {"money": {"type": "object", "properties": {
                "amount": {"type": "number"},
                "currency": {"type": "string", "enum": ["EUR"]}},
              "required": ["amount", "currency"]}},
    "properties": {"refund": {"$ref": "#/definitions/money"},
                   "lines": {"type": "array", "items": {"type": "object",
                             "properties": {"qty": {"type": "number"}}}}}}})");
  auto changes = DiffToolSchemas(before, after);
  EXPECT_EQ(Descriptions(changes, true),
            (std::vector<std::string>{"parameter \"lines[].sku\" removed",
                                      "parameter \"refund.currency\" is now required",
                                      "parameter \"refund.currency\" no longer accepts \"USD\""}));
  EXPECT_EQ(
      Descriptions(changes, false),
      std::vector<std::string>{"parameter \"lines[].qty\" retyped: integer -> number (wider)"});
}

TEST(ToolDiff, MovingASchemaIntoDefsChangesNothing) {
  Json before = Json::parse(R"({"name": "t", "parameters": {"type": "object",
    "properties": {"id": {"type": "string", "enum": ["a", "b"]}}}})");
  Json after = Json::parse(R"({"name": "t", "parameters": {"type": "object",
    "$defs": {"id": {"type": "string", "enum": ["a", "b"]}},
    "properties": {"id": {"$ref": "#/$defs/id"}}}})");
  EXPECT_TRUE(DiffToolSchemas(before, after).empty());
}

TEST(ToolDiff, NarrowedTypesAndNewEnumsAreBreakingWidenedOnesCompatible) {
  Json before = Json::parse(R"({"name": "t", "parameters": {"type": "object", "properties": {
    "a": {"type": "string"}, "b": {"type": "number"}, "c": {"type": "string"},
    "d": {}}}})");
  Json after = Json::parse(R"({"name": "t", "parameters": {"type": "object", "properties": {
    "a": {"type": ["string", "null"]}, "b": {"type": "integer"},
    "c": {"type": "string", "enum": ["x"]}, "d": {"type": "string"}}}})");
  auto changes = DiffToolSchemas(before, after);
  EXPECT_EQ(Descriptions(changes, true),
            (std::vector<std::string>{"parameter \"b\" retyped: number -> integer",
                                      "parameter \"c\" now accepts only [\"x\"]",
                                      "parameter \"d\" retyped: any -> string"}));
  EXPECT_EQ(
      Descriptions(changes, false),
      std::vector<std::string>{"parameter \"a\" retyped: string -> [\"string\",\"null\"] (wider)"});
}

TEST(ToolDiff, CyclicRefsTerminate) {
  Json before = Json::parse(R"({"name": "t", "parameters": {"type": "object",
    "properties": {"child": {"$ref": "#"}, "name": {"type": "string"}}}})");
  Json after = Json::parse(R"({"name": "t", "parameters": {"type": "object",
    "properties": {"child": {"$ref": "#"}, "name": {"type": "integer"}}}})");
  auto changes = DiffToolSchemas(before, after);
  EXPECT_EQ(Descriptions(changes, true),
            std::vector<std::string>{"parameter \"name\" retyped: string -> integer"});
}

TEST(FieldDiff, ReportsChangedAddedAndRemovedLeaves) {
  auto changes = DiffJsonFields(
      Json::parse(R"({"model": "a", "params": {"temperature": 0.2, "top_p": 1}})"),
      Json::parse(R"({"model": "b", "params": {"temperature": 0.3, "max_tokens": 10}})"));
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].pointer, "/model");
  EXPECT_EQ(changes[1].pointer, "/params/max_tokens");
  EXPECT_TRUE(changes[1].added);
  EXPECT_EQ(changes[2].pointer, "/params/temperature");
  EXPECT_EQ(changes[3].pointer, "/params/top_p");
  EXPECT_TRUE(changes[3].removed);
}

TEST(TextDiff, IsUnifiedWithHunkHeaders) {
  auto d = UnifiedTextDiff("a\nb\nc\n", "a\nB\nc\n", "p.md", 3);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "--- a/p.md\n+++ b/p.md\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
  EXPECT_EQ(*UnifiedTextDiff("same", "same", "p.md", 3), "");
}

// A snapshot of the release directory `dir` (which must be valid).
Snapshot SnapshotOfDir(Store& store, const std::string& dir, const char* message) {
  CreateSnapshotOptions o;
  o.dir = dir;
  o.message = message;
  std::vector<Problem> problems;
  auto r = CreateSnapshot(store, o, &problems);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->snapshot : Snapshot{};
}

TEST(SnapshotDiff, PromptVariablesAddedAndRemovedAreReported) {
  testing::Sandbox box;
  auto store = Store::Init(box / "store");
  ASSERT_TRUE(store.ok());
  std::string dir = testing::WriteMinimalRelease(box, "rel");
  box.Write("rel/prompts/reply.j2", "{{ greeting }} {{ name }}\n");
  auto create = [&](const char* msg) { return SnapshotOfDir(**store, dir, msg); };
  Snapshot a = create("a");
  box.Write("rel/prompts/reply.j2", "{{ name }}{% for o in orders %} {{ o.id }}{% endfor %}\n");
  Snapshot b = create("b");
  DiffOptions stat_only;
  stat_only.details = false;
  auto diff = DiffSnapshots(**store, a, b, stat_only);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  ASSERT_EQ(diff->components.size(), 1u);
  EXPECT_EQ(diff->components[0].variables_added, std::vector<std::string>{"orders"});
  EXPECT_EQ(diff->components[0].variables_removed, std::vector<std::string>{"greeting"});
}

TEST(SnapshotDiff, FindsAddedRemovedChangedAndKnowledgeCounts) {
  testing::Sandbox box;
  auto store = Store::Init(box / "store");
  ASSERT_TRUE(store.ok());
  std::string dir = testing::WriteMinimalRelease(box, "rel");
  auto create = [&](const char* msg) { return SnapshotOfDir(**store, dir, msg); };
  Snapshot a = create("a");
  box.Write("rel/prompts/system.md", "Hi {{customer_name}}.\n");
  box.Write("rel/prompts/extra.md", "new\n");
  std::filesystem::remove(box / "rel/config/features.json");
  std::string doc2 = "Shipping takes 3 days.\n";
  box.Write("rel/knowledge/refunds/shipping.md", doc2);
  box.Write("rel/knowledge/refunds.json",
            R"({"embedding": {"model": "text-embedding-3-small"}, "chunking": {"size": 512},
 "documents": [{"path": "shipping.md", "digest": ")" +
                Digest::Of(doc2).ToString() + "\"}]}");
  std::filesystem::remove(box / "rel/knowledge/refunds/policy.md");
  Snapshot b = create("b");
  auto diff = DiffSnapshots(**store, a, b);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  std::map<std::string, ChangeType> seen;
  for (const auto& c : diff->components) seen[c.path] = c.type;
  EXPECT_EQ(seen, (std::map<std::string, ChangeType>{
                      {"config/features.json", ChangeType::kRemoved},
                      {"knowledge/refunds.json", ChangeType::kModified},
                      {"knowledge/refunds/policy.md", ChangeType::kRemoved},
                      {"knowledge/refunds/shipping.md", ChangeType::kAdded},
                      {"prompts/extra.md", ChangeType::kAdded},
                      {"prompts/system.md", ChangeType::kModified}}));
  for (const auto& c : diff->components) {
    if (c.path == "knowledge/refunds.json") {
      ASSERT_TRUE(c.documents.has_value());
      EXPECT_EQ(c.documents->added, 1u);
      EXPECT_EQ(c.documents->removed, 1u);
      EXPECT_EQ(c.documents->changed, 0u);
    }
    if (c.path == "prompts/system.md") {
      EXPECT_EQ(c.lines_added, 1);
      EXPECT_EQ(c.lines_removed, 1);
    }
  }
  EXPECT_FALSE(diff->same_content);
}

}  // namespace
}  // namespace cairn
