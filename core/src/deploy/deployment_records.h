// Values of the deployment tables (docs/format.md, "Deployments"; keys: store/schema.h):
// the pointer and the events are canonical event JSON; a live-history value is le64 first
// seq, le64 rolled-back seq.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "cairn/deployment.h"
#include "store/schema.h"

namespace cairn {

std::string EncodeLiveHistory(const LiveHistory& h);
LiveHistory DecodeLiveHistory(std::string_view value);
// The live-history records events 1..seq imply (raw snapshot id -> history), given them in
// order: the first event that made each snapshot live, and the last rollback away from it.
// `audit verify` checks the stored records against it; `recover` writes them.
void NoteLiveHistory(std::map<std::string, LiveHistory>* live, const Event& e);
// Parses a stored event (canonical JSON); kCorruption naming where it came from.
Result<Event> DecodeEvent(std::string_view bytes, std::string_view what);

}  // namespace cairn
