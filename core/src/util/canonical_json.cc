#include "cairn/canonical_json.h"

#include <fmt/format.h>

namespace cairn {
namespace {
bool HoldsFloat(const Json& v) {
  if (v.is_number_float()) return true;
  if (v.is_structured()) {
    for (const auto& item : v) {
      if (HoldsFloat(item)) return true;
    }
  }
  return false;
}
}  // namespace

Result<std::string> CanonicalJson(const Json& value) {
  if (HoldsFloat(value)) {
    return Status::Internal("canonical JSON may not hold a floating-point number");
  }
  try {
    // nlohmann's object_t is a std::map: keys come out in byte order.
    return value.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    return Status::Internal(fmt::format("canonical JSON: {}", e.what()));
  }
}

Result<std::string> CanonicalJsonWithRawMember(const Json& object, std::string_view key,
                                               std::string_view raw_value) {
  if (!object.is_object() || object.contains(key)) {
    return Status::Internal("CanonicalJsonWithRawMember needs an object without the key");
  }
  std::string out = "{";
  bool inserted = false;
  auto append_member = [&](std::string_view k, std::string_view value) -> Status {
    CAIRN_ASSIGN_OR_RETURN(std::string name, CanonicalJson(Json(std::string(k))));
    if (out.size() > 1) out += ',';
    out += name;
    out += ':';
    out += value;
    return Status::OK();
  };
  for (const auto& [k, v] : object.items()) {  // std::map: byte order
    if (!inserted && std::string_view(k) > key) {
      CAIRN_RETURN_IF_ERROR(append_member(key, raw_value));
      inserted = true;
    }
    CAIRN_ASSIGN_OR_RETURN(std::string value, CanonicalJson(v));
    CAIRN_RETURN_IF_ERROR(append_member(k, value));
  }
  if (!inserted) CAIRN_RETURN_IF_ERROR(append_member(key, raw_value));
  out += '}';
  return out;
}

Result<Json> ParseCanonicalJson(std::string_view bytes, std::string_view what) {
  Json value;
  try {
    value = Json::parse(bytes);
  } catch (const Json::exception& e) {
    return Status::Corruption(fmt::format("{} is not valid JSON: {}", what, e.what()));
  }
  auto again = CanonicalJson(value);
  if (!again.ok() || *again != bytes) {
    return Status::Corruption(fmt::format("{} is not in canonical form", what));
  }
  return value;
}

}  // namespace cairn
