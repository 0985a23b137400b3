#include "cairn/score.h"

#include <fmt/format.h>

#include <cstdlib>

namespace cairn {

Result<Score> Score::Parse(std::string_view text, std::string_view what) {
  auto bad = [&](std::string_view rule) {
    return Status::Usage(fmt::format("{}: \"{}\" is not a score: {}", what, text, rule));
  };
  if (text.empty()) return bad("it is empty");
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  auto all_digits = [](std::string_view s) {
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  if (whole.empty() || !all_digits(whole) || !all_digits(frac) ||
      (dot != std::string_view::npos && frac.empty())) {
    return bad(
        "write a decimal number between 0 and 1, like 0.87 (no sign, exponent, NaN or "
        "infinity)");
  }
  if (frac.size() > 9) return bad("at most 9 digits after the decimal point");
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
  if (whole.size() > 1) return bad("scores lie between 0 and 1");
  int64_t v = static_cast<int64_t>(whole[0] - '0') * kOne;
  int64_t scale = kOne / 10;
  for (char c : frac) {
    v += static_cast<int64_t>(c - '0') * scale;
    scale /= 10;
  }
  if (v > kOne) return bad("scores lie between 0 and 1");
  return Score(v);
}

namespace {
std::string FormatBillionths(int64_t v) {
  std::string s = fmt::format("{}.{:09d}", v / Score::kOne, v % Score::kOne);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}
}  // namespace

std::string Score::ToString() const { return FormatBillionths(v_); }

std::string FormatScoreDelta(int64_t billionths) {
  if (billionths < 0) return "-" + FormatBillionths(-billionths);
  return FormatBillionths(billionths);
}

}  // namespace cairn
