// Paired non-inferiority: is a candidate no worse than what is live by more than a margin
// D, with confidence 1 − α, on the same cases? Pass, fail or inconclusive — decided with
// integers only (scores are integer billionths; products beyond 128 bits are exact), so a
// stored verdict can be recomputed bit for bit from the stored case files years later.
// docs/policy.md, "non-inferior", derives every formula. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/eval_cases.h"
#include "cairn/status.h"

namespace cairn {

enum class Verdict { kPass, kFail, kInconclusive };
const char* VerdictName(Verdict v);  // "pass", "fail", "inconclusive"

// α as typed (`:alpha=0.05`): one of 0.10, 0.05, 0.025, 0.01, in billionths; kUsage naming
// `what` otherwise.
Result<int64_t> ParseAlpha(std::string_view text, std::string_view what);
// The default α: 0.05.
inline constexpr int64_t kDefaultAlpha = 50000000;

// T = ⌈t_{1−α, df} · 10^6⌉ from the compiled-in table (df 1..1000; above 1000, t(1000),
// which is conservative). `alpha` one of the four levels; 0.20 gives t_{0.80} (power).
int64_t TQuantileMicros(int64_t alpha_billionths, uint64_t df);
// ⌈z_{1−α} · 10^6⌉, same levels.
int64_t ZQuantileMicros(int64_t alpha_billionths);

// The inputs of the integer rule: per case, an integer value d_i in units of 1/scale
// billionths, and its cluster (clustered samples only).
struct IntegerSample {
  std::vector<int64_t> d;
  std::vector<std::string> cluster;  // empty, or one per value
  int64_t scale = 1;                 // d_i / scale is the difference in billionths
};

// The outcome, with every number `audit verify` recomputes.
struct BoundTest {
  Verdict verdict = Verdict::kInconclusive;
  uint64_t n = 0;
  uint64_t g = 0;        // clusters (0: not clustered)
  uint64_t df = 0;       // n − 1, or G − 1 when clustered
  int64_t mean = 0;      // d̄, billionths, rounded toward −∞
  int64_t sd = 0;        // s, billionths, ⌊√⌋
  int64_t lb = 0;        // d̄ − t·SE, billionths, rounded toward −∞
  int64_t ub = 0;        // d̄ + t·SE, billionths, rounded toward +∞
  int64_t margin = 0;    // D, billionths (for min-eval: the minimum X)
  int64_t alpha = 0;     // billionths
  int64_t t_micros = 0;  // T
  uint64_t min_n = 0;
  std::string why_inconclusive;  // "n 10 < min-n 100", "G 1 < 2", or "" (by the bounds)
  // ⌈((z_{1−α} + z_{0.8}) · √n · SE / D)²⌉: an estimate of the cases 80% power needs when
  // the true difference is 0. nullopt when n < 2.
  std::optional<uint64_t> cases_needed;
  // (z_{1−α} + z_{0.8}) · SE: the smallest drop these n cases detect with 80% power.
  std::optional<int64_t> detectable;

  // The stored fields, as strings: verdict, n, g, mean, sd, lb, ub, margin, alpha, t
  // (decimals with 9 fractional digits) and min_n.
  std::map<std::string, std::string> Fields() const;
};

// Non-inferiority of the differences in `sample` at margin D (billionths, > 0): pass iff
// LB > −D, fail iff UB < −D, else inconclusive; inconclusive also when n < max(min_n, 2)
// or, clustered, G < 2.
BoundTest TestNonInferiority(const IntegerSample& sample, int64_t margin, int64_t alpha,
                             uint64_t min_n);

// One-sample: pass iff the lower bound of the mean is ≥ `minimum` (billionths), fail iff
// the upper bound is < it (min-eval with :alpha=).
BoundTest TestMinimum(const IntegerSample& sample, int64_t minimum, int64_t alpha);

// Pairs two case files case by case: d_i = K_live·c_i − K_cand·l_i (c_i, l_i the sums of
// each side's K scores), scale K_cand·K_live. Clustered when either side is; then both must
// be, with the same cluster for each case. `only_candidate` / `only_live` list the cases
// found on one side only (the sample then holds the common ones). kInvalid-free: a
// clustering disagreement is kUsage ("not comparable").
struct PairedCases {
  IntegerSample sample;
  std::vector<std::string> ids;  // the paired case ids, in sample order
  std::vector<std::string> only_candidate;
  std::vector<std::string> only_live;
};
Result<PairedCases> PairCases(const EvalCaseSet& live, const EvalCaseSet& candidate);
// One-sample input: each case's sum of K scores, scale K.
IntegerSample CaseSums(const EvalCaseSet& cases);

// A billionths value as a decimal with 9 fractional digits: "-0.080000000", "0.020000000".
std::string FormatBillionths9(int64_t v);
// The same rounded half away from zero to `digits` (1..9) with a sign: "-0.080", "+0.001".
std::string FormatSigned(int64_t v, int digits);

}  // namespace cairn
