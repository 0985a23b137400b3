// Snapshot signatures: detached Ed25519 signatures over SnapshotSigningMessage(id), stored
// one per (snapshot, key id), and their verification against the trust list.
//
// A snapshot never changes, but who vouches for it can grow: signing adds a record and
// never touches the manifest. Signing twice with one key is idempotent (Ed25519 signatures
// are deterministic; the existing record is kept). Verification judges each signature by
// the trust list as it is now: a key revoked since the signature was made makes it
// "revoked". Signing needs a Store opened read-write (one synced batch per signature);
// verification works on read-only stores. Functions are safe to call from several threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cairn/progress.h"
#include "cairn/signing.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"
#include "cairn/trust.h"

namespace cairn {

// One stored signature. `time` and `actor` say when and by whom it was added; they are
// informative and not covered by the signature.
struct SnapshotSignature {
  SnapshotId snapshot;
  KeyId key_id;
  PublicKey public_key;  // carried so that a signature by an unknown key can be checked
  Signature signature;
  int64_t time_micros = 0;
  std::string actor;
};

struct SignOptions {
  std::string actor;
};

struct SignResult {
  SnapshotSignature signature;
  bool already_signed = false;  // the key had signed before; nothing was written
  KeyTrust key_trust = KeyTrust::kUnknown;
};

// Signs snapshot `id` with `key` and stores the signature. A key not in the trust list may
// sign (its signature shows as "unknown key" until the key is trusted); a revoked key may
// not. Errors: kNotFound (no such snapshot), kConflict (the key is revoked).
Result<SignResult> SignSnapshot(Store& store, const SnapshotId& id, const PrivateKey& key,
                                const SignOptions& options);

// The stored signatures of snapshot `id`, by key id. kCorruption if a record is unreadable.
Result<std::vector<SnapshotSignature>> ListSnapshotSignatures(const Store& store,
                                                              const SnapshotId& id);

// One trusted name of a signer.
struct SignerName {
  std::string name;
  std::vector<std::string> roles;
};

// The verdict on one stored signature.
struct SignatureCheck {
  KeyId key_id;
  SignatureStatus status = SignatureStatus::kBad;
  std::string detail;              // why it is bad / when it was revoked; empty when valid
  std::vector<SignerName> names;   // every trusted name of the key (revoked ones included)
  std::vector<std::string> roles;  // union of the roles of its names; empty unless valid
  int64_t time_micros = 0;
  std::string actor;
};

// Judges each stored signature of snapshot `id` against `trust`. Bad records (unreadable,
// key id not matching the key, signature not over this snapshot) are reported, not errors.
Result<std::vector<SignatureCheck>> CheckSnapshotSignatures(const Store& store,
                                                            const SnapshotId& id,
                                                            const TrustState& trust);

// The number of distinct keys with a valid signature among `checks` whose trusted names
// hold `role` (any role when empty). A key trusted under two names, or one that signed
// twice, counts once: this is the number policy thresholds compare against.
size_t CountValidSigners(const std::vector<SignatureCheck>& checks, std::string_view role = "");

struct VerifyOptions {
  bool deep = false;  // also re-read and re-hash every object of the snapshot
  ProgressSink* progress = nullptr;
};

struct SnapshotVerification {
  SnapshotId id;
  std::vector<SignatureCheck> signatures;
  uint64_t objects_checked = 0;              // with `deep`
  std::vector<std::string> object_problems;  // with `deep`: each object that failed, and why
  size_t valid_signers() const { return CountValidSigners(signatures); }
  bool any_bad() const;
};

// `cairn verify`: loads the snapshot (which re-hashes its manifest), judges every signature
// and, with `deep`, streams every object through its digest check.
// Errors: kNotFound (no such snapshot), kCorruption (the manifest does not match its id).
Result<SnapshotVerification> VerifySnapshot(const Store& store, const SnapshotId& id,
                                            const VerifyOptions& options);

}  // namespace cairn
