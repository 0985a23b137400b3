// Trust: which public keys the store trusts, under which names and with which roles, the
// store's root of trust, and the audited chain of every change to them (docs/trust.md).
//
// The root (TUF's root role, in small): once `InitRoot` has made one, every later trust
// change and every policy change must carry the signatures of `threshold` distinct root
// keys over its hash; a store without a root keeps working and is reported as "unrooted".
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
#include "cairn/publisher.h"
#include "cairn/signing.h"
#include "cairn/store.h"

namespace cairn {

// Roles are free words: 1 to 32 of [a-z0-9-] ("release", "ci", "security").
Status ValidateRoleName(std::string_view role);

enum class TrustAction { kAdd, kRevoke, kRoot };
// "add", "revoke", "root".
const char* TrustActionName(TrustAction action);

// A root key's signature over a trust or policy change (TrustChangeSigningMessage /
// PolicyChangeSigningMessage of the event's hash). Stored beside the event, outside the hash
// it signs.
struct ChangeSignature {
  KeyId key_id;
  Signature sig;
};
// [{"key_id","sig"}...] in the order given.
Json ChangeSignaturesJson(const std::vector<ChangeSignature>& signatures);
// The inverse; nullptr when well-formed, else the name of the bad field.
const char* ReadChangeSignatures(const Json& json, std::vector<ChangeSignature>* out);

// What a root event establishes: the keys whose signatures approve changes, how many of them
// must sign, and where the policy chain stood (every policy event after `policy_seq` needs
// this root's signatures, so an unsigned policy event cannot claim to predate the root).
struct RootSpec {
  std::vector<PublicKey> keys;  // sorted by key id, unique; 1 to 16
  uint32_t threshold = 0;       // 1 to keys.size()
  uint64_t policy_seq = 0;

  bool HasKey(const KeyId& id) const;
  std::vector<KeyId> KeyIds() const;
};

// One change of the trust list. `hash` is the SHA-256 of the canonical JSON without `hash`;
// `prev` is the previous trust event's hash (one chain for the whole store).
// A root event has `root` and no name, key id or roles. `signatures` (root keys approving
// the change) are not covered by `hash`; events of an unrooted store have none.
struct TrustEvent {
  uint64_t seq = 0;  // 1, 2, 3, ...
  int64_t time_micros = 0;
  std::string actor;
  TrustAction action = TrustAction::kAdd;
  std::string name;
  KeyId key_id;
  std::optional<PublicKey> public_key;  // add only
  std::vector<std::string> roles;       // add: granted; revoke: what the name held
  std::optional<RootSpec> root;         // root only
  // revoke only, when given: from when the key is known to be in other hands; `audit verify`
  // flags every move it signed from then on.
  std::optional<int64_t> compromised_since;
  std::string reason;
  std::optional<Digest> prev;
  Digest hash;
  std::vector<ChangeSignature> signatures;

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

// The root in force: the spec of the newest root event and that event's seq.
struct Root {
  RootSpec spec;
  uint64_t seq = 0;
  int64_t time_micros = 0;
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
  // The root in force; nullopt for an unrooted store.
  const std::optional<Root>& root() const { return root_; }

 private:
  std::vector<TrustEntry> entries_;
  std::optional<Root> root_;
  std::map<KeyId, TrustEvent> revoked_;  // by key id
  uint64_t head_seq_ = 0;
};

struct TrustChangeOptions {
  std::string actor;
  std::string reason;                        // required for revoke and root, optional for add
  std::optional<int64_t> compromised_since;  // RevokeTrust: `--compromised-since`
  // Root keys approving the change (`--key`, repeated). A rooted store needs `threshold`
  // distinct root keys here; an unrooted store takes none.
  std::vector<const PrivateKey*> keys;
  // Team mode: the change goes through the remote first (publisher.h; nullptr: local only).
  ChainPublisher* publisher = nullptr;
};

// Signs a change's `message` with every key in `keys` and checks the result against `root`:
// each key must be a root key, and at least root->threshold distinct ones must sign. With no
// root, `keys` must be empty. `what` names the change in messages ("trust change").
// Errors: kUsage (a key that is not a root key; keys for an unrooted store), kGateBlocked
// (too few root signatures: nothing is written).
Result<std::vector<ChangeSignature>> SignChange(const std::optional<Root>& root,
                                                std::string_view message,
                                                const std::vector<const PrivateKey*>& keys,
                                                std::string_view what);
// How many distinct root keys made a valid signature of `message` among `signatures`;
// `problems` gets one line per signature that does not count.
uint32_t CountRootSignatures(const RootSpec& root, std::string_view message,
                             const std::vector<ChangeSignature>& signatures,
                             std::vector<std::string>* problems);
// Why `signatures` do not carry `root`'s approval of `message` ("1 of 2 root signatures; key
// sha256:… is not a root key"); nullopt when at least `threshold` distinct root keys signed.
std::optional<std::string> RootApprovalShortfall(const RootSpec& root, std::string_view message,
                                                 const std::vector<ChangeSignature>& signatures);

// Makes (or replaces) the store's root: `spec.keys` with `spec.threshold`. The event must be
// signed by `threshold` of the new keys — and, when a root exists, also by the old root's
// threshold of old keys (a rotation). A root key may not also be a trusted signer.
// Errors: kUsage (no keys, bad threshold, duplicate key, no reason), kGateBlocked (too few
// signatures), kConflict (a root key is a trusted signer, or revoked).
Result<TrustEvent> InitRoot(Store& store, RootSpec spec, const TrustChangeOptions& options);

// Trusts `key` under `name` with `roles` (at least one).
// Errors: kUsage (bad name or role, no role), kConflict (the name exists, the key was
// revoked, or it is a root key), kGateBlocked (a rooted store and too few root signatures).
Result<TrustEvent> AddTrust(Store& store, const std::string& name, const PublicKey& key,
                            const std::vector<std::string>& roles,
                            const TrustChangeOptions& options);

// Revokes the key trusted under `name` — under every name that holds it.
// Errors: kUsage (no reason), kNotFound (no such name), kConflict (already revoked),
// kGateBlocked (a rooted store and too few root signatures).
Result<TrustEvent> RevokeTrust(Store& store, const std::string& name,
                               const TrustChangeOptions& options);

// Every trust event, oldest first.
Result<std::vector<TrustEvent>> ReadTrustEvents(const Store& store);

}  // namespace cairn
