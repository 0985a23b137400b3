// How cairn's records are laid out in git (docs/format.md, "Team mode"): this file pair is
// the only code that builds or reads the git side, next to each other.
//
//   refs/cairn/snapshots/<64 hex id>   a commit, no parent; its tree holds the release files
//                                      at their paths and .cairn/manifest.json (the canonical
//                                      manifest, whose SHA-256 is the id)
//   refs/cairn/deployments/<name>      the deployment's event chain: one commit per event,
//                                      parents [previous event's commit (none for #1),
//                                      the snapshot commit it made live]; tree: event.json
//                                      (the stored event bytes, hash and signature included).
//                                      The name is percent-encoded: every byte outside
//                                      [a-z0-9_-] as %XX (so "support-bot/beta" is
//                                      "support-bot%2Fbeta": no ref is both a file and a
//                                      directory)
//   refs/cairn/trust, refs/cairn/policy  the trust and policy chains, likewise (no second
//                                      parent)
//   refs/cairn/evidence                append-only: one commit per signature or attestation,
//                                      parents [previous evidence commit (none for the
//                                      first), the snapshot commit]; tree: evidence.json
//                                      ({"kind","snapshot","value"}: the stored record) and
//                                      objects/<64 hex> for each object the record names
//
// Commits are deterministic (author and committer are the actor at the record's time), so
// every store builds the same commit for the same record. Reading checks each commit's
// shape exactly: parents, tree entries and modes, file names; anything else is refused.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/snapshot.h"
#include "cairn/status.h"
#include "cairn/store.h"
#include "port/git_repository.h"

namespace cairn {

inline constexpr std::string_view kRefsRoot = "refs/cairn/";
inline constexpr std::string_view kSnapshotRefPrefix = "refs/cairn/snapshots/";
inline constexpr std::string_view kDeploymentRefPrefix = "refs/cairn/deployments/";
inline constexpr std::string_view kTrustRef = "refs/cairn/trust";
inline constexpr std::string_view kPolicyRef = "refs/cairn/policy";
inline constexpr std::string_view kEvidenceRef = "refs/cairn/evidence";
// Where a fetch puts a remote's refs before they are verified: refs/cairn-fetched/<remote>/…
std::string FetchedPrefix(std::string_view remote);

// Largest blob a pull reads (a release file, a manifest, an event): larger is refused.
inline constexpr uint64_t kMaxPulledBlob = 512ull << 20;
// Most bytes one fetch may receive (the pack the server sends): past it the fetch stops and
// nothing is imported.
inline constexpr uint64_t kMaxFetchBytes = 8ull << 30;
// Most commits one chain may hold when read from a remote.
inline constexpr size_t kMaxChainLength = 10000000;

std::string SnapshotRef(const SnapshotId& id);
std::string DeploymentRef(std::string_view deployment);
// The deployment a ref under kDeploymentRefPrefix names (decoded); nullopt when the ref is
// not one cairn writes.
std::optional<std::string> DeploymentOfRef(std::string_view ref);

// ---- writing ----

// Builds git objects for records of `store` in `repo`. Snapshot commits are remembered in
// `repo` under their ref, so a snapshot is written once.
class GitWriter {
 public:
  GitWriter(const Store& store, GitRepository& repo) : store_(store), repo_(repo) {}
  // The commit of snapshot `id` (built from the store when the local ref cache lacks it).
  Result<std::string> SnapshotCommit(const SnapshotId& id);
  // One event of a chain: tree event.json = `bytes`.
  Result<std::string> ChainCommit(std::string_view bytes, const std::optional<std::string>& parent,
                                  const std::optional<std::string>& snapshot_commit,
                                  const std::string& actor, int64_t time_micros,
                                  const std::string& message);
  // One evidence record of snapshot `snapshot`; `kind` is "signature" or "attestation";
  // `objects` are the objects the record names (their bytes are read from the store).
  Result<std::string> EvidenceCommit(std::string_view kind, const SnapshotId& snapshot,
                                     std::string_view value, const std::vector<Digest>& objects,
                                     const std::optional<std::string>& parent,
                                     const std::string& actor, int64_t time_micros,
                                     const std::string& message);

 private:
  const Store& store_;
  GitRepository& repo_;
};

// ---- reading ----

// One commit of a chain, as read.
struct ChainLink {
  std::string commit;
  std::string bytes;                           // event.json / evidence.json
  std::optional<std::string> snapshot_commit;  // the second parent
  std::map<std::string, std::string> objects;  // evidence: digest hex -> blob id
};

// Reads the chain ending at `tip`, oldest first, walking first parents until `stop` (a
// commit already verified; "" to read to the root) or the root. Each commit must have
// exactly the files a chain commit has (`file`, and for evidence objects/<hex> blobs),
// and one parent, or two when `with_snapshot`. kCorruption naming `what` and the commit on
// any other shape; kCorruption when `stop` is given and the chain does not reach it (a
// rewrite). `limit` > 0 reads only that many commits from the tip (the newest ones).
Result<std::vector<ChainLink>> ReadChain(GitRepository& repo, const std::string& tip,
                                         const std::string& stop, std::string_view file,
                                         bool with_snapshot, bool evidence, std::string_view what,
                                         size_t limit = 0);

// A snapshot commit, read and checked against `id`: its manifest hashes to the id, parses,
// and the tree holds exactly the manifest and the components, each a plain file (mode
// 100644) at a safe path whose blob is the component's size. The bytes are hashed when
// read (ReadComponent).
struct SnapshotCommitRead {
  Snapshot snapshot;
  std::string manifest;
  std::map<std::string, std::string> blob_of;  // component path -> blob id
};
Result<SnapshotCommitRead> ReadSnapshotCommit(GitRepository& repo, const std::string& commit,
                                              const SnapshotId& id);

}  // namespace cairn
