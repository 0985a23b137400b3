#include "cairn/clock.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

namespace cairn {
namespace {
class RealClock : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysIn(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}
}  // namespace

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

std::string FormatTime(int64_t micros) {
  int64_t secs = micros / 1000000;
  int64_t frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

namespace {
// A cursor over the fixed grammar of ParseTime. (std::regex cost about a millisecond to
// compile in every process that read an event.)
struct TimeScanner {
  std::string_view s;
  size_t i = 0;
  bool AtEnd() const { return i == s.size(); }
  bool Peek(char c) const { return i < s.size() && s[i] == c; }
  bool Take(char c) {
    if (!Peek(c)) return false;
    ++i;
    return true;
  }
  // Exactly n ASCII digits.
  bool Digits(size_t n, int* out) {
    if (s.size() - i < n) return false;
    int v = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    i += n;
    *out = v;
    return true;
  }
};
}  // namespace

// Grammar: YYYY-MM-DD, then optionally [T t space]HH:MM[:SS[.F{1,9}]], then optionally Z, z
// or ±HH:MM; nothing else.
Result<int64_t> ParseTime(std::string_view text) {
  auto not_a_time = [&] {
    return Status::Usage(fmt::format(
        "'{}' is not a time: use RFC 3339 (2026-11-20T14:03:00Z) or 'YYYY-MM-DD HH:MM[:SS]' "
        "(UTC)",
        text));
  };
  TimeScanner t{text};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t micros_frac = 0;
  if (!t.Digits(4, &year) || !t.Take('-') || !t.Digits(2, &month) || !t.Take('-') ||
      !t.Digits(2, &day)) {
    return not_a_time();
  }
  if (t.Take('T') || t.Take('t') || t.Take(' ')) {
    if (!t.Digits(2, &hour) || !t.Take(':') || !t.Digits(2, &minute)) return not_a_time();
    if (t.Take(':')) {
      if (!t.Digits(2, &second)) return not_a_time();
      if (t.Take('.')) {
        size_t digits = 0;
        int d = 0;
        while (digits < 9 && t.Digits(1, &d)) {
          if (digits < 6) micros_frac = micros_frac * 10 + d;
          ++digits;
        }
        if (digits == 0) return not_a_time();
        for (size_t k = digits; k < 6; ++k) micros_frac *= 10;
      }
    }
  }
  int64_t offset_secs = 0;
  bool bad_offset = false;
  if (t.Take('Z') || t.Take('z')) {
  } else if (t.Peek('+') || t.Peek('-')) {
    int sign = t.Take('-') ? -1 : (t.Take('+'), 1);
    int oh = 0, om = 0;
    if (!t.Digits(2, &oh) || !t.Take(':') || !t.Digits(2, &om)) return not_a_time();
    bad_offset = oh > 23 || om > 59;
    offset_secs = sign * (oh * 3600 + om * 60);
  }
  if (!t.AtEnd()) return not_a_time();
  if (month < 1 || month > 12 || day < 1 || day > DaysIn(year, month) || hour > 23 || minute > 59 ||
      second > 60) {
    return Status::Usage(fmt::format("'{}' is not a valid calendar time", text));
  }
  if (bad_offset) return Status::Usage(fmt::format("'{}': bad UTC offset", text));
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + std::min(second, 59) - offset_secs;
  return secs * 1000000 + micros_frac;
}

}  // namespace cairn
