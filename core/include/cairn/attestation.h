// Attestations: signed statements about one snapshot. The kind cairn knows is an eval
// result: a score on a named eval, bound to the snapshot id, the golden dataset's digest
// and the judge, so a score can be neither carried to another snapshot nor compared across
// different golden sets.
//
// An attestation is a statement (canonical JSON, docs/format.md "Attestations") and an
// Ed25519 signature over AttestationSigningMessage(sha256(statement)). Recording one needs
// a Store opened read-write (one synced batch: the record and, if given, the report object);
// reading and checking work on read-only stores. Functions are safe to call from several
// threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cairn/canonical_json.h"
#include "cairn/digest.h"
#include "cairn/eval_cases.h"
#include "cairn/score.h"
#include "cairn/signature.h"
#include "cairn/signing.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"
#include "cairn/trust.h"

namespace cairn {

// Eval names: [a-z0-9][a-z0-9._-]{0,63} ("golden-v3").
Status ValidateEvalName(std::string_view name);

// What an eval attestation says. Every field is covered by the signature.
struct EvalStatement {
  SnapshotId snapshot;
  std::string eval;
  Score score;
  std::optional<uint64_t> n;      // number of cases scored
  std::optional<Digest> dataset;  // SHA-256 of the golden dataset
  std::string judge;              // the judge: model and prompt, free text
  std::optional<Digest> report;   // the report file, stored as an object
  // Per-case results (eval_cases.h): the canonical case file, stored as an object; n and
  // score are then computed from it. `judge_digest` = JudgeDigest(model, prompt). Both or
  // neither; absent in single-score attestations (which hash as they always did).
  std::optional<Digest> cases;
  std::optional<Digest> judge_digest;
  int64_t time_micros = 0;
  std::string actor;
  // The store's attestation sequence when it was recorded (1, 2, 3 … per store; none for
  // attestations recorded before it existed). "Newest" means highest here, never the
  // attester's own clock.
  std::optional<uint64_t> seq;

  Json ToJson() const;
  static Result<EvalStatement> FromJson(const Json& json, std::string_view what);
  // The objects the statement links (report, case file): fsck counts them as referenced and
  // reports them missing, recover copies them with the attestation.
  std::vector<std::pair<const char*, Digest>> LinkedObjects() const;
  // SHA-256 of the canonical JSON: the attestation's id.
  Result<Digest> Hash() const;
};

struct Attestation {
  EvalStatement statement;
  Digest id;  // statement.Hash()
  KeyId key_id;
  PublicKey public_key;
  Signature signature;
};

struct AttestOptions {
  std::string actor;
  // The report's bytes (`--report FILE`), stored as an object and linked by digest.
  std::optional<std::string> report;
  // A per-case results file's bytes (`--cases FILE`, JSONL): validated, canonicalised and
  // stored as an object; statement.n and statement.score are computed from it. Needs
  // statement.dataset and statement.judge_digest.
  std::optional<std::string> cases;
  // The score the caller typed with --cases, if any: refused unless it agrees with the
  // computed mean to its own number of decimals (0.87 agrees with 0.8712).
  std::optional<std::string> claimed_score;
};

// Records a signed eval result for `statement.snapshot` (its time, actor and seq are set
// here; `report` is filled in from options.report). A revoked key may not attest; an unknown
// one may (its attestation does not count until the key is trusted).
// Errors: kNotFound (no such snapshot), kUsage (bad eval name; a bad case file, a claimed
// score that disagrees, per-case results without dataset or judge), kConflict (revoked key; a
// clock before the snapshot's `created` time).
Result<Attestation> Attest(Store& store, EvalStatement statement, const PrivateKey& key,
                           const AttestOptions& options);

// The verdict on one stored attestation.
struct AttestationCheck {
  Attestation attestation;  // as decoded (statement may be partial when `bad`)
  SignatureStatus status = SignatureStatus::kBad;
  std::string detail;              // why it is bad / not trusted; empty when valid
  std::vector<SignerName> names;   // trusted names of the signing key
  std::vector<std::string> roles;  // union of its roles; empty unless valid
};

// Every attestation stored for snapshot `id`, judged against `trust`, oldest first (by seq;
// those without one first, by time). A
// record whose statement names another snapshot (copied), whose id does not match its
// statement, or whose signature does not verify is `bad`.
Result<std::vector<AttestationCheck>> CheckAttestations(const Store& store, const SnapshotId& id,
                                                        const TrustState& trust);

// The newest valid attestation on `eval` among `checks` (and, when given, on `dataset`);
// nullptr when there is none. "Newest" is by store order (see EvalStatement::seq).
// Store order: by seq (attestations without one first), then by time.
bool StoreOrderBefore(const EvalStatement& a, const EvalStatement& b);

const AttestationCheck* NewestValidEval(const std::vector<AttestationCheck>& checks,
                                        std::string_view eval,
                                        const std::optional<Digest>& dataset = std::nullopt,
                                        bool match_dataset = false);

// The stored attestation `id` about `snapshot`, decoded (signature not judged); kNotFound when
// there is none, kCorruption when its record does not decode.
Result<Attestation> GetAttestation(const Store& store, const SnapshotId& snapshot,
                                   const Digest& id);

// The canonical case file an attestation binds (statement.cases), read back and parsed;
// kNotFound when the statement has none, kCorruption when the object is not canonical.
Result<EvalCaseSet> LoadEvalCases(const Store& store, const EvalStatement& statement);

// `--dataset FILE|DIGEST`: "sha256:<64 hex>" as given, else the SHA-256 of the file's bytes
// (streamed). kNotFound when it is neither a digest nor an existing file.
Result<Digest> DatasetDigest(const std::string& file_or_digest);

// Reads a report file for AttestOptions::report; at most kMaxReportBytes (kUsage beyond).
inline constexpr uint64_t kMaxReportBytes = 64ull << 20;
Result<std::string> ReadReportFile(const std::string& path);

}  // namespace cairn
