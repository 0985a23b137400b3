// Tools: function-calling definitions in one of the dialects of tool_dialect.h, whose
// argument schema is a JSON Schema object (json_schema.h checks the schema itself).
#include <fmt/format.h>

#include <algorithm>

#include "ingest/json_schema.h"
#include "ingest/tool_dialect.h"
#include "ingest/validators.h"

namespace cairn {
namespace {

// Every top-level field any dialect knows, and the ones each dialect allows.
constexpr std::string_view kAnyDialectField[] = {
    "name",         "description", "parameters",   "strict",        "response",
    "type",         "function",    "input_schema", "cache_control", "inputSchema",
    "outputSchema", "annotations", "title",        "_meta"};

std::vector<std::string_view> FieldsOf(ToolDialect dialect) {
  switch (dialect) {
    case ToolDialect::kCairn:
      return {"name", "description", "parameters", "strict", "response"};
    case ToolDialect::kOpenAiChat:
      return {"type", "function"};
    case ToolDialect::kOpenAiResponses:
      return {"type", "name", "description", "parameters", "strict"};
    case ToolDialect::kAnthropic:
      return {"type", "name", "description", "input_schema", "cache_control", "strict"};
    case ToolDialect::kMcp:
      return {"name",         "title",       "description", "inputSchema",
              "outputSchema", "annotations", "_meta"};
  }
  return {};
}

// Whether the dialect may leave out the argument schema for a tool without arguments.
bool InputSchemaOptional(ToolDialect dialect) {
  return dialect == ToolDialect::kCairn || dialect == ToolDialect::kOpenAiChat;
}

// Tool names: what OpenAI and Anthropic accept; MCP's own rule for MCP tools.
bool IsToolName(const std::string& name, ToolDialect dialect) {
  size_t max = dialect == ToolDialect::kMcp ? 128 : 64;
  if (name.empty() || name.size() > max) return false;
  return std::all_of(name.begin(), name.end(), [&](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || (ch == '.' && dialect == ToolDialect::kMcp);
  });
}

class ToolChecks {
 public:
  ToolChecks(const Json& tool, ToolDialect dialect, JsonChecker& c)
      : t_(tool), dialect_(dialect), c_(c) {}

  // The fields of `obj` (at `pointer`) outside `allowed`: another dialect's field is a
  // tool-dialect problem, a field of no dialect a tool-schema one.
  void OnlyDialectFields(const Json& obj, const std::string& pointer,
                         const std::vector<std::string_view>& allowed) {
    for (const auto& [key, value] : obj.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string names;
      for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      bool other = std::find(std::begin(kAnyDialectField), std::end(kAnyDialectField), key) !=
                   std::end(kAnyDialectField);
      if (other) {
        c_.Fail(PointerJoin(pointer, key),
                fmt::format("\"{}\" does not belong in a {} tool (its fields: {})", key,
                            ToolDialectName(dialect_), names),
                "tool-dialect");
      } else {
        c_.Fail(PointerJoin(pointer, key), fmt::format("unknown field \"{}\" (a {} tool has: {})",
                                                       key, ToolDialectName(dialect_), names));
      }
    }
  }

  // The object holding name, description and the argument schema, or nullptr.
  const Json* Body(std::string* base) {
    *base = "/";
    if (dialect_ != ToolDialect::kOpenAiChat) return &t_;
    const Json& f = t_["function"];
    if (!f.is_object()) {
      c_.Fail("/function", "\"function\" must be an object: {\"name\", \"parameters\", ...}");
      return nullptr;
    }
    *base = "/function";
    OnlyDialectFields(f, *base, {"name", "description", "parameters", "strict"});
    return &f;
  }

  void CheckType() {
    auto it = t_.find("type");
    if (it == t_.end()) {
      if (dialect_ == ToolDialect::kOpenAiChat) {
        c_.Fail("/", "missing \"type\": \"function\" beside \"function\"");
      }
      return;
    }
    const char* want = dialect_ == ToolDialect::kAnthropic ? "custom" : "function";
    if (*it != want) {
      c_.Fail("/type", fmt::format("\"type\" must be \"{}\" in a {} tool, found {}", want,
                                   ToolDialectName(dialect_), it->dump()));
    }
  }

  void CheckStrictFlag(const Json& body, const std::string& base) {
    auto it = body.find("strict");
    if (it == body.end() || it->is_boolean()) return;
    if (it->is_null() && dialect_ == ToolDialect::kOpenAiResponses) return;
    c_.Fail(PointerJoin(base, "strict"),
            fmt::format("must be true or false, found {}", it->type_name()));
  }

  // An argument (or output) schema: an object schema, then every JSON Schema rule.
  void CheckObjectSchema(const Json& schema, const std::string& ptr, bool strict) {
    if (!schema.is_object() || schema.value("type", Json()) != "object") {
      c_.Fail(ptr, "the schema must be an object with \"type\": \"object\"");
    }
    CheckJsonSchema(schema, ptr, strict, c_);
  }

  void CheckDialectExtras() {
    if (dialect_ == ToolDialect::kAnthropic) CheckCacheControl();
    if (dialect_ == ToolDialect::kMcp) CheckMcpFields();
    if (auto r = t_.find("response"); r != t_.end() && !r->is_object()) {
      c_.Fail("/response",
              fmt::format("\"response\" (the return value's schema) must be an object, found {}",
                          r->type_name()));
    }
  }

 private:
  void CheckCacheControl() {
    auto it = t_.find("cache_control");
    if (it == t_.end()) return;
    if (!it->is_object()) {
      c_.Fail("/cache_control", "must be an object: {\"type\": \"ephemeral\"}");
      return;
    }
    c_.OnlyFields(*it, "/cache_control", {"type", "ttl"});
    if (it->value("type", Json()) != "ephemeral") {
      c_.Fail("/cache_control/type", "must be \"ephemeral\"");
    }
    if (auto ttl = it->find("ttl"); ttl != it->end() && *ttl != "5m" && *ttl != "1h") {
      c_.Fail("/cache_control/ttl", fmt::format("must be \"5m\" or \"1h\", found {}", ttl->dump()));
    }
  }

  void CheckMcpFields() {
    c_.OptionalString(t_, "/", "title");
    c_.OptionalObject(t_, "/", "_meta");
    if (auto it = t_.find("outputSchema"); it != t_.end()) {
      CheckObjectSchema(*it, "/outputSchema", /*strict=*/false);
    }
    auto a = t_.find("annotations");
    if (a == t_.end() || !c_.OptionalObject(t_, "/", "annotations")) return;
    c_.OptionalString(*a, "/annotations", "title");
    for (const char* hint :
         {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}) {
      c_.OptionalBool(*a, "/annotations", hint);
    }
  }

  const Json& t_;
  ToolDialect dialect_;
  JsonChecker& c_;
};

class ToolValidator : public KindValidator {
 public:
  Validated Validate(const std::string& path, std::string_view bytes,
                     std::vector<Problem>* problems) const override {
    Validated out;
    out.tree = ParseStrictJson(bytes, path, problems);
    if (!out.tree) return out;
    const Json& t = *out.tree;
    JsonChecker c(path, "tool-schema", problems);
    if (!c.IsObject(t, "/")) return out;
    std::string conflict;
    auto dialect = DetectToolDialect(t, &conflict);
    if (!dialect) {
      c.Fail("/",
             fmt::format("mixes the fields of several tool dialects: {}; write the tool in one",
                         conflict),
             "tool-dialect");
      return out;
    }
    ToolChecks checks(t, *dialect, c);
    checks.OnlyDialectFields(t, "/", FieldsOf(*dialect));
    checks.CheckType();
    std::string base;
    const Json* body = checks.Body(&base);
    if (!body) return out;
    auto name = c.RequireString(*body, base, "name");
    if (name && !IsToolName(*name, *dialect)) {
      c.Fail(PointerJoin(base, "name"),
             fmt::format("\"{}\" is not a tool name ({})", *name,
                         *dialect == ToolDialect::kMcp ? "[A-Za-z0-9_.-]{1,128} in MCP"
                                                       : "[A-Za-z0-9_-]{1,64}"));
    }
    c.OptionalString(*body, base, "description");
    checks.CheckStrictFlag(*body, base);
    checks.CheckDialectExtras();
    ToolParts parts = ToolPartsOf(t);
    auto schema = body->find(parts.input_field);
    bool no_arguments =
        schema == body->end() || (schema->is_null() && *dialect == ToolDialect::kOpenAiResponses);
    if (schema == body->end() && !InputSchemaOptional(*dialect)) {
      c.Fail(base, fmt::format("missing \"{}\": the JSON Schema of the tool's arguments",
                               parts.input_field));
    } else if (!no_arguments) {
      auto strict = body->find("strict");
      checks.CheckObjectSchema(*schema, parts.input_pointer,
                               strict != body->end() && *strict == true);
    }
    if (c.failures() > 0 || !name) return out;
    std::vector<std::string> params, required;
    if (parts.input_schema) {
      if (auto p = parts.input_schema->find("properties"); p != parts.input_schema->end()) {
        for (const auto& [k, v] : p->items()) params.push_back(k);
      }
      if (auto r = parts.input_schema->find("required"); r != parts.input_schema->end()) {
        required = r->get<std::vector<std::string>>();
      }
    }
    std::sort(required.begin(), required.end());
    out.facts = {{"name", *name}, {"parameters", params}, {"required", required}};
    // cairn's own form is the default and not recorded: a release written before dialects
    // existed keeps the same facts, so the same content digest.
    if (*dialect != ToolDialect::kCairn) out.facts["dialect"] = ToolDialectName(*dialect);
    return out;
  }
};
}  // namespace

const KindValidator& ToolValidatorInstance() {
  static const ToolValidator v;
  return v;
}

}  // namespace cairn
