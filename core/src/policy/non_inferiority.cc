// Paired non-inferiority and one-sample bounds with integers only (cairn/non_inferiority.h).
// docs/policy.md derives the forms; the golden vectors in tests/unit/policy/ pin them.
#include "cairn/non_inferiority.h"

#include <fmt/format.h>

#include <map>

#include "port/bignum.h"

namespace cairn {
namespace {

#include "policy/t_table.inc"

constexpr int64_t kMicrosSquared = 1000000000000;  // (10^6)²: T and Z are t·10^6
constexpr int64_t kPowerLevel = 200000000;         // 0.20: t_{0.80}, the power term

int LevelIndex(int64_t alpha) {
  switch (alpha) {
    case 100000000:
      return 0;
    case 50000000:
      return 1;
    case 25000000:
      return 2;
    case 10000000:
      return 3;
    case kPowerLevel:
      return 4;
    default:
      return 1;  // ParseAlpha admits only the levels above
  }
}

BigInt Big(uint64_t v) { return BigInt(static_cast<int64_t>(v)); }

// The sums the rule is made of.
struct Sums {
  uint64_t n = 0;
  BigInt s1, s2;
  std::map<std::string, std::pair<BigInt, uint64_t>> groups;  // cluster -> (Σd, n_g)
};

Sums Accumulate(const IntegerSample& sample) {
  Sums s;
  s.n = sample.d.size();
  for (size_t i = 0; i < sample.d.size(); ++i) {
    BigInt d(sample.d[i]);
    s.s1 += d;
    s.s2 += d * d;
    if (!sample.cluster.empty()) {
      auto& g = s.groups[sample.cluster[i]];
      g.first += d;
      ++g.second;
    }
  }
  return s;
}

// SE² in billionths², as num / den; and the two sides' common factors of the rule.
struct Variance {
  BigInt num, den;
  BigInt rule_left_factor;   // (n−1), or n²(G−1) when clustered
  BigInt rule_right_factor;  // Q, or G·ΣW_g² when clustered
  BigInt q;                  // n·S2 − S1²
};

Variance VarianceOf(const Sums& s, int64_t scale, bool clustered) {
  Variance v;
  BigInt n = Big(s.n), sc2 = BigInt(scale) * BigInt(scale);
  v.q = n * s.s2 - s.s1 * s.s1;
  if (!clustered) {
    v.rule_left_factor = n - 1;
    v.rule_right_factor = v.q;
    v.num = v.q;
    v.den = n * n * (n - 1) * sc2;
    return v;
  }
  // CR1: SE² = G/(G−1) · Σ_g (Σ_{i∈g} e_i)² / n², e_i = d_i − d̄; with W_g = n·S1_g − n_g·S1
  // (= n·Σ_{i∈g} e_i), SE² = G·ΣW_g² / ((G−1)·n⁴) in units of d.
  BigInt g = Big(s.groups.size()), w2;
  for (const auto& [name, sg] : s.groups) {
    BigInt w = n * sg.first - Big(sg.second) * s.s1;
    w2 += w * w;
  }
  v.rule_left_factor = n * n * (g - 1);
  v.rule_right_factor = g * w2;
  v.num = g * w2;
  v.den = (g - 1) * n * n * n * n * sc2;
  return v;
}

std::string Decimal(int64_t v, int digits) {
  // v billionths, rounded half away from zero to `digits`, no sign.
  uint64_t mag = v < 0 ? ~static_cast<uint64_t>(v) + 1 : static_cast<uint64_t>(v);
  uint64_t unit = 1;
  for (int i = digits; i < 9; ++i) unit *= 10;
  uint64_t r = (mag + unit / 2) / unit;
  uint64_t scale = 1000000000 / unit;
  return digits == 0 ? fmt::format("{}", r)
                     : fmt::format("{}.{:0{}}", r / scale, r % scale, digits);
}

BoundTest Test(const IntegerSample& sample, int64_t margin, int64_t alpha, uint64_t min_n,
               bool one_sample) {
  BoundTest r;
  r.margin = margin;
  r.alpha = alpha;
  r.min_n = min_n;
  bool clustered = !sample.cluster.empty();
  Sums s = Accumulate(sample);
  r.n = s.n;
  r.g = clustered ? s.groups.size() : 0;
  BigInt n = Big(s.n), scale(sample.scale), q_mean = n * scale;
  r.lb = one_sample ? 0 : -1000000000;
  r.ub = 1000000000;
  if (s.n == 0) {
    r.why_inconclusive = "no cases";
    return r;
  }
  r.mean = BigInt::FloorDiv(s.s1, q_mean).ToInt64Saturated();
  uint64_t units = clustered ? r.g : r.n;
  if (units < 2) {
    r.why_inconclusive = clustered ? fmt::format("G {} < 2", r.g) : fmt::format("n {} < 2", r.n);
    return r;
  }
  r.df = units - 1;
  r.t_micros = TQuantileMicros(alpha, r.df);
  Variance v = VarianceOf(s, sample.scale, clustered);
  r.sd = BigInt::FloorSqrt(BigInt::FloorDiv(v.q, n * (n - 1) * scale * scale)).ToInt64Saturated();
  // The bounds, rounded outward exactly: x = S1/(n·scale), y = √(T²·num / (10^12·den)).
  BigInt t2 = BigInt(r.t_micros) * BigInt(r.t_micros);
  BigInt rn = t2 * v.num, rd = BigInt(kMicrosSquared) * v.den;
  BigInt ceil_y = BigInt::CeilSqrt(BigInt::CeilDiv(rn, rd));
  auto fits = [&](const BigInt& c) {  // y <= c / q_mean, c >= 0
    return c.Sign() >= 0 && rn * q_mean * q_mean <= rd * c * c;
  };
  BigInt lb = BigInt::FloorDiv(s.s1, q_mean) - ceil_y;
  if (fits(s.s1 - (lb + 1) * q_mean)) lb += 1;
  BigInt ub = BigInt::CeilDiv(s.s1, q_mean) + ceil_y;
  if (fits((ub - 1) * q_mean - s.s1)) ub -= 1;
  r.lb = lb.ToInt64Saturated();
  r.ub = ub.ToInt64Saturated();
  // The verdict: A = S1 + n·M (M the margin in units of d; for one sample, −minimum).
  BigInt a = s.s1 + n * BigInt(one_sample ? -margin : margin) * scale;
  BigInt left = a * a * v.rule_left_factor * BigInt(kMicrosSquared);
  BigInt right = t2 * v.rule_right_factor;
  bool pass = one_sample ? a.Sign() >= 0 && left >= right : a.Sign() > 0 && left > right;
  bool fail = a.Sign() < 0 && left > right;
  if (s.n < min_n) {
    r.why_inconclusive = fmt::format("n {} < min-n {}", s.n, min_n);
  } else {
    r.verdict = pass ? Verdict::kPass : fail ? Verdict::kFail : Verdict::kInconclusive;
  }
  // Power: Z = z_{1−α} + z_{0.8}; detectable = Z·SE; cases needed = ⌈Z²·n·SE² / D²⌉.
  BigInt z = BigInt(ZQuantileMicros(alpha) + ZQuantileMicros(kPowerLevel));
  r.detectable = BigInt::CeilSqrt(BigInt::CeilDiv(z * z * v.num, BigInt(kMicrosSquared) * v.den))
                     .ToInt64Saturated();
  if (!one_sample && margin > 0) {
    BigInt need = BigInt::CeilDiv(z * z * n * v.num,
                                  BigInt(kMicrosSquared) * v.den * BigInt(margin) * BigInt(margin));
    r.cases_needed = static_cast<uint64_t>(need.ToInt64Saturated());
  }
  return r;
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kFail:
      return "fail";
    case Verdict::kInconclusive:
      break;
  }
  return "inconclusive";
}

Result<int64_t> ParseAlpha(std::string_view text, std::string_view what) {
  auto score = Score::Parse(text, what);
  if (score.ok()) {
    for (int64_t level : {100000000, 50000000, 25000000, 10000000}) {
      if (score->billionths() == level) return level;
    }
  }
  return Status::Usage(
      fmt::format("{}: alpha \"{}\" is not one of 0.10, 0.05, 0.025, 0.01", what, text));
}

int64_t TQuantileMicros(int64_t alpha, uint64_t df) {
  uint64_t row = df == 0 ? 1 : df > kTTableMaxDf ? kTTableMaxDf : df;
  return kTQuantileMicros[row - 1][LevelIndex(alpha)];
}

int64_t ZQuantileMicros(int64_t alpha) { return kZQuantileMicros[LevelIndex(alpha)]; }

std::string FormatBillionths9(int64_t v) { return (v < 0 ? "-" : "") + Decimal(v, 9); }

std::string FormatSigned(int64_t v, int digits) {
  std::string d = Decimal(v, digits);
  bool zero = d.find_first_not_of("0.") == std::string::npos;
  return (zero ? "" : v < 0 ? "-" : "+") + d;
}

std::map<std::string, std::string> BoundTest::Fields() const {
  return {{"verdict", VerdictName(verdict)},
          {"n", std::to_string(n)},
          {"g", std::to_string(g)},
          {"mean", FormatBillionths9(mean)},
          {"sd", FormatBillionths9(sd)},
          {"lb", FormatBillionths9(lb)},
          {"ub", FormatBillionths9(ub)},
          {"margin", FormatBillionths9(margin)},
          {"alpha", FormatBillionths9(alpha)},
          {"t", FormatBillionths9(t_micros * 1000)},
          {"min_n", std::to_string(min_n)}};
}

BoundTest TestNonInferiority(const IntegerSample& sample, int64_t margin, int64_t alpha,
                             uint64_t min_n) {
  return Test(sample, margin, alpha, min_n, /*one_sample=*/false);
}

BoundTest TestMinimum(const IntegerSample& sample, int64_t minimum, int64_t alpha) {
  return Test(sample, minimum, alpha, 0, /*one_sample=*/true);
}

Result<PairedCases> PairCases(const EvalCaseSet& live, const EvalCaseSet& candidate) {
  PairedCases p;
  bool clustered = live.clustered || candidate.clustered;
  if (clustered && !(live.clustered && candidate.clustered)) {
    return Status::Usage(
        fmt::format("not comparable: the {} case file names clusters, the {} "
                    "one does not",
                    live.clustered ? "live" : "candidate", live.clustered ? "candidate" : "live"));
  }
  int64_t kl = live.k, kc = candidate.k;
  p.sample.scale = kl * kc;
  size_t i = 0, j = 0;
  while (i < live.cases.size() || j < candidate.cases.size()) {
    if (j == candidate.cases.size() ||
        (i < live.cases.size() && live.cases[i].id < candidate.cases[j].id)) {
      p.only_live.push_back(live.cases[i++].id);
    } else if (i == live.cases.size() || candidate.cases[j].id < live.cases[i].id) {
      p.only_candidate.push_back(candidate.cases[j++].id);
    } else {
      const EvalCase& l = live.cases[i++];
      const EvalCase& c = candidate.cases[j++];
      if (clustered && *l.cluster != *c.cluster) {
        return Status::Usage(fmt::format(
            "not comparable: case \"{}\" is in cluster \"{}\" live and \"{}\" in the candidate",
            c.id, *l.cluster, *c.cluster));
      }
      p.sample.d.push_back(kl * c.Sum() - kc * l.Sum());
      if (clustered) p.sample.cluster.push_back(*c.cluster);
      p.ids.push_back(c.id);
    }
  }
  return p;
}

IntegerSample CaseSums(const EvalCaseSet& cases) {
  IntegerSample s;
  s.scale = cases.k;
  for (const auto& c : cases.cases) {
    s.d.push_back(c.Sum());
    if (cases.clustered) s.cluster.push_back(*c.cluster);
  }
  return s;
}

}  // namespace cairn
