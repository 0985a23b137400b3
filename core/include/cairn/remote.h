// Team mode: stores share snapshots, deployments, evidence, trust and policy through a git
// server (docs/team.md; the layout in git is docs/format.md, "Team mode"). The server's
// atomic ref update is the compare-and-swap of a promotion; cairn's own SHA-256 ids, hash
// chains and Ed25519 signatures carry the trust, git's object ids are transport only.
//
// A store keeps a bare git repository beside its database (`<store>/git`) as the transport
// cache. Pull verifies everything it takes and imports it in one synced batch, or nothing.
// Functions here need a Store opened read-write (they hold the writer lock while they talk
// to the remote, bounded by the transfer timeout). One network operation at a time per
// process.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cairn/deployment.h"
#include "cairn/deployment_name.h"
#include "cairn/publisher.h"
#include "cairn/signing.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"

namespace cairn {

// A remote's name: 1 to 64 of [a-z0-9._-], starting with a letter or digit.
Status ValidateRemoteName(std::string_view name);
// A remote URL cairn can use: git://HOST[:PORT]/PATH, file:///PATH or an absolute path.
// Credentials are never stored: a URL with a user:password@ part is refused (kUsage).
Status ValidateRemoteUrl(std::string_view url);

struct RemoteInfo {
  std::string name;
  std::string url;
  std::vector<std::string> upstream_of;  // deployments that move through it
};

// Adds a remote. kConflict when the name exists; kUsage for a bad name or URL.
Status AddRemote(Store& store, const std::string& name, const std::string& url);
// Removes a remote, its tracking records, and the upstream of every deployment that had it.
// kNotFound when there is none.
Status RemoveRemote(Store& store, const std::string& name);
Result<std::vector<RemoteInfo>> ListRemotes(const Store& store);
Result<RemoteInfo> GetRemote(const Store& store, const std::string& name);
// The remote a deployment moves through; nullopt when it moves locally.
Result<std::optional<std::string>> UpstreamOf(const Store& store, const DeploymentName& deployment);

struct TransferOptions {
  std::chrono::milliseconds timeout{30000};
  // Human lines: what is being sent or checked, and the server's own messages.
  std::function<void(std::string_view)> progress;
};

// What `remote check` found.
struct RemoteCheck {
  size_t refs = 0;  // refs the server advertises under refs/cairn/
  bool probe_pushed = false;
  bool probe_visible = false;  // the probe ref appeared in the advertisement
  bool probe_deleted = false;
};
// Pushes a probe ref under refs/cairn/, looks for it, deletes it. kRefused when the server
// refuses refs/cairn/* or hides them; kUnreachable when it cannot be reached.
Result<RemoteCheck> CheckRemote(Store& store, const std::string& remote,
                                const TransferOptions& options);

// What a push or a pull changed, for the report.
struct TransferReport {
  std::string remote;
  std::vector<std::string> lines;  // one per ref sent or chain imported, human
  size_t snapshots = 0;
  size_t events = 0;  // deployment events
  size_t evidence = 0;
  size_t trust_events = 0;
  size_t policy_events = 0;
  std::vector<std::string> warnings;
};

struct PushOptions {
  TransferOptions transfer;
  std::vector<DeploymentName> deployments;  // empty: those whose upstream is the remote
  std::vector<SnapshotId> snapshots;        // `--snapshot REV` (repeatable): snapshots and evidence
};
// Sends deployments (with the snapshots their events name and those snapshots' signatures
// and attestations), the trust chain and the policy chain. A deployment named explicitly
// gets the remote as its upstream. Every ref moves only from the tip last seen (a lease):
// when the server has moved on, kMoved ("run cairn pull") and nothing local changes.
// kRefused with the server's message when it refuses a ref.
Result<TransferReport> Push(Store& store, const std::string& remote, const PushOptions& options);

struct PullOptions {
  TransferOptions transfer;
  std::vector<DeploymentName> deployments;  // empty: every deployment the remote has
  // Clone: the root keys the trust chain must have been made by (pinned out of band).
  std::vector<KeyId> pinned_root;
  // Give every deployment found the remote as upstream (clone).
  bool track_all = false;
};
// Fetches, verifies every hash, id, chain link and signature, and imports in one synced
// batch — or imports nothing: kCorruption (exit 5) for a remote that fails verification
// (a fork or rewrite of a chain already verified, a bad hash or signature, a bad tree, a
// trust or policy change the root did not approve), naming the ref and the rule.
Result<TransferReport> Pull(Store& store, const std::string& remote, const PullOptions& options);

// The publisher of trust and policy changes for a store whose chains are shared (publisher.h):
// the remote that tracks refs/cairn/trust ("origin" when several do); nullptr when none
// does. The change is pushed with a lease on the chain's tip last pulled.
Result<std::unique_ptr<ChainPublisher>> NewChainPublisher(Store& store,
                                                          const TransferOptions& options);

// Whether `deployment`'s ref on its upstream differs from the tip last pulled (a follower's
// cheap look: one ref listing, no lock, nothing fetched). false when it has no upstream.
// Works on a read-only store.
Result<bool> UpstreamMoved(const Store& store, const DeploymentName& deployment,
                           const TransferOptions& options);

// Creates a store in `dir`/.cairn, adds `url` as remote "origin", and pulls every
// deployment into it, tracking each. `pinned_root` must be non-empty: the remote's trust
// chain must hold a root of exactly these keys. On failure the new store is removed.
Result<TransferReport> Clone(const std::string& url, const std::string& dir,
                             const std::vector<KeyId>& pinned_root, const TransferOptions& options);

// The publisher for moves of a deployment with an upstream (deployment.h, MoveOptions):
// pushes the sealed event (and its snapshot, and any local event not yet sent) with a lease
// on the remote tip last pulled. A lost race is kMoved naming who moved it, when and to
// what; a refusal kRefused; nothing is written locally unless the server accepted.
Result<std::unique_ptr<MovePublisher>> NewUpstreamPublisher(Store& store,
                                                            const DeploymentName& deployment,
                                                            const TransferOptions& options);

}  // namespace cairn
