// Trust: which public keys the store trusts, under which names and with which roles, and the
// audited chain of every change to that list (docs/trust.md).
//
// Rules: a name is added once and never reused; a key may be trusted under several names
// (it is still one signer); revocation is per key id and final — revoking any name of a key
// revokes the key under every name, and a revoked key can never be added again.
// Atomicity and durability: each change writes its event, the chain head and the record it
// changes in one synced RocksDB batch. Changes need a Store opened read-write; reads work
// on read-only stores. Functions are safe to call from several threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cairn/canonical_json.h"
#include "cairn/signing.h"
#include "cairn/store.h"

namespace cairn {

// Roles are free words: 1 to 32 of [a-z0-9-] ("release", "ci", "security").
Status ValidateRoleName(std::string_view role);

enum class TrustAction { kAdd, kRevoke };
const char* TrustActionName(TrustAction action);

// One change of the trust list. `hash` is the SHA-256 of the canonical JSON without `hash`;
// `prev` is the previous trust event's hash (one chain for the whole store).
struct TrustEvent {
  uint64_t seq = 0;  // 1, 2, 3, ...
  int64_t time_micros = 0;
  std::string actor;
  TrustAction action = TrustAction::kAdd;
  std::string name;
  KeyId key_id;
  std::optional<PublicKey> public_key;  // add only
  std::vector<std::string> roles;       // add: granted; revoke: what the name held
  std::string reason;
  std::optional<Digest> prev;
  Digest hash;

  Json ToJson(bool with_hash = true) const;
  static Result<TrustEvent> FromJson(const Json& json);
  Result<Digest> ComputeHash() const;
};

// A trusted name: the event that added it and, if its key was revoked (under this name or
// another), the revocation.
struct TrustEntry {
  std::string name;
  PublicKey public_key;
  KeyId key_id;
  std::vector<std::string> roles;  // sorted, unique
  TrustEvent added;
  std::optional<TrustEvent> revocation;
  bool revoked() const { return revocation.has_value(); }
};

// How the trust list stands toward one key.
enum class KeyTrust { kUnknown, kTrusted, kRevoked };

// The trust list as it was when loaded. A plain value.
class TrustState {
 public:
  static Result<TrustState> Load(const Store& store);

  const std::vector<TrustEntry>& entries() const { return entries_; }  // sorted by name
  const TrustEntry* Find(std::string_view name) const;
  KeyTrust StatusOf(const KeyId& key) const;
  // Every name the key was added under (revoked ones included).
  std::vector<const TrustEntry*> EntriesFor(const KeyId& key) const;
  // The union of the roles of the key's names; empty unless the key is trusted.
  std::vector<std::string> RolesOf(const KeyId& key) const;
  // The seq of the last trust event (0: no change ever made).
  uint64_t head_seq() const { return head_seq_; }

 private:
  std::vector<TrustEntry> entries_;
  std::map<KeyId, TrustEvent> revoked_;  // by key id
  uint64_t head_seq_ = 0;
};

struct TrustChangeOptions {
  std::string actor;
  std::string reason;  // required for revoke, optional for add
};

// Trusts `key` under `name` with `roles` (at least one).
// Errors: kUsage (bad name or role, no role), kConflict (the name exists, or the key was
// revoked).
Result<TrustEvent> AddTrust(Store& store, const std::string& name, const PublicKey& key,
                            const std::vector<std::string>& roles,
                            const TrustChangeOptions& options);

// Revokes the key trusted under `name` — under every name that holds it.
// Errors: kUsage (no reason), kNotFound (no such name), kConflict (already revoked).
Result<TrustEvent> RevokeTrust(Store& store, const std::string& name,
                               const TrustChangeOptions& options);

// Every trust event, oldest first.
Result<std::vector<TrustEvent>> ReadTrustEvents(const Store& store);

}  // namespace cairn
