#include "cairn/clock.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <regex>

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

Result<int64_t> ParseTime(std::string_view text) {
  static const std::regex kPattern(
      R"(^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)"
      R"((Z|z|[+-]\d{2}:\d{2})?$)");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(text.begin(), text.end(), m, kPattern)) {
    return Status::Usage(fmt::format(
        "'{}' is not a time: use RFC 3339 (2026-11-20T14:03:00Z) or 'YYYY-MM-DD HH:MM[:SS]' "
        "(UTC)",
        text));
  }
  int year = std::stoi(m[1].str()), month = std::stoi(m[2].str()), day = std::stoi(m[3].str());
  int hour = m[4].matched ? std::stoi(m[4].str()) : 0;
  int minute = m[5].matched ? std::stoi(m[5].str()) : 0;
  int second = m[6].matched ? std::stoi(m[6].str()) : 0;
  if (month < 1 || month > 12 || day < 1 || day > DaysIn(year, month) || hour > 23 || minute > 59 ||
      second > 60) {
    return Status::Usage(fmt::format("'{}' is not a valid calendar time", text));
  }
  int64_t micros_frac = 0;
  if (m[7].matched) {
    std::string digits = m[7].str();
    digits.resize(6, '0');
    micros_frac = std::stoll(digits.substr(0, 6));
  }
  int64_t offset_secs = 0;
  if (m[8].matched && m[8].str() != "Z" && m[8].str() != "z") {
    std::string off = m[8].str();
    int oh = std::stoi(off.substr(1, 2)), om = std::stoi(off.substr(4, 2));
    if (oh > 23 || om > 59) return Status::Usage(fmt::format("'{}': bad UTC offset", text));
    offset_secs = (oh * 3600 + om * 60) * (off[0] == '-' ? -1 : 1);
  }
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + std::min(second, 59) - offset_secs;
  return secs * 1000000 + micros_frac;
}

}  // namespace cairn
