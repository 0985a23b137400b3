// Deployments: named pointers (`prod`, `support-bot/beta`) to one snapshot each, moved only
// by Promote and Rollback. Every move appends one Event to the deployment's hash chain.
//
// Atomicity and durability: a move writes the pointer, the event and its index entries in
// one synced RocksDB batch — after a crash the deployment is in the old state or the new
// one. Moves need a Store opened read-write (one writer process at a time); reads work on
// read-only stores and never wait. Functions are safe to call from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cairn/canonical_json.h"
#include "cairn/deployment_name.h"
#include "cairn/policy_check.h"
#include "cairn/signing.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"

namespace cairn {

enum class EventAction { kPromote, kRollback };
const char* ActionName(EventAction action);

// Who signed an event, declared inside the hashed part of the event so that a signature can
// be neither stripped nor swapped without breaking the chain. `trust_seq` is the trust
// chain's last seq when the event was signed: the signature is judged by the trust list as
// it stood then.
// `name` is the key's trusted name, which is also the event's actor (events signed before
// names were recorded have none).
struct EventSigner {
  KeyId key_id;
  uint64_t trust_seq = 0;
  std::string name;
};

// The signature itself, over EventSigningMessage(hash): outside the hash it signs.
struct EventSignature {
  KeyId key_id;
  Signature sig;
};

// A gate hook that ran before a move, as its event records it: the stage ("pre-promote",
// "pre-rollback"), the file name, the SHA-256 of its bytes and its exit status (a move is
// only written when every gate hook exited 0, so a stored record always says 0).
struct HookRecord {
  std::string stage;
  std::string name;
  Digest digest;
  int exit_code = 0;
  bool operator==(const HookRecord&) const = default;
};

// One move of a deployment. `hash` is the SHA-256 of the event's canonical JSON without
// `hash` and `signature`; `prev` is the previous event's hash (a chain per deployment).
// Unsigned events have neither `signed_by` nor `signature`, and hash exactly as before
// signing existed.
struct Event {
  std::string deployment;
  uint64_t seq = 0;  // 1, 2, 3, ... per deployment
  int64_t time_micros = 0;
  std::string actor;
  EventAction action = EventAction::kPromote;
  std::optional<SnapshotId> from;  // none for the first promotion
  SnapshotId to;
  std::string reason;
  // A rollback that needed --force: to a snapshot never live here or rolled back from here,
  // or with failing checks overridden (each marked overridden in `checks`).
  bool forced = false;
  // Rollback bookkeeping, covered by the hash: `top` is the event whose promotion made
  // `to` live (the top of the deployment's stack after this event); for a promotion,
  // `below` is the stack top before it (0: nothing below).
  uint64_t top = 0;
  uint64_t below = 0;
  std::optional<Digest> prev;
  std::optional<EventSigner> signed_by;  // covered by the hash
  // The gate's results for this move (policy checks; docs/format.md "Events"), covered by
  // the hash. An empty list is not written, so events without checks hash as before.
  std::vector<PolicyCheck> checks;
  // The policy chain's last seq when the gate ran (none for moves made without a gate, and
  // for events older than this field), covered by the hash: which policy judged this move.
  std::optional<uint64_t> policy_seq;
  // The gate hooks that ran before the move, in order, covered by the hash. Every gated move
  // writes the list, empty when the store had none; nullopt: the event predates hook records
  // or was written without the gate.
  std::optional<std::vector<HookRecord>> hooks;
  Digest hash;
  std::optional<EventSignature> signature;  // not covered by the hash

  // The full event; `with_hash` = false gives the hashed part (no `hash`, no `signature`).
  Json ToJson(bool with_hash = true) const;
  static Result<Event> FromJson(const Json& json);
  Result<Digest> ComputeHash() const;
};

// The current state of a deployment.
struct Deployment {
  DeploymentName name;
  SnapshotId live;
  Event last;  // the event that made `live` live (and the end of the chain)
};

// What a gate says about a planned move: the checks and hook records to store in its event,
// and whether it overrode failing checks (a forced rollback).
struct GateVerdict {
  std::vector<PolicyCheck> checks;
  bool records_hooks = false;     // the gate ran the hooks: `hooks` goes into the event
  std::vector<HookRecord> hooks;  // the gate hooks that ran, in order
  bool forced = false;
};

// Team mode (remote.h): sends a sealed move to the deployment's upstream before it is written
// locally. Publish runs under the writer lock with the event complete (seq, time, prev, hash,
// signature); an error stops the move and nothing is written. Once it succeeded, the event
// and MetaRecords() (store-wide records: the remote-tracking tip) are written in one synced
// batch — a crash in between leaves the move on the remote only, and the next pull takes it.
class MovePublisher {
 public:
  virtual ~MovePublisher() = default;
  virtual Status Publish(const Event& sealed) = 0;
  virtual std::vector<std::pair<std::string, std::string>> MetaRecords() const = 0;
};

struct MoveOptions {
  std::string actor;
  std::string reason;
  std::optional<SnapshotId> expect;  // compare-and-swap: fail with kMoved unless live == this
  // When set, the event is signed with this key (`--key`, $CAIRN_KEY). The key must be
  // trusted now: an unknown or revoked key is refused with kConflict and nothing changes.
  // A signed event's actor is the key's trusted name, not `actor`; with `actor_given` (the
  // caller named an actor explicitly) a different name is refused with kUsage.
  const PrivateKey* key = nullptr;
  bool actor_given = false;
  // Called once the move is known to be possible (the snapshot exists, it is not live
  // already, --expect holds), right before it is written, with the planned event
  // (deployment, action, from, to, actor, reason, forced, signed_by; no seq, time or hash
  // yet).
  // An error stops the move with that error and nothing changes; the verdict's checks and
  // hook records are stored in the event. Runs while the writer lock is held (gates.h).
  std::function<Result<GateVerdict>(const Event& planned)> gate;
  // Team mode: the move goes through the deployment's upstream first (nullptr: local only).
  MovePublisher* publisher = nullptr;
};

// Makes `snapshot` live on `deployment` (created on first promotion).
// Errors: kNotFound (no such snapshot), kConflict (already live; signing key not trusted),
// kMoved (--expect lost).
Result<Event> Promote(Store& store, const DeploymentName& deployment, const SnapshotId& snapshot,
                      const MoveOptions& options);

struct RollbackOptions {
  MoveOptions move;
  uint32_t steps = 1;            // how far back to walk
  std::optional<SnapshotId> to;  // a snapshot that was live here before
  // Allow a target that is not a plain walk back: never live here (with `to`), or rolled
  // back from here before. The event is marked forced; the gates (gates.h) then judge it
  // as a promotion.
  bool force = false;
};

// Returns the deployment to what was live before the current snapshot was promoted (or
// `steps` such moves back, or to `to`). Repeated rollbacks keep walking back, never
// ping-pong. Cost is independent of the deployment's history length.
// Errors: kNotFound (no deployment / nothing to return to), kUsage (without force: `to`
// never live here, or the target was rolled back from here before), kConflict (`to` is live
// already), kMoved (--expect lost).
Result<Event> Rollback(Store& store, const DeploymentName& deployment,
                       const RollbackOptions& options);

// The deployment's current state; kNotFound if it was never promoted.
Result<Deployment> GetDeployment(const Store& store, const DeploymentName& deployment);
// Every deployment, by name.
Result<std::vector<Deployment>> ListDeployments(const Store& store);

// Events of a deployment in order, optionally within [since, until] (microseconds).
Result<std::vector<Event>> ReadEvents(const Store& store, const DeploymentName& deployment,
                                      std::optional<int64_t> since = std::nullopt,
                                      std::optional<int64_t> until = std::nullopt);
// One event by sequence number.
Result<Event> GetEvent(const Store& store, const DeploymentName& deployment, uint64_t seq);

// The event that made the snapshot live at `time_micros` live; kNotFound when nothing was
// live then (before the first promotion).
Result<Event> LiveAt(const Store& store, const DeploymentName& deployment, int64_t time_micros);

// Whether `snapshot` was ever live on `deployment`, and whether it was rolled back there.
struct LiveHistory {
  bool was_live = false;
  uint64_t first_seq = 0;
  uint64_t rolled_back_seq = 0;  // 0: never rolled back here
};
Result<LiveHistory> GetLiveHistory(const Store& store, const DeploymentName& deployment,
                                   const SnapshotId& snapshot);

// Why a rollback of `deployment` to `to` is not a plain walk back, "" when it is: `to` was
// never live there, or its last stay there ended in a rollback (a snapshot judged bad returns
// only with --force, through every gate of a promotion). `stack_entry` is the seq of the
// rollback stack entry the rollback returns to (0: `to` is not on the stack): that stay ended
// with the promotion above it, so only a rollback after it counts; off the stack, any
// rollback from `to` does. The text names the snapshot and the rollback's event, time and
// reason.
Result<std::string> WhyNotAWalkBack(const Store& store, const DeploymentName& deployment,
                                    const SnapshotId& to, uint64_t stack_entry);

}  // namespace cairn
