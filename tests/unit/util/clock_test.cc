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

TEST(Time, RejectsNonsense) {
  for (const char* bad : {"yesterday", "2026-13-01T00:00Z", "2026-02-30 10:00", "2026-11-24T25:00Z",
                          "2026-11-24T14:03:00+25:00", ""}) {
    EXPECT_EQ(ParseTime(bad).status().code(), Code::kUsage) << bad;
  }
}

}  // namespace
}  // namespace cairn
