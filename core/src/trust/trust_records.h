// Values of the trust table (keys: store/schema.h) (docs/format.md, "Trust"), and the replay of the
// trust chain that `audit verify` runs:
//   "event/" be64 seq          -> canonical JSON of the trust event
//   "head"                     -> canonical JSON of the last trust event (the chain's end)
//   "name/" name               -> canonical JSON of the event that added the name
//   "revoked/" 32-byte key id  -> canonical JSON of the event that revoked the key
//   "root"                     -> canonical JSON of the newest root event (rooted stores)
// Every value is a byte-exact copy of an event, so the records can be checked against the
// chain by comparing bytes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/audit.h"
#include "cairn/trust.h"
#include "store/schema.h"

namespace cairn {

// Parses a stored trust event (canonical JSON); kCorruption naming where it came from.
Result<TrustEvent> DecodeTrustEvent(std::string_view bytes, std::string_view what);

// The records derived from the trust chain (key after its prefix -> bytes), given its
// events in order: `audit verify` checks the stored ones against them, `recover` writes them.
struct TrustDerivedRecords {
  std::map<std::string, std::string> names;    // name -> the add event
  std::map<std::string, std::string> revoked;  // raw key id -> the revoke event
  std::map<std::string, std::string> root;     // "" -> the newest root event
  void Add(const TrustEvent& e, std::string_view bytes);
};

// What the trust chain says about one key, by trust event seq.
struct KeyHistory {
  PublicKey public_key;
  uint64_t added_seq = 0;                    // the first event that trusted it (0: never)
  uint64_t revoked_seq = 0;                  // the event that revoked it (0: never)
  std::optional<int64_t> compromised_since;  // from the revocation, when it said so
  std::vector<std::string> names;
};

// The result of replaying the whole trust chain.
struct TrustChainAudit {
  uint64_t events = 0;
  uint64_t head_seq = 0;
  std::optional<AuditProblem> problem;  // the first broken link
  std::map<KeyId, KeyHistory> keys;     // from the events up to the first broken link
  std::vector<Root> roots;              // every root event, oldest first
  // The key's standing once events 1..seq had happened.
  KeyTrust StatusAt(const KeyId& key, uint64_t seq) const;
};

// Replays every trust event: hashes, prev links, seq order, time order, the rules of
// add/revoke; then checks the head and every name/revoked record against the replay.
Result<TrustChainAudit> AuditTrustChain(const Store& store);

}  // namespace cairn
