// Per-case eval results: the JSONL file a CI eval run writes (one object per case, the
// judge's K scores each), validated, canonicalised and summarised by cairn itself, so the
// n and the mean an attestation states are computed, not claimed (docs/policy.md,
// "Per-case results"; docs/format.md, "Case files"). Plain values and pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/canonical_json.h"
#include "cairn/digest.h"
#include "cairn/score.h"
#include "cairn/status.h"

namespace cairn {

inline constexpr size_t kMaxCaseIdBytes = 256;
inline constexpr size_t kMaxScoresPerCase = 64;
inline constexpr size_t kMaxCases = 1000000;

// One case: `{"case","cluster"?,"scores","output"?,"error"?}`.
struct EvalCase {
  std::string id;                      // 1-256 bytes of UTF-8, unique in its file
  std::optional<std::string> cluster;  // on every case of a file or on none
  std::vector<Score> scores;           // the judge's K scores (K the same on every case)
  std::optional<Digest> output;        // the output judged, if recorded
  Json error = nullptr;                // non-null: the case failed, and counts as 0 (fail closed)

  // The sum of its K scores in billionths; 0 when `error` is not null.
  int64_t Sum() const;
};

// A whole file, sorted by case id.
struct EvalCaseSet {
  std::vector<EvalCase> cases;
  uint32_t k = 0;          // scores per case
  bool clustered = false;  // every case names a cluster

  uint64_t n() const { return cases.size(); }
  uint64_t clusters() const;  // distinct clusters (0 unless clustered)
  // The mean of the per-case means, ⌊Σ Sum / (n·K)⌋ in billionths.
  Score Mean() const;
  // The canonical bytes: one canonical JSON object per line, sorted by case id, every line
  // ending in '\n'; members case, cluster (only when clustered), error, output, scores.
  Result<std::string> Canonical() const;
};

// Parses a JSONL case file strictly (UTF-8, duplicate keys, no unknown members, the rules
// above). kUsage naming `what`, the line and the field otherwise.
Result<EvalCaseSet> ParseEvalCases(std::string_view bytes, std::string_view what);

// The judge's identity: SHA-256 over the model string, one 0x00 byte, and the prompt's
// bytes. kUsage when the model string is empty or contains a 0x00 byte.
Result<Digest> JudgeDigest(std::string_view model, std::string_view prompt);

}  // namespace cairn
