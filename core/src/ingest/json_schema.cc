// JSON Schema checks (json_schema.h). The keyword table below is the whole of what cairn
// knows about JSON Schema: a keyword not in it is ignored, as the specification asks.
#include "ingest/json_schema.h"

#include <fmt/format.h>

#include <cmath>
#include <set>
#include <vector>

namespace cairn {
namespace {

enum class Draft { k2020_12, k07 };

// What a keyword's value must be.
enum class KeywordValue {
  kSchema,          // one schema (an object or a boolean)
  kSchemaMap,       // an object whose values are schemas
  kSchemaArray,     // a non-empty array of schemas
  kItems07,         // draft-07 "items": a schema or an array of schemas
  kDependencies07,  // draft-07 "dependencies": schemas or arrays of property names
  kNonNegativeInteger,
  kNumber,
  kPositiveNumber,
  kString,
  kBoolean,
  kType,           // a type name or a non-empty array of distinct type names
  kNonEmptyArray,  // "enum"
  kArray,          // "examples"
  kNameList,       // "required": distinct strings
  kNameListMap,    // "dependentRequired": an object of name lists
  kRef,            // "$ref": a local reference
};

struct KeywordSpec {
  std::string_view name;
  KeywordValue value;
  bool draft07;
  bool draft2020;
};

// Draft 2020-12 (core, applicator, validation, meta-data, content vocabularies) and draft-07.
// "$defs" and "definitions" are resolved in both drafts: schemas in the wild mix them.
constexpr KeywordSpec kSchemaKeywords[] = {
    {"properties", KeywordValue::kSchemaMap, true, true},
    {"patternProperties", KeywordValue::kSchemaMap, true, true},
    {"$defs", KeywordValue::kSchemaMap, true, true},
    {"definitions", KeywordValue::kSchemaMap, true, true},
    {"dependentSchemas", KeywordValue::kSchemaMap, false, true},
    {"additionalProperties", KeywordValue::kSchema, true, true},
    {"propertyNames", KeywordValue::kSchema, true, true},
    {"contains", KeywordValue::kSchema, true, true},
    {"not", KeywordValue::kSchema, true, true},
    {"if", KeywordValue::kSchema, true, true},
    {"then", KeywordValue::kSchema, true, true},
    {"else", KeywordValue::kSchema, true, true},
    {"unevaluatedItems", KeywordValue::kSchema, false, true},
    {"unevaluatedProperties", KeywordValue::kSchema, false, true},
    {"contentSchema", KeywordValue::kSchema, false, true},
    {"items", KeywordValue::kSchema, false, true},
    {"items", KeywordValue::kItems07, true, false},
    {"additionalItems", KeywordValue::kSchema, true, false},
    {"prefixItems", KeywordValue::kSchemaArray, false, true},
    {"allOf", KeywordValue::kSchemaArray, true, true},
    {"anyOf", KeywordValue::kSchemaArray, true, true},
    {"oneOf", KeywordValue::kSchemaArray, true, true},
    {"dependencies", KeywordValue::kDependencies07, true, false},
    {"maxLength", KeywordValue::kNonNegativeInteger, true, true},
    {"minLength", KeywordValue::kNonNegativeInteger, true, true},
    {"maxItems", KeywordValue::kNonNegativeInteger, true, true},
    {"minItems", KeywordValue::kNonNegativeInteger, true, true},
    {"maxProperties", KeywordValue::kNonNegativeInteger, true, true},
    {"minProperties", KeywordValue::kNonNegativeInteger, true, true},
    {"maxContains", KeywordValue::kNonNegativeInteger, false, true},
    {"minContains", KeywordValue::kNonNegativeInteger, false, true},
    {"minimum", KeywordValue::kNumber, true, true},
    {"maximum", KeywordValue::kNumber, true, true},
    {"exclusiveMinimum", KeywordValue::kNumber, true, true},
    {"exclusiveMaximum", KeywordValue::kNumber, true, true},
    {"multipleOf", KeywordValue::kPositiveNumber, true, true},
    {"pattern", KeywordValue::kString, true, true},
    {"format", KeywordValue::kString, true, true},
    {"title", KeywordValue::kString, true, true},
    {"description", KeywordValue::kString, true, true},
    {"$comment", KeywordValue::kString, true, true},
    {"$id", KeywordValue::kString, true, true},
    {"$anchor", KeywordValue::kString, false, true},
    {"$schema", KeywordValue::kString, true, true},
    {"contentEncoding", KeywordValue::kString, true, true},
    {"contentMediaType", KeywordValue::kString, true, true},
    {"uniqueItems", KeywordValue::kBoolean, true, true},
    {"readOnly", KeywordValue::kBoolean, true, true},
    {"writeOnly", KeywordValue::kBoolean, true, true},
    {"deprecated", KeywordValue::kBoolean, false, true},
    {"type", KeywordValue::kType, true, true},
    {"enum", KeywordValue::kNonEmptyArray, true, true},
    {"examples", KeywordValue::kArray, true, true},
    {"required", KeywordValue::kNameList, true, true},
    {"dependentRequired", KeywordValue::kNameListMap, false, true},
    {"$ref", KeywordValue::kRef, true, true},
};

const KeywordSpec* FindKeyword(std::string_view name, Draft draft) {
  for (const KeywordSpec& k : kSchemaKeywords) {
    if (k.name == name && (draft == Draft::k07 ? k.draft07 : k.draft2020)) return &k;
  }
  return nullptr;
}

const std::set<std::string, std::less<>> kSchemaTypeNames = {
    "object", "array", "string", "number", "integer", "boolean", "null"};

// OpenAI strict mode (structured outputs, "Supported schemas", as documented in 2026-12):
// the keywords it accepts; every other JSON Schema keyword is refused.
const std::set<std::string, std::less<>> kStrictKeywords = {"type",
                                                            "properties",
                                                            "required",
                                                            "additionalProperties",
                                                            "items",
                                                            "enum",
                                                            "const",
                                                            "anyOf",
                                                            "$ref",
                                                            "$defs",
                                                            "definitions",
                                                            "description",
                                                            "title",
                                                            "$comment",
                                                            "default",
                                                            "examples",
                                                            "$schema",
                                                            "$id",
                                                            "pattern",
                                                            "format",
                                                            "multipleOf",
                                                            "maximum",
                                                            "exclusiveMaximum",
                                                            "minimum",
                                                            "exclusiveMinimum",
                                                            "minItems",
                                                            "maxItems"};
const std::set<std::string, std::less<>> kStrictFormats = {
    "date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"};
constexpr int kStrictMaxObjectDepth = 10;
constexpr size_t kStrictMaxProperties = 5000;
constexpr size_t kStrictMaxEnumValues = 1000;

bool IsSchema(const Json& v) { return v.is_object() || v.is_boolean(); }

bool IsNonNegativeInteger(const Json& v) {
  if (v.is_number_unsigned()) return true;
  if (v.is_number_integer()) return v.get<int64_t>() >= 0;
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::isfinite(d) && d >= 0 && std::trunc(d) == d;
  }
  return false;
}

bool HasSchemaType(const Json& v, std::string_view type) {
  if (type == "null") return v.is_null();
  if (type == "boolean") return v.is_boolean();
  if (type == "string") return v.is_string();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    double d = v.get<double>();
    return std::isfinite(d) && std::trunc(d) == d;
  }
  return false;
}

std::string DecodeUriFragment(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// One JSON-pointer reference token, unescaped.
std::string UnescapePointerToken(std::string_view token) {
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out += token[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

const Json* FollowPointer(const Json& root, std::string_view pointer) {
  const Json* at = &root;
  size_t pos = 0;
  while (pos < pointer.size()) {
    if (pointer[pos] != '/') return nullptr;
    size_t end = pointer.find('/', pos + 1);
    if (end == std::string_view::npos) end = pointer.size();
    std::string token = UnescapePointerToken(pointer.substr(pos + 1, end - pos - 1));
    if (at->is_object()) {
      auto it = at->find(token);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array()) {
      if (token.empty() || token.size() > 9 ||
          token.find_first_not_of("0123456789") != std::string::npos ||
          (token.size() > 1 && token[0] == '0')) {
        return nullptr;
      }
      size_t index = std::stoul(token);
      if (index >= at->size()) return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
    pos = end;
  }
  return at;
}

// Finds the subschema declaring the plain-name fragment `name` ("$anchor": name, or the
// draft-07 form "$id": "#name"), iteratively.
const Json* FindAnchor(const Json& root, const std::string& name) {
  std::vector<const Json*> stack = {&root};
  while (!stack.empty()) {
    const Json* v = stack.back();
    stack.pop_back();
    if (v->is_object()) {
      auto anchor = v->find("$anchor");
      if (anchor != v->end() && anchor->is_string() && *anchor == name) return v;
      auto id = v->find("$id");
      if (id != v->end() && id->is_string() && id->get<std::string>() == "#" + name) return v;
      for (const auto& [key, sub] : v->items()) stack.push_back(&sub);
    } else if (v->is_array()) {
      for (const auto& sub : *v) stack.push_back(&sub);
    }
  }
  return nullptr;
}

// The draft a schema document is written in, from its root "$schema"; nullopt when the
// value names a draft cairn does not check.
std::optional<Draft> DraftOf(const std::string& uri) {
  std::string u = uri;
  if (u.ends_with("#")) u.pop_back();
  if (u.starts_with("https://")) u = "http://" + u.substr(8);
  if (u == "http://json-schema.org/draft/2020-12/schema") return Draft::k2020_12;
  if (u == "http://json-schema.org/draft-07/schema") return Draft::k07;
  return std::nullopt;
}

class SchemaWalk {
 public:
  SchemaWalk(const Json& root, const std::string& root_pointer, bool strict, JsonChecker& c)
      : root_(root), root_pointer_(root_pointer), strict_(strict), c_(c) {}

  void Run() {
    if (root_.is_object()) {
      auto it = root_.find("$schema");
      if (it != root_.end() && it->is_string()) {
        auto draft = DraftOf(it->get<std::string>());
        if (!draft) {
          c_.Fail(PointerJoin(root_pointer_, "$schema"),
                  fmt::format("\"{}\" is not a JSON Schema draft cairn checks (draft 2020-12: "
                              "https://json-schema.org/draft/2020-12/schema, draft-07: "
                              "http://json-schema.org/draft-07/schema#)",
                              it->get<std::string>()),
                  "schema-draft");
          return;
        }
        draft_ = *draft;
      }
    }
    if (strict_) CheckStrictRoot();
    stack_.push_back(Node{&root_, root_pointer_, 0});
    while (!stack_.empty()) {
      Node n = std::move(stack_.back());
      stack_.pop_back();
      Visit(n);
      // Children were collected in document order; reversed onto the stack, they are
      // visited in document order too (problems then read top to bottom).
      stack_.insert(stack_.end(), std::make_move_iterator(children_.rbegin()),
                    std::make_move_iterator(children_.rend()));
      children_.clear();
    }
    if (strict_ && properties_ > kStrictMaxProperties) {
      c_.Fail(root_pointer_,
              fmt::format("{} object properties in all: strict mode allows at most {}", properties_,
                          kStrictMaxProperties),
              "strict-mode");
    }
    if (strict_ && enum_values_ > kStrictMaxEnumValues) {
      c_.Fail(root_pointer_,
              fmt::format("{} enum values in all: strict mode allows at most {}", enum_values_,
                          kStrictMaxEnumValues),
              "strict-mode");
    }
  }

 private:
  struct Node {
    const Json* schema;
    std::string pointer;
    int object_depth;  // objects enclosing this schema (strict mode's nesting limit)
  };

  void Push(const Json& s, std::string pointer, int object_depth) {
    children_.push_back(Node{&s, std::move(pointer), object_depth});
  }

  void Visit(const Node& n) {
    const Json& s = *n.schema;
    if (s.is_boolean()) return;  // true and false are schemas
    if (!s.is_object()) {
      c_.Fail(n.pointer,
              fmt::format("a schema must be an object or a boolean, found {}", s.type_name()),
              "schema-keyword");
      return;
    }
    bool is_object = false;
    for (const auto& [key, value] : s.items()) {
      const KeywordSpec* spec = FindKeyword(key, draft_);
      if (spec) CheckKeyword(*spec, value, PointerJoin(n.pointer, key), n, &is_object);
    }
    CheckEnumAgainstType(s, n.pointer);
    if (strict_) CheckStrict(s, n, is_object);
  }

  // Checks one known keyword's value and pushes the subschemas it holds.
  void CheckKeyword(const KeywordSpec& spec, const Json& v, const std::string& p, const Node& n,
                    bool* is_object) {
    const Json& s = *n.schema;
    int depth = n.object_depth + (SaysObject(s) ? 1 : 0);
    switch (spec.value) {
      case KeywordValue::kSchema:
        if (!IsSchema(v)) return Mistyped(spec.name, p, "a schema (an object or a boolean)", v);
        return Push(v, p, depth);
      case KeywordValue::kSchemaMap:
        if (!v.is_object()) return Mistyped(spec.name, p, "an object of schemas", v);
        if (spec.name == "properties") properties_ += v.size();
        for (const auto& [name, sub] : v.items()) {
          if (!IsSchema(sub)) {
            c_.Fail(
                PointerJoin(p, name),
                fmt::format("a schema must be an object or a boolean, found {}", sub.type_name()),
                "schema-keyword");
            continue;
          }
          Push(sub, PointerJoin(p, name), depth);
        }
        return;
      case KeywordValue::kSchemaArray:
        if (!v.is_array() || v.empty()) {
          return Mistyped(spec.name, p, "a non-empty array of schemas", v);
        }
        for (size_t i = 0; i < v.size(); ++i) {
          std::string ip = PointerJoin(p, std::to_string(i));
          if (!IsSchema(v[i])) {
            c_.Fail(
                ip,
                fmt::format("a schema must be an object or a boolean, found {}", v[i].type_name()),
                "schema-keyword");
            continue;
          }
          Push(v[i], ip, depth);
        }
        return;
      case KeywordValue::kItems07:
        if (v.is_array()) {
          for (size_t i = 0; i < v.size(); ++i) {
            if (IsSchema(v[i]))
              Push(v[i], PointerJoin(p, std::to_string(i)), depth);
            else
              Mistyped(spec.name, PointerJoin(p, std::to_string(i)), "a schema", v[i]);
          }
          return;
        }
        if (!IsSchema(v)) return Mistyped(spec.name, p, "a schema or an array of schemas", v);
        return Push(v, p, depth);
      case KeywordValue::kDependencies07:
        if (!v.is_object()) return Mistyped(spec.name, p, "an object", v);
        for (const auto& [name, dep] : v.items()) {
          if (dep.is_array()) {
            CheckNameList(dep, PointerJoin(p, name), spec.name);
          } else if (IsSchema(dep)) {
            Push(dep, PointerJoin(p, name), depth);
          } else {
            Mistyped(spec.name, PointerJoin(p, name), "a schema or an array of names", dep);
          }
        }
        return;
      case KeywordValue::kNonNegativeInteger:
        if (!IsNonNegativeInteger(v)) return Mistyped(spec.name, p, "a non-negative integer", v);
        return;
      case KeywordValue::kNumber:
        if (!v.is_number()) return Mistyped(spec.name, p, "a number", v);
        return;
      case KeywordValue::kPositiveNumber:
        if (!v.is_number() || v.get<double>() <= 0) {
          return Mistyped(spec.name, p, "a number greater than 0", v);
        }
        return;
      case KeywordValue::kString:
        if (!v.is_string()) return Mistyped(spec.name, p, "a string", v);
        return;
      case KeywordValue::kBoolean:
        if (!v.is_boolean()) return Mistyped(spec.name, p, "true or false", v);
        return;
      case KeywordValue::kType:
        *is_object = CheckType(v, p);
        return;
      case KeywordValue::kNonEmptyArray:
        if (!v.is_array() || v.empty()) return Mistyped(spec.name, p, "a non-empty array", v);
        enum_values_ += v.size();
        return;
      case KeywordValue::kArray:
        if (!v.is_array()) return Mistyped(spec.name, p, "an array", v);
        return;
      case KeywordValue::kNameList:
        CheckNameList(v, p, spec.name);
        return;
      case KeywordValue::kNameListMap:
        if (!v.is_object()) return Mistyped(spec.name, p, "an object of name lists", v);
        for (const auto& [name, list] : v.items()) {
          CheckNameList(list, PointerJoin(p, name), spec.name);
        }
        return;
      case KeywordValue::kRef:
        if (!v.is_string()) return Mistyped(spec.name, p, "a string", v);
        CheckRef(v.get<std::string>(), p);
        return;
    }
  }

  void Mistyped(std::string_view keyword, const std::string& p, const char* what, const Json& v) {
    c_.Fail(p, fmt::format("\"{}\" must be {}, found {}", keyword, what, v.dump()),
            "schema-keyword");
  }

  // True when the type names include "object".
  bool CheckType(const Json& t, const std::string& p) {
    auto one = [&](const Json& name, const std::string& at) {
      if (!name.is_string() || !kSchemaTypeNames.contains(name.get<std::string>())) {
        c_.Fail(at,
                fmt::format("{} is not a JSON Schema type (object, array, string, number, "
                            "integer, boolean, null)",
                            name.dump()),
                "schema-type");
        return false;
      }
      return name == "object";
    };
    if (!t.is_array()) return one(t, p);
    if (t.empty()) {
      c_.Fail(p, "\"type\" must be a type name or a non-empty array of them", "schema-type");
      return false;
    }
    bool object = false;
    std::set<std::string> seen;
    for (size_t i = 0; i < t.size(); ++i) {
      std::string ip = PointerJoin(p, std::to_string(i));
      object = one(t[i], ip) || object;
      if (t[i].is_string() && !seen.insert(t[i].get<std::string>()).second) {
        c_.Fail(ip, fmt::format("type {} is listed twice", t[i].dump()), "schema-type");
      }
    }
    return object;
  }

  // "required" and friends: distinct property names. A name absent from "properties" is
  // valid JSON Schema (it requires a property the schema does not describe) and accepted.
  void CheckNameList(const Json& v, const std::string& p, std::string_view keyword) {
    if (!v.is_array()) return Mistyped(keyword, p, "an array of property names", v);
    std::set<std::string> seen;
    for (size_t i = 0; i < v.size(); ++i) {
      std::string ip = PointerJoin(p, std::to_string(i));
      if (!v[i].is_string()) {
        c_.Fail(ip, fmt::format("must be a property name (a string), found {}", v[i].dump()),
                "schema-keyword");
      } else if (!seen.insert(v[i].get<std::string>()).second) {
        c_.Fail(ip, fmt::format("\"{}\" is listed twice", v[i].get<std::string>()),
                "schema-keyword");
      }
    }
  }

  void CheckRef(const std::string& ref, const std::string& p) {
    if (!ref.starts_with("#")) {
      c_.Fail(p,
              fmt::format("\"{}\" refers to another document: cairn resolves only references "
                          "inside the tool's own schema (\"#/$defs/name\"), and never fetches",
                          ref),
              "schema-ref");
      return;
    }
    if (!ResolveLocalSchemaRef(root_, ref)) {
      c_.Fail(p, fmt::format("\"{}\" names nothing in this schema", ref), "schema-ref");
    }
  }

  // Declared types, when "type" is well-formed; empty otherwise.
  static std::vector<std::string> TypesOf(const Json& s) {
    std::vector<std::string> out;
    auto it = s.find("type");
    if (it == s.end()) return out;
    if (it->is_string() && kSchemaTypeNames.contains(it->get<std::string>())) {
      out.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const auto& t : *it) {
        if (!t.is_string() || !kSchemaTypeNames.contains(t.get<std::string>())) return {};
        out.push_back(t.get<std::string>());
      }
    }
    return out;
  }

  static bool SaysObject(const Json& s) {
    for (const auto& t : TypesOf(s)) {
      if (t == "object") return true;
    }
    return false;
  }

  // An enum or const value that no declared type admits can never be sent or received.
  void CheckEnumAgainstType(const Json& s, const std::string& p) {
    std::vector<std::string> types = TypesOf(s);
    if (types.empty()) return;
    auto admitted = [&](const Json& v) {
      for (const auto& t : types) {
        if (HasSchemaType(v, t)) return true;
      }
      return false;
    };
    std::string type_list;
    for (const auto& t : types) type_list += (type_list.empty() ? "" : " or ") + t;
    if (auto it = s.find("enum"); it != s.end() && it->is_array()) {
      std::string bad;
      for (const auto& v : *it) {
        if (!admitted(v)) bad += (bad.empty() ? "" : ", ") + v.dump();
      }
      if (!bad.empty()) {
        c_.Fail(PointerJoin(p, "enum"),
                fmt::format("enum values {} are not of the declared type {}", bad, type_list),
                "schema-enum");
      }
    }
    if (auto it = s.find("const"); it != s.end() && !admitted(*it)) {
      c_.Fail(PointerJoin(p, "const"),
              fmt::format("const {} is not of the declared type {}", it->dump(), type_list),
              "schema-enum");
    }
  }

  void CheckStrictRoot() {
    if (!root_.is_object()) return;  // reported by the tool validator
    if (root_.contains("anyOf")) {
      c_.Fail(PointerJoin(root_pointer_, "anyOf"),
              "strict mode: the root schema must be an object, not an \"anyOf\"", "strict-mode");
    }
  }

  void CheckStrict(const Json& s, const Node& n, bool is_object) {
    for (const auto& [key, value] : s.items()) {
      if (FindKeyword(key, draft_) && !kStrictKeywords.contains(key)) {
        c_.Fail(PointerJoin(n.pointer, key),
                fmt::format("strict mode does not support \"{}\"", key), "strict-mode");
      }
    }
    if (!s.contains("type") && !s.contains("anyOf") && !s.contains("$ref") && !s.contains("enum") &&
        !s.contains("const") && n.pointer != root_pointer_) {
      c_.Fail(n.pointer, "strict mode: every schema needs a \"type\" (or anyOf, $ref, enum, const)",
              "strict-mode");
    }
    if (auto f = s.find("format");
        f != s.end() && f->is_string() && !kStrictFormats.contains(f->get<std::string>())) {
      c_.Fail(PointerJoin(n.pointer, "format"),
              fmt::format("strict mode supports the formats date-time, time, date, duration, "
                          "email, hostname, ipv4, ipv6 and uuid, not \"{}\"",
                          f->get<std::string>()),
              "strict-mode");
    }
    if (!is_object) return;
    if (n.object_depth + 1 > kStrictMaxObjectDepth) {
      c_.Fail(n.pointer,
              fmt::format("strict mode allows at most {} levels of nested objects",
                          kStrictMaxObjectDepth),
              "strict-mode");
    }
    auto ap = s.find("additionalProperties");
    if (ap == s.end() || *ap != false) {
      c_.Fail(n.pointer, "strict mode: every object needs \"additionalProperties\": false",
              "strict-mode");
    }
    auto props = s.find("properties");
    if (props == s.end() || !props->is_object()) return;
    std::set<std::string> required;
    if (auto r = s.find("required"); r != s.end() && r->is_array()) {
      for (const auto& name : *r) {
        if (name.is_string()) required.insert(name.get<std::string>());
      }
    }
    for (const auto& [name, sub] : props->items()) {
      if (!required.contains(name)) {
        c_.Fail(PointerJoin(PointerJoin(n.pointer, "properties"), name),
                fmt::format("strict mode: property \"{}\" must be listed in \"required\" (make "
                            "it nullable with \"type\": [..., \"null\"] to keep it optional)",
                            name),
                "strict-mode");
      }
    }
  }

  const Json& root_;
  const std::string& root_pointer_;
  bool strict_;
  JsonChecker& c_;
  Draft draft_ = Draft::k2020_12;
  std::vector<Node> stack_;
  std::vector<Node> children_;  // of the schema being visited
  size_t properties_ = 0;
  size_t enum_values_ = 0;
};

}  // namespace

void CheckJsonSchema(const Json& schema, const std::string& pointer, bool strict, JsonChecker& c) {
  SchemaWalk(schema, pointer, strict, c).Run();
}

const Json* ResolveLocalSchemaRef(const Json& root, std::string_view ref) {
  if (!ref.starts_with("#")) return nullptr;
  std::string fragment = DecodeUriFragment(ref.substr(1));
  if (fragment.empty()) return &root;
  if (fragment[0] == '/') return FollowPointer(root, fragment);
  return FindAnchor(root, fragment);
}

}  // namespace cairn
