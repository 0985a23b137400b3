// Deployment names: "prod", "support-bot/beta". The rule is checked in one place.
// Pure functions; safe from any thread.
#pragma once

#include <string_view>

#include "cairn/status.h"

namespace cairn {

// Allowed deployment names: one to four '/'-separated segments of [a-z0-9][a-z0-9._-]*,
// at most 128 bytes in all; a name of 8 or more hex digits is refused (it would read as a
// snapshot id prefix).
Status ValidateDeploymentName(std::string_view name);

}  // namespace cairn
