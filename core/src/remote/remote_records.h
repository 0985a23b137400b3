// Team mode's records in the store (keys: store/schema.h, "Team mode"), read here for the
// rest of remote/.
#pragma once

#include <map>
#include <string>

#include "cairn/remote.h"

namespace cairn {

// The last verified tip of every ref of `remote` (git ref name -> 40 hex commit id).
Result<std::map<std::string, std::string>> ReadTracking(const Store& store,
                                                        const std::string& remote);

}  // namespace cairn
