// Tools: function-calling definitions whose parameters are a JSON Schema object.
#include <fmt/format.h>

#include <regex>
#include <set>

#include "ingest/validators.h"

namespace cairn {
namespace {

const std::set<std::string, std::less<>> kTypes = {"object",  "array",   "string", "number",
                                                   "integer", "boolean", "null"};

class SchemaChecker {
 public:
  explicit SchemaChecker(JsonChecker& c) : c_(c) {}

  void Check(const Json& s, const std::string& ptr) {
    if (s.is_boolean()) return;  // true / false are schemas
    if (!s.is_object()) {
      c_.Fail(ptr, fmt::format("a schema must be an object, found {}", s.type_name()));
      return;
    }
    CheckType(s, ptr);
    if (auto it = s.find("properties"); it != s.end()) {
      if (!it->is_object()) {
        c_.Fail(PointerJoin(ptr, "properties"), "\"properties\" must be an object of schemas");
      } else {
        for (const auto& [name, sub] : it->items()) {
          Check(sub, PointerJoin(PointerJoin(ptr, "properties"), name));
        }
      }
    }
    if (auto it = s.find("required"); it != s.end()) CheckRequired(s, *it, ptr);
    if (auto it = s.find("items"); it != s.end()) {
      if (it->is_array()) {
        for (size_t i = 0; i < it->size(); ++i) {
          Check((*it)[i], PointerJoin(PointerJoin(ptr, "items"), std::to_string(i)));
        }
      } else {
        Check(*it, PointerJoin(ptr, "items"));
      }
    }
    for (const char* key : {"anyOf", "oneOf", "allOf"}) {
      if (auto it = s.find(key); it != s.end()) {
        if (!it->is_array() || it->empty()) {
          c_.Fail(PointerJoin(ptr, key), fmt::format("\"{}\" must be a non-empty array", key));
          continue;
        }
        for (size_t i = 0; i < it->size(); ++i) {
          Check((*it)[i], PointerJoin(PointerJoin(ptr, key), std::to_string(i)));
        }
      }
    }
    for (const char* key : {"additionalProperties", "not"}) {
      if (auto it = s.find(key); it != s.end()) Check(*it, PointerJoin(ptr, key));
    }
    if (auto it = s.find("enum"); it != s.end() && (!it->is_array() || it->empty())) {
      c_.Fail(PointerJoin(ptr, "enum"), "\"enum\" must be a non-empty array");
    }
    if (auto it = s.find("description"); it != s.end() && !it->is_string()) {
      c_.Fail(PointerJoin(ptr, "description"), "\"description\" must be a string");
    }
  }

 private:
  void CheckType(const Json& s, const std::string& ptr) {
    auto it = s.find("type");
    if (it == s.end()) return;
    auto check_one = [&](const Json& t, const std::string& p) {
      if (!t.is_string() || !kTypes.contains(t.get<std::string>())) {
        c_.Fail(p, fmt::format("{} is not a JSON Schema type (object, array, string, number, "
                               "integer, boolean, null)",
                               t.dump()));
      }
    };
    if (it->is_array()) {
      for (size_t i = 0; i < it->size(); ++i) {
        check_one((*it)[i], PointerJoin(PointerJoin(ptr, "type"), std::to_string(i)));
      }
    } else {
      check_one(*it, PointerJoin(ptr, "type"));
    }
  }

  void CheckRequired(const Json& s, const Json& req, const std::string& ptr) {
    std::string rptr = PointerJoin(ptr, "required");
    if (!req.is_array()) {
      c_.Fail(rptr, "\"required\" must be an array of property names");
      return;
    }
    std::set<std::string> seen;
    const Json* props =
        s.contains("properties") && s["properties"].is_object() ? &s["properties"] : nullptr;
    for (size_t i = 0; i < req.size(); ++i) {
      std::string p = PointerJoin(rptr, std::to_string(i));
      if (!req[i].is_string()) {
        c_.Fail(p, "must be a property name (string)");
        continue;
      }
      std::string name = req[i].get<std::string>();
      if (!seen.insert(name).second) c_.Fail(p, fmt::format("\"{}\" is listed twice", name));
      if (props && !props->contains(name)) {
        c_.Fail(p, fmt::format("required property \"{}\" is not in \"properties\"", name));
      }
    }
  }

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
    c.OnlyFields(t, "/", {"name", "description", "parameters", "input_schema", "strict"});
    c.OptionalString(t, "/", "description");
    c.OptionalBool(t, "/", "strict");
    static const std::regex kName("^[A-Za-z0-9_-]{1,64}$");
    auto name = c.RequireString(t, "/", "name");
    if (name && !std::regex_match(*name, kName)) {
      c.Fail("/name", fmt::format("\"{}\" is not a tool name ([A-Za-z0-9_-]{{1,64}})", *name));
    }
    const char* field = t.contains("input_schema") ? "input_schema" : "parameters";
    if (t.contains("input_schema") && t.contains("parameters")) {
      c.Fail("/", "has both \"parameters\" and \"input_schema\": use one");
    }
    auto it = t.find(field);
    if (it == t.end()) {
      c.Fail("/", "missing \"parameters\": the JSON Schema of the tool's arguments");
      return out;
    }
    std::string ptr = PointerJoin("/", field);
    if (!it->is_object() || it->value("type", Json()) != "object") {
      c.Fail(ptr, "the parameters schema must be an object with \"type\": \"object\"");
    }
    SchemaChecker(c).Check(*it, ptr);
    if (c.failures() > 0 || !name) return out;
    std::vector<std::string> params, required;
    if (it->contains("properties")) {
      for (const auto& [k, v] : (*it)["properties"].items()) params.push_back(k);
    }
    if (it->contains("required")) required = (*it)["required"].get<std::vector<std::string>>();
    std::sort(required.begin(), required.end());
    out.facts = {{"name", *name}, {"parameters", params}, {"required", required}};
    return out;
  }
};
}  // namespace

const KindValidator& ToolValidatorInstance() {
  static const ToolValidator v;
  return v;
}

}  // namespace cairn
