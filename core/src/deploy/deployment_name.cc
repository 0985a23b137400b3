#include "cairn/deployment_name.h"

#include <fmt/format.h>

#include "cairn/digest.h"

namespace cairn {

namespace {
// Up to four '/'-separated parts of [a-z0-9._-], each starting with [a-z0-9].
bool WellFormedDeploymentName(std::string_view name) {
  int parts = 0;
  size_t start = 0;
  for (;;) {
    size_t end = name.find('/', start);
    std::string_view part = name.substr(start, end == std::string_view::npos ? end : end - start);
    if (++parts > 4 || part.empty()) return false;
    for (size_t i = 0; i < part.size(); ++i) {
      char c = part[i];
      bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
    }
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}
}  // namespace

Status ValidateDeploymentName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return Status::Usage(fmt::format("\"{}\" is not a deployment name: {}", name, why));
  };
  if (name.empty() || name.size() > 128) return bad("use 1 to 128 characters");
  if (!WellFormedDeploymentName(name)) {
    return bad(
        "use up to four '/'-separated parts of lowercase letters, digits, '.', '_' "
        "and '-', each starting with a letter or digit (e.g. prod, support-bot/beta)");
  }
  if (name.size() >= 8 && IsHex(name)) return bad("it would read as a snapshot id prefix");
  if (name.find("..") != std::string_view::npos) return bad("'..' is not allowed");
  return Status::OK();
}

}  // namespace cairn
