// Canonical JSON: the one byte representation of a manifest, so that its SHA-256 is an id.
//
// Rules (docs/format.md): object keys sorted by their UTF-8 bytes, no insignificant
// whitespace, integers only (a float anywhere is a bug and is refused), strings as UTF-8
// with only '"', '\\' and control characters escaped. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cairn/status.h"

namespace cairn {

using Json = nlohmann::json;

// The canonical bytes of `value`. Fails (kInternal) if `value` holds a float or a string
// that is not UTF-8: a manifest must never be built from unvalidated input.
Result<std::string> CanonicalJson(const Json& value);

// The canonical bytes of `object` with one more member `key` whose value is given as
// bytes that are already canonical (a large array serialised once and reused).
Result<std::string> CanonicalJsonWithRawMember(const Json& object, std::string_view key,
                                               std::string_view raw_value);

// Parses bytes that must already be canonical (a stored manifest). Fails with kCorruption
// when the bytes do not parse or do not re-serialize to exactly themselves.
Result<Json> ParseCanonicalJson(std::string_view bytes, std::string_view what);

}  // namespace cairn
