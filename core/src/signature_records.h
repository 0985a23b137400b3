// Keys and values of the signatures family (docs/format.md, "Signatures"):
//   key   = 32-byte snapshot id + 32-byte key id
//   value = canonical JSON {"actor","key_id","public_key","sig","time"}
// The key binds the record to its snapshot: the signature inside is checked against the
// snapshot id of the key it is stored under, so a record copied under another snapshot is bad.
#pragma once

#include <string>
#include <string_view>

#include "cairn/signature.h"

namespace cairn {

std::string SignatureKey(const SnapshotId& snapshot, const KeyId& key);
// The 32-byte prefix of every signature key of `snapshot`.
std::string SignaturePrefix(const SnapshotId& snapshot);
Result<std::string> EncodeSignatureRecord(const SnapshotSignature& signature);
// Parses a record; kCorruption (naming the snapshot) when it does not follow the schema.
// Does not check the signature or that the key id in the value matches the key.
Result<SnapshotSignature> DecodeSignatureRecord(std::string_view key, std::string_view value);

}  // namespace cairn

namespace cairn {

// A revoked key may not sign anything in this store (kConflict naming the revocation).
Status CheckKeyMaySign(const TrustState& trust, const KeyId& key);
// The signature record of snapshot `id` by `key`, made now.
Result<SnapshotSignature> MakeSnapshotSignature(const SnapshotId& id, const PrivateKey& key,
                                                const std::string& actor, int64_t time_micros);

}  // namespace cairn
