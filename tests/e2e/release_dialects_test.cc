// Tool and template dialects through the CLI: `show` names a tool's dialect, and `diff`
// calls a move to another dialect compatible while still finding what breaks; prompt
// variables added and removed are listed.
#include <gtest/gtest.h>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

std::string CreatedId(const Sandbox& box, const std::string& rel, const std::string& message) {
  auto r = Cairn(box, {"snapshot", "create", rel, "-m", message, "-q"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.substr(0, 64);
}

TEST(ReleaseDialects, ShowNamesTheToolDialectAndDiffSeparatesMovesFromBreaks) {
  Sandbox box;
  ASSERT_EQ(Cairn(box, {"init"}).exit_code, 0);
  std::string rel = WriteMinimalRelease(box, "rel");
  box.Write("rel/prompts/reply.j2", "{{ greeting }} {{ name }}\n");
  std::string a = CreatedId(box, rel, "a");
  // The same tool as an Anthropic tool; an enum narrowed in an OpenAI Chat Completions one.
  box.Write("rel/tools/lookup.json", R"({"name": "lookup_order", "input_schema":
      {"type": "object", "properties": {"order_id": {"type": "string"}},
       "required": ["order_id"]}})");
  box.Write("rel/tools/mode.json", R"({"name": "set_mode", "parameters": {"type": "object",
      "properties": {"mode": {"type": "string", "enum": ["fast", "safe"]}}}})");
  std::string b = CreatedId(box, rel, "b");
  box.Write("rel/tools/mode.json", R"({"type": "function", "function": {"name": "set_mode",
      "parameters": {"type": "object", "properties": {"mode": {"type": "string",
      "enum": ["safe"]}}}}})");
  box.Write("rel/prompts/reply.j2", "{{ name }}{% for o in orders %}{{ o }}{% endfor %}\n");
  std::string c = CreatedId(box, rel, "c");

  auto show = Cairn(box, {"show", c});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("lookup_order(order_id*) [anthropic]"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("set_mode(mode) [openai-chat]"), std::string::npos) << show.out;

  auto moved = Cairn(box, {"diff", a, b});
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_NE(moved.out.find("tools/lookup.json  compatible schema change"), std::string::npos)
      << moved.out;
  EXPECT_NE(moved.out.find("compatible dialect changed: cairn -> anthropic"), std::string::npos);
  EXPECT_EQ(moved.out.find("BREAKING"), std::string::npos) << moved.out;

  auto narrowed = Cairn(box, {"diff", b, c});
  ASSERT_EQ(narrowed.exit_code, 0) << narrowed.err;
  EXPECT_NE(narrowed.out.find("BREAKING   parameter \"mode\" no longer accepts \"fast\""),
            std::string::npos)
      << narrowed.out;
  EXPECT_NE(narrowed.out.find("  + variable orders\n  - variable greeting\n"), std::string::npos)
      << narrowed.out;
}

}  // namespace
}  // namespace cairn::testing
