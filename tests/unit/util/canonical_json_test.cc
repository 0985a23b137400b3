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

#include "cairn/snapshot.h"

namespace cairn {
namespace {

TEST(CanonicalManifest, DirectSerialisationEqualsTheJsonTreeOne) {
  Snapshot s;
  s.app = "demo";
  s.author = "ü \"quoted\" \\ author";
  s.message = "line1\nline2\t\x01";
  s.labels = {{"b", "2"}, {"a", "1"}};
  s.created_micros = 1795528980123456;
  s.description = "d";
  s.parent = SnapshotId(Digest::Of("p"));
  s.source = {{"type", "directory"}, {"path", "/tmp/x"}};
  for (const char* path : {"config/\"odd\".json", "knowledge/é/ü.md", "prompts/a\x7f.md"}) {
    Component c;
    c.path = path;
    c.kind = ComponentKind::kPrompt;
    c.digest = Digest::Of(path);
    c.size = 42;
    if (std::string(path).starts_with("prompts")) c.facts = {{"variables", {"x", "y"}}};
    s.components.push_back(c);
  }
  s.content = *ContentDigest(s.components);
  auto direct = CanonicalManifest(s);
  auto tree = CanonicalJson(ManifestJson(s));
  ASSERT_TRUE(direct.ok());
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(*direct, *tree);
  s.components.clear();
  s.content = *ContentDigest(s.components);
  s.description.clear();
  EXPECT_EQ(*CanonicalManifest(s), *CanonicalJson(ManifestJson(s)));
}

TEST(CanonicalJson, RawMemberIsInsertedInKeyOrder) {
  Json obj = {{"a", 1}, {"z", 2}};
  EXPECT_EQ(*CanonicalJsonWithRawMember(obj, "m", "[3]"), R"({"a":1,"m":[3],"z":2})");
  EXPECT_EQ(*CanonicalJsonWithRawMember(obj, "zz", "0"), R"({"a":1,"z":2,"zz":0})");
  EXPECT_EQ(*CanonicalJsonWithRawMember(Json::object(), "k", "0"), R"({"k":0})");
  EXPECT_FALSE(CanonicalJsonWithRawMember(obj, "a", "0").ok());
}

}  // namespace
}  // namespace cairn
