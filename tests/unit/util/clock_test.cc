#include "cairn/clock.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(Time, FormatsUtcWithMicroseconds) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTime(1795528980123456), "2026-11-24T14:03:00.123456Z");
}

TEST(Time, ParsesRfc3339AndTheSpaceForm) {
  EXPECT_EQ(*ParseTime("2026-11-24T14:03:00.123456Z"), 1795528980123456);
  EXPECT_EQ(*ParseTime("2026-11-24T14:03Z"), 1795528980000000);
  EXPECT_EQ(*ParseTime("2026-11-24 14:03"), 1795528980000000);
  EXPECT_EQ(*ParseTime("2026-11-24 14:03:00"), 1795528980000000);
  EXPECT_EQ(*ParseTime("2026-11-24T15:03:00+01:00"), 1795528980000000);
}

TEST(Time, ParsesEveryFormOfTheGrammar) {
  EXPECT_EQ(*ParseTime("2026-11-24"), 1795478400000000);
  EXPECT_EQ(*ParseTime("2026-11-24Z"), 1795478400000000);
  EXPECT_EQ(*ParseTime("2026-11-24t14:03:00z"), 1795528980000000);
  EXPECT_EQ(*ParseTime("2026-11-24T14:03:00.5Z"), 1795528980500000);
  EXPECT_EQ(*ParseTime("2026-11-24T14:03:00.123456789Z"), 1795528980123456);  // truncated
  EXPECT_EQ(*ParseTime("2026-11-24T13:03:00-01:00"), 1795528980000000);
  EXPECT_EQ(*ParseTime("2026-11-24T14:03:60Z"), 1795529039000000);  // a leap second: :59
  EXPECT_EQ(*ParseTime("1969-12-31T23:59:59Z"), -1000000);
  EXPECT_EQ(*ParseTime("0001-01-01T00:00:00Z"), -62135596800000000);
}

TEST(Time, FormatAndParseRoundTrip) {
  for (int64_t t : {int64_t{0}, int64_t{-1}, int64_t{1795528980123456}, int64_t{-62135596800000000},
                    int64_t{253402300799999999}, int64_t{-86400000001}}) {
    EXPECT_EQ(*ParseTime(FormatTime(t)), t) << FormatTime(t);
  }
}

TEST(Time, RejectsNonsense) {
  for (const char* bad : {"yesterday",
                          "2026-13-01T00:00Z",
                          "2026-02-30 10:00",
                          "2026-11-24T25:00Z",
                          "2026-11-24T14:03:00+25:00",
                          "",
                          "2026-11-24T14",
                          "2026-11-24T14:3",
                          "2026-11-24T14:03:",
                          "2026-11-24T14:03:00.",
                          "2026-11-24T14:03:00.1234567890Z",
                          "2026-11-24T14:03:00+0100",
                          "2026-11-24T14:03:00Z ",
                          " 2026-11-24",
                          "26-11-24",
                          "2026-1-24",
                          "2026-11-24X14:03",
                          "2026-11-24T14:03:00ZZ",
                          "2026-11-24T14:03:00+01:00Z",
                          "２０２６-11-24",
                          "2026-11-24T14:03:00\n"}) {
    EXPECT_EQ(ParseTime(bad).status().code(), Code::kUsage) << bad;
  }
}

}  // namespace
}  // namespace cairn
