// Audit: `audit verify` recomputes every hash chain of a store — each deployment's, the
// trust chain and the policy chain — and checks every event signature against the trust
// list as it stood when the event was signed. It only reads: it works on read-only stores
// and never waits; safe to call from several threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cairn/deployment_name.h"
#include "cairn/signing.h"
#include "cairn/store.h"
#include "cairn/trust.h"

namespace cairn {

// Which chain a problem is in.
enum class AuditChain { kDeployment, kTrust, kPolicy, kAttestations };
struct AuditProblem {
  std::string deployment;  // empty for the trust chain; for the policy chain, if known
  uint64_t seq = 0;        // 0: the deployment record (or the trust chain's head) itself
  std::string message;
  AuditChain chain = AuditChain::kDeployment;
};
// The verdict on one signed event.
struct EventSignatureCheck {
  std::string deployment;
  uint64_t seq = 0;
  KeyId key_id;
  SignatureStatus status = SignatureStatus::kBad;
  std::vector<std::string> names;  // the key's trusted names
  std::string detail;
};
// How far an event's or attestation's time may be ahead of the auditor's clock before it is
// flagged as dated in the future (clocks of different hosts differ a little).
inline constexpr int64_t kMaxClockSkewMicros = int64_t{5} * 60 * 1000000;  // 5 minutes

struct AuditReport {
  // The root in force (trust.h); nullopt: the store is unrooted — trust and policy changes
  // need no signature there, which is reported but is not a problem.
  std::optional<Root> root;
  uint64_t root_events = 0;  // root events in the trust chain (a rotation adds one)
  bool root_pinned = false;  // --root was given and one of the store's roots is exactly it
  uint64_t deployments = 0;
  uint64_t events = 0;
  uint64_t trust_events = 0;
  uint64_t policy_events = 0;
  uint64_t attestations = 0;  // attestation records whose times were checked
  // Stored eval verdicts (non-inferior, min-eval with alpha) recomputed from case files.
  uint64_t verdicts_recomputed = 0;
  // Events written before moves recorded their gate hooks (and overrides per check): their
  // hooks cannot be judged; reported as such, never as a problem.
  uint64_t events_without_hook_record = 0;
  std::vector<EventSignatureCheck> signatures;  // one per signed event
  // The first broken link of each chain, and every event signature that is not valid.
  std::vector<AuditProblem> problems;
  bool ok() const { return problems.empty(); }
};
// `pinned_root`: the root key ids the caller knows out of band (`audit verify --root`); when
// given, one of the store's root events must have exactly these keys, or the whole trust
// chain may have been rewritten from a root of someone else's making.
// `now_micros` is the auditor's clock (0: the store's clock).
Result<AuditReport> AuditVerify(const Store& store,
                                const std::optional<DeploymentName>& only = std::nullopt,
                                const std::vector<KeyId>& pinned_root = {}, int64_t now_micros = 0);

}  // namespace cairn
