#include "cairn/score.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

int64_t B(std::string_view text) {
  auto s = Score::Parse(text, "--score");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? s->billionths() : -1;
}

TEST(Score, ParsesDecimalsExactly) {
  EXPECT_EQ(B("0.87"), 870000000);
  EXPECT_EQ(B("1"), Score::kOne);
  EXPECT_EQ(B("1.000"), Score::kOne);
  EXPECT_EQ(B("0"), 0);
  EXPECT_EQ(B("00.5"), 500000000);
  EXPECT_EQ(B("0.000000001"), 1);
}

TEST(Score, DifferencesAreExactAtTheBoundary) {
  // In binary floating point 0.87 - 0.79 > 0.08; here it is equal.
  EXPECT_EQ(B("0.87") - B("0.79"), B("0.08"));
  EXPECT_EQ(FormatScoreDelta(B("0.79") - B("0.87")), "-0.08");
}

TEST(Score, RefusesNanInfinityOutOfRangeAndOtherForms) {
  for (const char* bad :
       {"nan", "NaN", "inf", "-inf", "infinity", "-0.1", "+0.5", "1.0000001", "2", "10", "8.7e-1",
        "0.", ".5", "", " 0.5", "0.5 ", "0,5", "0.1234567891", "0x1"}) {
    auto s = Score::Parse(bad, "--score");
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_EQ(s.status().code(), Code::kUsage);
      EXPECT_NE(s.status().message().find("--score"), std::string::npos);
    }
  }
}

TEST(Score, PrintsTheShortestDecimal) {
  EXPECT_EQ(Score::Parse("0.870", "x")->ToString(), "0.87");
  EXPECT_EQ(Score::Parse("1.0", "x")->ToString(), "1");
  EXPECT_EQ(Score::Parse("0", "x")->ToString(), "0");
  EXPECT_EQ(Score::Parse("0.000000001", "x")->ToString(), "0.000000001");
}

}  // namespace
}  // namespace cairn
