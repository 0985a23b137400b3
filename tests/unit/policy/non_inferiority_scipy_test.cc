// Cross-check against an independent implementation: Debian's python3-scipy (for
// /usr/bin/python3, installed by scripts/deps.sh) computes the t quantiles, means, standard
// deviations, (clustered) standard errors, bounds and verdicts of 150 random paired data
// sets in floating point; cairn's integer results must agree. Cases within 1e-9 (plus the
// table's rounding of t) of the margin are boundary cases, checked only by the integer rule.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "cairn/canonical_json.h"
#include "cairn/non_inferiority.h"

namespace cairn {
namespace {

constexpr const char* kScipyCheck = R"PY(
import json, math, sys
import numpy as np
from scipy import stats
compared = boundary = 0
bad = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    d = np.array(r["d"], dtype=np.float64) / r["scale"] / 1e9
    n = len(d); D = r["margin"] / 1e9; alpha = r["alpha"] / 1e9
    mean = d.mean(); sd = d.std(ddof=1)
    if r["clusters"]:
        e = d - mean
        groups = {}
        for v, c in zip(e, r["clusters"]):
            groups[c] = groups.get(c, 0.0) + v
        G = len(groups); df = G - 1
        se = math.sqrt(G / (G - 1) * sum(v * v for v in groups.values()) / n**2)
    else:
        df = n - 1; se = sd / math.sqrt(n)
    t = stats.t.ppf(1 - alpha, min(df, 1000) if df > 1000 else df)
    lb = mean - t * se; ub = mean + t * se
    tc = r["t"] / 1e6
    slack = 1e-6 * se + 3e-9
    def check(name, got, want, tol):
        if abs(got - want) > tol:
            bad.append("set %d: %s cairn %.12f scipy %.12f" % (r["id"], name, got, want))
    check("t", tc, t, 1.01e-6)
    if tc < t - 1e-12: bad.append("set %d: T below t" % r["id"])
    check("mean", r["mean"] / 1e9, mean, 2e-9)
    check("sd", r["sd"] / 1e9, sd, 3e-9)
    check("lb", r["lb"] / 1e9, lb, slack)
    check("ub", r["ub"] / 1e9, ub, slack)
    if abs(lb + D) <= slack or abs(ub + D) <= slack:
        boundary += 1
        continue
    want = "pass" if lb > -D else "fail" if ub < -D else "inconclusive"
    if want != r["verdict"]:
        bad.append("set %d: verdict cairn %s scipy %s" % (r["id"], r["verdict"], want))
    compared += 1
print("compared %d verdicts, %d boundary, %d problems" % (compared, boundary, len(bad)))
for b in bad[:20]: print(b)
sys.exit(1 if bad or compared < 100 else 0)
)PY";

struct RandomSet {
  IntegerSample sample;
  int64_t margin = 0;
  int64_t alpha = 0;
};

RandomSet MakeSet(std::mt19937_64& rng) {
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  RandomSet s;
  const int64_t alphas[] = {100000000, 50000000, 25000000, 10000000};
  const int64_t margins[] = {10000000, 20000000, 50000000, 100000000};
  s.alpha = alphas[pick(0, 3)];
  s.margin = margins[pick(0, 3)];
  int64_t n = pick(2, 400);
  int64_t kc = pick(1, 3), kl = pick(1, 3);
  bool clustered = pick(0, 2) == 0;
  int64_t groups = pick(2, 20);
  // A true shift around the margin, so every verdict occurs.
  int64_t shift = pick(-3, 1) * s.margin / 2;
  int64_t spread = pick(1, 30) * 10000000;
  s.sample.scale = kc * kl;
  for (int64_t i = 0; i < n; ++i) {
    int64_t csum = 0, lsum = 0;
    int64_t base = pick(300000000, 900000000);
    for (int64_t j = 0; j < kc; ++j) {
      csum += std::clamp<int64_t>(base + shift + pick(-spread, spread), 0, 1000000000);
    }
    for (int64_t j = 0; j < kl; ++j) {
      lsum += std::clamp<int64_t>(base + pick(-spread, spread), 0, 1000000000);
    }
    s.sample.d.push_back(kl * csum - kc * lsum);
    if (clustered) s.sample.cluster.push_back("g" + std::to_string(pick(1, groups)));
  }
  return s;
}

TEST(NonInferiorityScipy, AgreesWithScipyOnRandomDataSets) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() /
                 ("cairn-scipy-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  fs::create_directories(dir);
  std::ofstream data(dir / "sets.jsonl");
  std::mt19937_64 rng(20261206);
  int sets = 0;
  for (int id = 0; sets < 150; ++id) {
    RandomSet s = MakeSet(rng);
    BoundTest t = TestNonInferiority(s.sample, s.margin, s.alpha, 2);
    if (t.df == 0) continue;  // one cluster drawn: nothing to compare
    Json clusters = Json::array();
    for (const auto& c : s.sample.cluster) clusters.push_back(c);
    Json line{{"id", id},
              {"d", s.sample.d},
              {"scale", s.sample.scale},
              {"clusters", clusters},
              {"margin", s.margin},
              {"alpha", s.alpha},
              {"t", t.t_micros},
              {"mean", t.mean},
              {"sd", t.sd},
              {"lb", t.lb},
              {"ub", t.ub},
              {"verdict", VerdictName(t.verdict)}};
    data << line.dump() << "\n";
    ++sets;
  }
  data.close();
  std::ofstream(dir / "check.py") << kScipyCheck;
  std::string cmd = "/usr/bin/python3 " + (dir / "check.py").string() + " " +
                    (dir / "sets.jsonl").string() + " > " + (dir / "out.txt").string() + " 2>&1";
  int rc = std::system(cmd.c_str());
  std::stringstream out;
  out << std::ifstream(dir / "out.txt").rdbuf();
  fs::remove_all(dir);
  EXPECT_EQ(rc, 0) << "scipy cross-check (needs python3-scipy: bash scripts/deps.sh):\n"
                   << out.str();
  EXPECT_NE(out.str().find(" 0 problems"), std::string::npos) << out.str();
  std::printf("scipy: %s", out.str().c_str());  // "compared N verdicts, M boundary, 0 problems"
}

}  // namespace
}  // namespace cairn
