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
