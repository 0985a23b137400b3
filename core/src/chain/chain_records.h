// What every hash-chained record shares — deployment events, trust events, policy events:
// `prev` (the previous record's hash, or null for the first) and `hash` (SHA-256 of the
// record's canonical JSON without `hash`). docs/format.md specifies each chain.
#pragma once

#include <optional>

#include "cairn/canonical_json.h"
#include "cairn/digest.h"

namespace cairn {

// Reads "prev" (null or a digest) and "hash". Returns the name of the first malformed field,
// or nullptr. Throws what nlohmann::json throws when a field is missing or mistyped.
const char* ReadChainLinks(const Json& record, std::optional<Digest>* prev, Digest* hash);

// The `hash` of a record: SHA-256 of the canonical JSON of its other fields.
Result<Digest> ChainHash(const Json& record_without_hash);

}  // namespace cairn
