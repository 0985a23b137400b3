// Views: the JSON documents cairn shows to machines — what `status`, `log`, `live`,
// `snapshot list`, `snapshot show`, `diff` and `audit verify` print with `--json`, and what
// `cairn serve` answers under /v1/. One home, so the CLI and the HTTP API cannot drift apart:
// a field added here appears in both. Every function only reads; the Load* functions take a
// Store opened read-only or read-write and are safe to call from several threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/attestation.h"
#include "cairn/audit.h"
#include "cairn/canonical_json.h"
#include "cairn/deployment.h"
#include "cairn/diff.h"
#include "cairn/signature.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"

namespace cairn {

// One deployment: {"deployment","live","since","event"}.
Json DeploymentJson(const Deployment& deployment);
// `status`: the DeploymentJson of each deployment, as an array.
Json StatusJson(const std::vector<Deployment>& deployments);

// `log`: the events as an array, in the order given.
Json EventsJson(const std::vector<Event>& events);

// `live --at`: {"deployment","at","live","event"}.
Json LiveJson(std::string_view deployment, int64_t at_micros, const Event& event);

// `snapshot list`: [{"id","app","author","created","message","components","size","content"}]
// in the order given (the CLI passes newest first).
Json SnapshotListJson(const std::vector<SnapshotSummary>& snapshots);

// A snapshot signature's verdict: {"key_id","status","names":[{"name","roles"}],"roles",
// "detail","time","actor"}.
Json SignatureCheckJson(const SignatureCheck& check);
// An attestation's verdict: {"id","statement","key_id","status","names","roles","detail"}.
Json AttestationCheckJson(const AttestationCheck& check);

// Everything `snapshot show` says about one snapshot.
struct SnapshotView {
  Snapshot snapshot;
  std::vector<SnapshotId> same_content_as;  // other snapshots with identical components
  std::vector<SignatureCheck> signatures;   // judged by the trust list as it stands
  std::vector<AttestationCheck> attestations;
};
// Loads the snapshot `id` and judges its signatures and attestations.
// Errors: kNotFound (no such snapshot), kCorruption, kIO.
Result<SnapshotView> LoadSnapshotView(const Store& store, const SnapshotId& id);
// `snapshot show`: the manifest plus "signatures", "attestations", "id", "same_content_as",
// "size".
Json SnapshotViewJson(const SnapshotView& view);

// `diff`: {"from","to","same_content","from_source","to_source","components":[...]}.
Json DiffJson(const SnapshotDiff& diff, const Snapshot& from, const Snapshot& to);

// `audit verify`: {"ok","rooted","root","root_pinned","deployments","events",...,
// "signatures","problems"}.
Json AuditJson(const AuditReport& report);
// "trust", "policy", "attestations" or "deployment".
const char* AuditChainName(AuditChain chain);

}  // namespace cairn
