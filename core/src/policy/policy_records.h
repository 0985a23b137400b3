// Values of the policy table (keys: store/schema.h) (docs/format.md, "Policy"), written and read
// only by policy.cc:
//   "event/" be64 seq    -> canonical JSON of the policy event
//   "head"               -> canonical JSON of the last policy event (the chain's end)
//   "policy/" deployment -> canonical JSON of the event that set the deployment's current
//                           policy (absent once it was cleared)
// Every value is a byte-exact copy of an event, so the records can be checked against the
// chain by comparing bytes.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "cairn/policy.h"
#include "store/schema.h"

namespace cairn {

// Parses a stored policy event (canonical JSON); kCorruption naming where it came from.
Result<PolicyEvent> DecodePolicyEvent(std::string_view bytes, std::string_view what);

// The "policy/" records the chain implies (deployment -> the event that set its current
// policy), given its events in order: `audit verify` checks the stored ones against them,
// `recover` writes them. `cleared` says whether the event's policy is empty.
struct PolicyDerivedRecords {
  std::map<std::string, std::string> records;
  void Add(const PolicyEvent& e, bool cleared, std::string_view bytes);
};

}  // namespace cairn
