// Prompt template dialects: mustache, Jinja2 and Python/LangChain format strings — the
// variables each extracts, the malformed tags each refuses with line and column, and how a
// release chooses one (snapshot.json "templates", overridden by a prompt's extension).
#include <gtest/gtest.h>

#include "cairn/ingest.h"
#include "support/sandbox.h"
#include "support/validate_file.h"

namespace cairn {
namespace {

testing::FileVerdict CheckPrompt(const std::string& text, TemplateDialect dialect,
                                 const std::string& path = "prompts/p.md") {
  testing::FileVerdict r;
  const KindValidator* v = ValidatorFor(ComponentKind::kPrompt, path, false, dialect);
  r.facts = v->Validate(path, text, &r.problems).facts;
  return r;
}

Json Vars(std::initializer_list<const char*> names) {
  Json out = Json::array();
  for (const char* n : names) out.push_back(n);
  return out;
}

TEST(PromptTemplates, MustacheStaysTheDefaultAndIsNotRecorded) {
  auto r = CheckPrompt("Hi {{ name }}, {{#items}}{{sku}}{{/items}} {{! note }}",
                       TemplateDialect::kMustache);
  ASSERT_TRUE(r.problems.empty());
  EXPECT_EQ(r.facts["variables"], Vars({"items", "name", "sku"}));
  EXPECT_FALSE(r.facts.contains("template"));
}

TEST(PromptTemplates, JinjaVariablesFiltersLoopsAndLocals) {
  auto r = CheckPrompt(R"({# greeting #}Hello {{ customer.name | title }}!
{% for order in orders if order.open %}- {{ order.id }} ({{ loop.index }}){% else %}none{% endfor %}
{% set total = orders | length %}{{ total }} {{ "literal" }} {{ amount|round(precision) }}
{% if vip is defined and not muted %}VIP{% elif tier == 'gold' %}gold{% endif %}
{%- raw %}{{ not_a_variable }}{% endraw -%})",
                       TemplateDialect::kJinja2);
  ASSERT_TRUE(r.problems.empty()) << r.problems[0].ToString();
  EXPECT_EQ(r.facts["variables"],
            Vars({"amount", "customer", "muted", "orders", "precision", "tier", "vip"}));
  EXPECT_EQ(r.facts["template"], "jinja2");
}

TEST(PromptTemplates, JinjaMacrosWithAndImportsDefineTheirNames) {
  auto r = CheckPrompt(R"({% import "forms.j2" as forms %}{% from "x.j2" import field %}
{% macro row(label, value=default_value) %}{{ label }}: {{ value }}{% endmacro %}
{% with greeting = salutation %}{{ greeting }} {{ forms.input(user) }}{% endwith %}
{{ row("a", 1) }} {{ field(x=1) }})",
                       TemplateDialect::kJinja2);
  ASSERT_TRUE(r.problems.empty()) << r.problems[0].ToString();
  EXPECT_EQ(r.facts["variables"], Vars({"default_value", "salutation", "user"}));
}

TEST(PromptTemplates, JinjaUnclosedAndMismatchedTagsAreRefusedWithLineAndColumn) {
  struct Case {
    const char* text;
    const char* location;
  } cases[] = {
      {"a\n  {{ name", "line 2, column 3"},
      {"a\n{% if x %}\nb", "line 2, column 1"},
      {"{% for x in y %}{% endif %}{% endfor %}", "line 1, column 17"},
      {"{% endfor %}", "line 1, column 1"},
      {"ok {# comment", "line 1, column 4"},
      {"{% frobnicate %}", "line 1, column 1"},
      {"{% for x %}{% endfor %}", "line 1, column 1"},
      {"x {{ }}", "line 1, column 3"},
      {"{% raw %}{{ x }}", "line 1, column 1"},
  };
  for (const auto& c : cases) {
    auto r = CheckPrompt(c.text, TemplateDialect::kJinja2);
    ASSERT_FALSE(r.problems.empty()) << c.text;
    EXPECT_EQ(r.problems[0].rule, "template") << c.text;
    EXPECT_EQ(r.problems[0].location, c.location) << c.text << ": " << r.problems[0].message;
  }
}

TEST(PromptTemplates, PythonFormatFieldsAndEscapedBraces) {
  auto r = CheckPrompt(
      "Dear {name}, order {order.id} of {orders[0]!r} costs {price:>10.2f}; "
      "JSON looks like {{\"a\": 1}}",
      TemplateDialect::kPython);
  ASSERT_TRUE(r.problems.empty()) << r.problems[0].ToString();
  EXPECT_EQ(r.facts["variables"], Vars({"name", "order", "orders", "price"}));
  EXPECT_EQ(r.facts["template"], "python");
}

TEST(PromptTemplates, PythonFormatRefusesUnclosedEmptyPositionalAndStrayBraces) {
  struct Case {
    const char* text;
    const char* location;
  } cases[] = {
      {"a\nb {name", "line 2, column 3"}, {"x {}", "line 1, column 3"},
      {"x {0}", "line 1, column 3"},      {"x } y", "line 1, column 3"},
      {"{a-b}", "line 1, column 1"},
  };
  for (const auto& c : cases) {
    auto r = CheckPrompt(c.text, TemplateDialect::kPython);
    ASSERT_FALSE(r.problems.empty()) << c.text;
    EXPECT_EQ(r.problems[0].rule, "template") << c.text;
    EXPECT_EQ(r.problems[0].location, c.location) << c.text << ": " << r.problems[0].message;
  }
}

TEST(PromptTemplates, ExtensionOverridesTheReleaseDialect) {
  EXPECT_EQ(TemplateDialectFor("prompts/a.j2", TemplateDialect::kPython), TemplateDialect::kJinja2);
  EXPECT_EQ(TemplateDialectFor("prompts/a.jinja", TemplateDialect::kMustache),
            TemplateDialect::kJinja2);
  EXPECT_EQ(TemplateDialectFor("prompts/a.mustache", TemplateDialect::kJinja2),
            TemplateDialect::kMustache);
  EXPECT_EQ(TemplateDialectFor("prompts/a.md", TemplateDialect::kPython), TemplateDialect::kPython);
}

TEST(PromptTemplates, SnapshotJsonChoosesTheDialectForTheWholeRelease) {
  testing::Sandbox box;
  std::string dir = testing::WriteMinimalRelease(box, "rel");
  box.Write("rel/snapshot.json", R"({"app": "demo", "templates": "python"})");
  box.Write("rel/prompts/letter.md", "Dear {customer},\n");
  box.Write("rel/prompts/loop.j2", "{% for o in orders %}{{ o }}{% endfor %}\n");
  std::vector<Problem> problems;
  ASSERT_TRUE(ValidateRelease(dir, &problems).ok());
  EXPECT_TRUE(problems.empty()) << problems[0].ToString();
  // Every prompt without a dialect extension is read as python: an unclosed field is refused.
  box.Write("rel/prompts/old.md", "Total: {amount\n");
  ASSERT_TRUE(ValidateRelease(dir, &problems).ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "prompts/old.md");
  EXPECT_EQ(problems[0].rule, "template");
  problems.clear();
  box.Write("rel/snapshot.json", R"({"app": "demo", "templates": "handlebars"})");
  ASSERT_TRUE(ValidateRelease(dir, &problems).ok());
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].rule, "snapshot-json");
  EXPECT_EQ(problems[0].location, "/templates");
}

TEST(PromptTemplates, AHostileTemplateListsABoundedNumberOfProblems) {
  std::string stray;
  for (int i = 0; i < 100000; ++i) stray += "} ";  // each a lone "}"
  auto r = CheckPrompt(stray, TemplateDialect::kPython);
  ASSERT_EQ(r.problems.size(), kMaxProblemsPerFile + 1);
  EXPECT_NE(r.problems.back().message.find("not listed"), std::string::npos);
}

}  // namespace
}  // namespace cairn
