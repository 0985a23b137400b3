// Keys and values of the attestations family (docs/format.md, "Attestations"):
//   key   = 32-byte snapshot id + 32-byte attestation id (SHA-256 of the statement)
//   value = canonical JSON {"key_id","public_key","sig","statement"}
#pragma once

#include <string>
#include <string_view>

#include "cairn/attestation.h"
#include "store/schema.h"

namespace cairn {

Result<std::string> EncodeAttestationRecord(const Attestation& attestation);
// Parses a record; kCorruption when it does not follow the schema. Does not check the
// signature, the id, or that the statement's snapshot matches the key.
Result<Attestation> DecodeAttestationRecord(std::string_view key, std::string_view value);

}  // namespace cairn
