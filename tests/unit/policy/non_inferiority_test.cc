// Golden vectors for every formula of the paired non-inferiority rule and the one-sample
// bound (docs/policy.md, "non-inferior"), computed independently with exact fractions.
#include "cairn/non_inferiority.h"

#include <gtest/gtest.h>

#include "port/bignum.h"

namespace cairn {
namespace {

constexpr int64_t kAlpha05 = 50000000;

IntegerSample Sample(std::vector<int64_t> d, int64_t scale = 1,
                     std::vector<std::string> clusters = {}) {
  IntegerSample s;
  s.d = std::move(d);
  s.scale = scale;
  s.cluster = std::move(clusters);
  return s;
}

TEST(BigInt, FloorAndCeilDivisionRoundTowardTheirInfinities) {
  EXPECT_EQ(BigInt::FloorDiv(7, 2).ToString(), "3");
  EXPECT_EQ(BigInt::FloorDiv(-7, 2).ToString(), "-4");
  EXPECT_EQ(BigInt::FloorDiv(7, -2).ToString(), "-4");
  EXPECT_EQ(BigInt::FloorDiv(-8, 2).ToString(), "-4");
  EXPECT_EQ(BigInt::CeilDiv(7, 2).ToString(), "4");
  EXPECT_EQ(BigInt::CeilDiv(-7, 2).ToString(), "-3");
}

TEST(BigInt, SquareRootsAreExactFarBeyond128Bits) {
  BigInt big = BigInt(INT64_MAX) * BigInt(INT64_MAX) * BigInt(INT64_MAX);  // ~2^189
  BigInt r = BigInt::FloorSqrt(big);
  EXPECT_TRUE(r * r <= big);
  EXPECT_TRUE((r + 1) * (r + 1) > big);
  EXPECT_EQ(BigInt::FloorSqrt(BigInt(99)).ToString(), "9");
  EXPECT_EQ(BigInt::CeilSqrt(BigInt(99)).ToString(), "10");
  EXPECT_EQ(BigInt::CeilSqrt(BigInt(100)).ToString(), "10");
  EXPECT_EQ(BigInt(INT64_MIN).ToString(), "-9223372036854775808");
  EXPECT_EQ((BigInt(INT64_MAX) + 1).ToInt64Saturated(), INT64_MAX);
}

TEST(TTable, HoldsTheCeilingOfTheQuantileInMillionths) {
  EXPECT_EQ(TQuantileMicros(kAlpha05, 1), 6313752);  // t_{0.95,1} = 6.3137515…
  EXPECT_EQ(TQuantileMicros(kAlpha05, 4), 2131847);
  EXPECT_EQ(TQuantileMicros(10000000, 5), 3364930);
  EXPECT_EQ(TQuantileMicros(kAlpha05, 1000), 1646379);
  EXPECT_EQ(TQuantileMicros(kAlpha05, 5000), 1646379);  // above 1000: t(1000), conservative
  EXPECT_EQ(ZQuantileMicros(kAlpha05), 1644854);
}

TEST(NonInferiority, GoldenVectorPassesWhenTheLowerBoundClearsTheMargin) {
  // d = -0.1, 0, 0.05, -0.05, 0 at D = 0.10: S1 = -1e8, S2 = 1.5e16, A = S1 + 5·1e8 = 4e8,
  // Q = 5·S2 - S1² = 6.5e16; A²(n-1)·10^12 = 6.4e29 > T²Q = 2131847²·6.5e16 = 2.95e29.
  BoundTest t =
      TestNonInferiority(Sample({-100000000, 0, 50000000, -50000000, 0}), 100000000, kAlpha05, 2);
  auto f = t.Fields();
  EXPECT_EQ(f["verdict"], "pass");
  EXPECT_EQ(f["n"], "5");
  EXPECT_EQ(f["g"], "0");
  EXPECT_EQ(f["mean"], "-0.020000000");
  EXPECT_EQ(f["sd"], "0.057008771");
  EXPECT_EQ(f["lb"], "-0.074351648");
  EXPECT_EQ(f["ub"], "0.034351648");
  EXPECT_EQ(f["margin"], "0.100000000");
  EXPECT_EQ(f["alpha"], "0.050000000");
  EXPECT_EQ(f["t"], "2.131847000");
  EXPECT_EQ(t.df, 4u);
}

TEST(NonInferiority, GoldenVectorIsInconclusiveWhenTheBoundsStraddleTheMargin) {
  BoundTest t = TestNonInferiority(
      Sample({-100000000, 0, 50000000, -50000000, 0, -20000000, 10000000}), 20000000, kAlpha05, 2);
  auto f = t.Fields();
  EXPECT_EQ(f["verdict"], "inconclusive");
  EXPECT_EQ(f["mean"], "-0.015714286");  // rounded toward -inf
  EXPECT_EQ(f["sd"], "0.047908643");
  EXPECT_EQ(f["lb"], "-0.050900951");
  EXPECT_EQ(f["ub"], "0.019472380");
  ASSERT_TRUE(t.cases_needed.has_value());
  EXPECT_GT(*t.cases_needed, 7u);
}

TEST(NonInferiority, GoldenVectorFailsWhenTheUpperBoundIsBelowTheMargin) {
  BoundTest t = TestNonInferiority(
      Sample({-300000000, -250000000, -200000000, -280000000, -320000000, -260000000}), 20000000,
      10000000, 2);
  auto f = t.Fields();
  EXPECT_EQ(f["verdict"], "fail");
  EXPECT_EQ(f["mean"], "-0.268333334");
  EXPECT_EQ(f["sd"], "0.042150523");
  EXPECT_EQ(f["lb"], "-0.326236643");
  EXPECT_EQ(f["ub"], "-0.210430023");
  EXPECT_EQ(f["t"], "3.364930000");
  EXPECT_EQ(f["alpha"], "0.010000000");
}

TEST(NonInferiority, GoldenVectorScalesByBothSidesScoreCounts) {
  // Live K = 2, candidate K = 3: d_i = 2·c_i - 3·l_i in units of 1/6 billionth.
  EvalCaseSet live, cand;
  live.k = 2;
  cand.k = 3;
  std::vector<int64_t> c = {900000000, 1000000000, 800000000, 500000000, 1000000000, 900000000};
  std::vector<int64_t> l = {900000000, 1000000000, 900000000, 700000000, 950000000, 1000000000};
  for (size_t i = 0; i < c.size(); ++i) {
    EvalCase lc, cc;
    lc.id = cc.id = "case-" + std::to_string(i);
    lc.scores = {Score::FromBillionths(l[i]), Score::FromBillionths(l[i])};
    cc.scores = {Score::FromBillionths(c[i]), Score::FromBillionths(c[i]),
                 Score::FromBillionths(c[i])};
    live.cases.push_back(lc);
    cand.cases.push_back(cc);
  }
  auto p = PairCases(live, cand);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->sample.scale, 6);
  EXPECT_EQ(p->sample.d,
            (std::vector<int64_t>{0, 0, -600000000, -1200000000, 300000000, -600000000}));
  auto f = TestNonInferiority(p->sample, 50000000, kAlpha05, 2).Fields();
  EXPECT_EQ(f["verdict"], "inconclusive");
  EXPECT_EQ(f["mean"], "-0.058333334");
  EXPECT_EQ(f["sd"], "0.091742392");
  EXPECT_EQ(f["lb"], "-0.133804324");
  EXPECT_EQ(f["ub"], "0.017137658");
}

TEST(NonInferiority, GoldenVectorClusteredUsesCr1AndGMinusOneDegreesOfFreedom) {
  BoundTest t = TestNonInferiority(
      Sample({-100000000, -50000000, 0, -300000000, -250000000, -200000000, 20000000, 0}, 1,
             {"a", "a", "a", "b", "b", "b", "c", "c"}),
      50000000, 100000000, 2);
  auto f = t.Fields();
  EXPECT_EQ(f["g"], "3");
  EXPECT_EQ(t.df, 2u);
  EXPECT_EQ(f["t"], "1.885619000");
  EXPECT_EQ(f["mean"], "-0.110000000");
  EXPECT_EQ(f["sd"], "0.124556355");
  EXPECT_EQ(f["lb"], "-0.258996717");
  EXPECT_EQ(f["ub"], "0.038996717");
  EXPECT_EQ(f["verdict"], "inconclusive");
}

TEST(NonInferiority, ExactlyOnTheMarginIsNeitherPassNorFail) {
  // Every d = -D: A = 0 and Q = 0. LB = UB = -D: not > -D, not < -D.
  BoundTest t =
      TestNonInferiority(Sample({-20000000, -20000000, -20000000}), 20000000, kAlpha05, 2);
  EXPECT_EQ(t.verdict, Verdict::kInconclusive);
  EXPECT_EQ(t.Fields()["lb"], "-0.020000000");
  EXPECT_EQ(t.Fields()["ub"], "-0.020000000");
}

TEST(NonInferiority, FewerCasesThanMinNOrTwoClustersIsInconclusive) {
  BoundTest t = TestNonInferiority(Sample({0, 0, 0, 0}), 20000000, kAlpha05, 5);
  EXPECT_EQ(t.verdict, Verdict::kInconclusive);
  EXPECT_EQ(t.why_inconclusive, "n 4 < min-n 5");
  t = TestNonInferiority(Sample({0, 0, 0}, 1, {"a", "a", "a"}), 20000000, kAlpha05, 2);
  EXPECT_EQ(t.verdict, Verdict::kInconclusive);
  EXPECT_EQ(t.why_inconclusive, "G 1 < 2");
}

TEST(MinEvalBound, GoldenVectorPassesOnTheBoundaryAndFailsBelowIt) {
  // Every case scores exactly 0.85: LB = 0.85 >= 0.85 passes (boundaries pass).
  BoundTest t = TestMinimum(Sample({850000000, 850000000, 850000000}), 850000000, kAlpha05);
  EXPECT_EQ(t.verdict, Verdict::kPass);
  // Mean 0.8, s² = 0.02/3, n 4: UB = 0.8 + 2.353364·√(0.02/12) = 0.896 >= 0.85: inconclusive.
  t = TestMinimum(Sample({700000000, 800000000, 900000000, 800000000}), 850000000, kAlpha05);
  EXPECT_EQ(t.verdict, Verdict::kInconclusive);
  EXPECT_EQ(t.Fields()["ub"], "0.896075683");
}

TEST(CasesNeeded, IsTheNormalApproximationRoundedUp) {
  // s = 0.1 exactly (d alternates ±0.1 around 0 … with n = 4: s² = 4·0.01/3), D = 0.05:
  // ⌈((1.644854 + 0.841622)·s / D)²⌉ = ⌈6.18256·(0.04/3)/0.0025⌉ = ⌈32.97⌉ = 33.
  BoundTest t = TestNonInferiority(Sample({100000000, -100000000, 100000000, -100000000}), 50000000,
                                   kAlpha05, 2);
  ASSERT_TRUE(t.cases_needed.has_value());
  EXPECT_EQ(*t.cases_needed, 33u);
}

TEST(ParseAlpha, AcceptsTheFourLevelsOnly) {
  EXPECT_EQ(*ParseAlpha("0.05", "x"), 50000000);
  EXPECT_EQ(*ParseAlpha("0.10", "x"), 100000000);
  EXPECT_EQ(*ParseAlpha("0.025", "x"), 25000000);
  EXPECT_EQ(*ParseAlpha("0.01", "x"), 10000000);
  EXPECT_TRUE(ParseAlpha("0.2", "x").status().code() == Code::kUsage);
  EXPECT_TRUE(ParseAlpha("0.049", "x").status().code() == Code::kUsage);
}

TEST(EvalCases, CanonicalisesSortsAndComputesTheMean) {
  auto set = ParseEvalCases(
      "{\"case\":\"b\",\"scores\":[\"1\",\"0.5\"],\"error\":null}\n"
      "{\"scores\":[\"0.9\",\"0.9\"],\"case\":\"a\",\"output\":null}\n"
      "{\"case\":\"c\",\"scores\":[\"1\",\"1\"],\"error\":\"timeout\"}\n",
      "cases.jsonl");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->n(), 3u);
  EXPECT_EQ(set->k, 2u);
  EXPECT_EQ(set->cases[2].Sum(), 0);          // an error counts as 0
  EXPECT_EQ(set->Mean().ToString(), "0.55");  // (1.8 + 1.5 + 0) / 6
  EXPECT_EQ(*set->Canonical(),
            "{\"case\":\"a\",\"error\":null,\"output\":null,\"scores\":[\"0.9\",\"0.9\"]}\n"
            "{\"case\":\"b\",\"error\":null,\"output\":null,\"scores\":[\"1\",\"0.5\"]}\n"
            "{\"case\":\"c\",\"error\":\"timeout\",\"output\":null,\"scores\":[\"1\",\"1\"]}\n");
}

TEST(EvalCases, RefusesBadFilesNamingLineAndField) {
  auto refused = [](std::string_view text, std::string_view needle) {
    auto set = ParseEvalCases(text, "cases.jsonl");
    ASSERT_FALSE(set.ok());
    EXPECT_TRUE(set.status().code() == Code::kUsage);
    EXPECT_NE(set.status().message().find(needle), std::string::npos) << set.status().message();
  };
  refused("{\"case\":\"a\",\"scores\":[0.9]}\n", "\"scores\"");
  refused("{\"case\":\"a\",\"scores\":[\"0.9\"]}\n{\"case\":\"a\",\"scores\":[\"1\"]}\n",
          "appears twice");
  refused("{\"case\":\"a\",\"scores\":[\"0.9\"]}\n{\"case\":\"b\",\"scores\":[\"1\",\"1\"]}\n",
          "line 2");
  refused(
      "{\"case\":\"a\",\"cluster\":\"x\",\"scores\":[\"1\"]}\n{\"case\":\"b\",\"scores\":[\"1\"]}"
      "\n",
      "on every case or on none");
  refused("{\"case\":\"a\",\"scores\":[\"1.5\"]}\n", "score");
  refused("{\"case\":\"a\",\"scores\":[\"1\"],\"extra\":1}\n", "unknown member");
  refused("{\"case\":\"\",\"scores\":[\"1\"]}\n", "\"case\"");
  refused("", "no cases");
}

TEST(JudgeDigest, IsTheHashOfModelNulAndPrompt) {
  EXPECT_EQ(JudgeDigest("m", "p")->ToString(), Digest::Of(std::string("m\0p", 3)).ToString());
  EXPECT_TRUE(JudgeDigest("", "p").status().code() == Code::kUsage);
}

}  // namespace
}  // namespace cairn
