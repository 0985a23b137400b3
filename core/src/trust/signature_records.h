// Keys and values of the signatures family (docs/format.md, "Signatures"):
//   key   = 32-byte snapshot id + 32-byte key id
//   value = canonical JSON {"actor","key_id","public_key","sig","time"}
// The key binds the record to its snapshot: the signature inside is checked against the
// snapshot id of the key it is stored under, so a record copied under another snapshot is bad.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cairn/signature.h"
#include "store/schema.h"

namespace cairn {

Result<std::string> EncodeSignatureRecord(const SnapshotSignature& signature);
// Parses a record; kCorruption (naming the snapshot) when it does not follow the schema.
// Does not check the signature or that the key id in the value matches the key.
Result<SnapshotSignature> DecodeSignatureRecord(std::string_view key, std::string_view value);

}  // namespace cairn

namespace cairn {

// Reads the signer fields shared by signature and attestation records: "key_id",
// "public_key" and "sig". Returns the name of the first missing or malformed field, or
// nullptr. Throws what nlohmann::json throws on a mistyped value.
const char* ReadSignerFields(const Json& j, KeyId* key_id, PublicKey* public_key,
                             Signature* signature);

// How one signature stands against the trust list: kBad when the public key does not hash
// to `key_id`, differs from a trusted key of that id, or the signature does not verify over
// `message` (then `detail` is `forged_detail`); otherwise valid (with the key's roles),
// revoked or unknown key, with a detail saying when and how to fix it.
struct SignerVerdict {
  SignatureStatus status = SignatureStatus::kBad;
  std::string detail;
  std::vector<std::string> roles;
};
SignerVerdict JudgeSigner(const TrustState& trust, const KeyId& key_id, const PublicKey& public_key,
                          std::string_view message, const Signature& signature,
                          std::string_view forged_detail);
// Every trusted name of `key` (revoked ones included), for reports.
std::vector<SignerName> SignerNames(const TrustState& trust, const KeyId& key);

// A revoked key may not sign anything in this store (kConflict naming the revocation).
Status CheckKeyMaySign(const TrustState& trust, const KeyId& key);
// The signature record of snapshot `id` by `key`, made now.
Result<SnapshotSignature> MakeSnapshotSignature(const SnapshotId& id, const PrivateKey& key,
                                                const std::string& actor, int64_t time_micros);

}  // namespace cairn
