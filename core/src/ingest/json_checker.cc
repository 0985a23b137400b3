#include <fmt/format.h>

#include "ingest/validators.h"

namespace cairn {

std::string PointerJoin(const std::string& base, std::string_view token) {
  std::string out = base == "/" ? "" : base;
  out += '/';
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

void JsonChecker::Fail(const std::string& pointer, std::string message, const char* rule) {
  ++failures_;
  if (failures_ <= kMaxProblemsPerFile) {
    problems_->push_back(Problem{path_, pointer, rule ? rule : rule_, std::move(message)});
  } else if (failures_ == kMaxProblemsPerFile + 1) {
    problems_->push_back(Problem{path_, pointer, rule ? rule : rule_,
                                 fmt::format("more problems from here on are not listed (only "
                                             "the first {} of a file are)",
                                             kMaxProblemsPerFile)});
  }
}

bool JsonChecker::IsObject(const Json& v, const std::string& pointer) {
  if (v.is_object()) return true;
  Fail(pointer, fmt::format("expected an object, found {}", v.type_name()));
  return false;
}

void JsonChecker::OnlyFields(const Json& obj, const std::string& pointer,
                             std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string names;
      for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      Fail(PointerJoin(pointer, key),
           fmt::format("unknown field \"{}\" (allowed: {})", key, names));
    }
  }
}

std::optional<std::string> JsonChecker::RequireString(const Json& obj, const std::string& pointer,
                                                      const char* field) {
  auto it = obj.find(field);
  if (it == obj.end()) {
    Fail(pointer, fmt::format("missing required field \"{}\"", field));
    return std::nullopt;
  }
  if (!it->is_string() || it->get<std::string>().empty()) {
    Fail(PointerJoin(pointer, field), "must be a non-empty string");
    return std::nullopt;
  }
  return it->get<std::string>();
}

namespace {
template <typename Pred>
bool CheckOptional(JsonChecker& c, const Json& obj, const std::string& pointer, const char* field,
                   Pred pred, const char* what) {
  auto it = obj.find(field);
  if (it == obj.end() || pred(*it)) return true;
  c.Fail(PointerJoin(pointer, field), fmt::format("must be {}, found {}", what, it->type_name()));
  return false;
}
}  // namespace

bool JsonChecker::OptionalString(const Json& obj, const std::string& pointer, const char* field) {
  return CheckOptional(
      *this, obj, pointer, field, [](const Json& v) { return v.is_string(); }, "a string");
}
bool JsonChecker::OptionalObject(const Json& obj, const std::string& pointer, const char* field) {
  return CheckOptional(
      *this, obj, pointer, field, [](const Json& v) { return v.is_object(); }, "an object");
}
bool JsonChecker::OptionalBool(const Json& obj, const std::string& pointer, const char* field) {
  return CheckOptional(
      *this, obj, pointer, field, [](const Json& v) { return v.is_boolean(); }, "true or false");
}
bool JsonChecker::OptionalUnsigned(const Json& obj, const std::string& pointer, const char* field) {
  return CheckOptional(
      *this, obj, pointer, field, [](const Json& v) { return v.is_number_unsigned(); },
      "a non-negative integer");
}

}  // namespace cairn
