#include "cairn/deployment_name.h"

#include <fmt/format.h>

namespace cairn {

Result<DeploymentName> DeploymentName::Parse(std::string_view text) {
  using deployment_name_internal::Flaw;
  auto bad = [&](std::string_view why) {
    return Status::Usage(fmt::format("\"{}\" is not a deployment name: {}", text, why));
  };
  switch (deployment_name_internal::FindFlaw(text)) {
    case Flaw::kNone:
      break;
    case Flaw::kLength:
      return bad("use 1 to 128 characters");
    case Flaw::kShape:
      return bad(
          "use up to four '/'-separated parts of lowercase letters, digits, '.', '_' "
          "and '-', each starting with a letter or digit (e.g. prod, support-bot/beta)");
    case Flaw::kHexPrefix:
      return bad("it would read as a snapshot id prefix");
    case Flaw::kDotDot:
      return bad("'..' is not allowed");
  }
  DeploymentName name;
  name.size_ = text.size();
  text.copy(name.bytes_.data(), text.size());
  return name;
}

Status ValidateDeploymentName(std::string_view name) {
  return DeploymentName::Parse(name).status();
}

}  // namespace cairn
