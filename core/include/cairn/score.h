// Score: an exact eval score in [0, 1], as integer billionths.
//
// Scores come from people and CI as decimal text ("0.87") and are compared against
// thresholds at their boundary ("--min-eval golden=0.87", "--max-eval-drop golden=0.08").
// Binary floating point would make 0.87 - 0.79 exceed 0.08; integer billionths make every
// such comparison exact. A plain value type.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn {

class Score {
 public:
  static constexpr int64_t kOne = 1000000000;  // 1.0

  Score() = default;
  // Decimal text: digits, optionally '.' and at most 9 more digits ("0.87", "1", "0.5",
  // "1.000"). Refuses signs, exponents, "nan", "inf", and values outside [0, 1], naming
  // `what` (e.g. "--score") in the error.
  static Result<Score> Parse(std::string_view text, std::string_view what);
  static Score FromBillionths(int64_t v) { return Score(v); }

  int64_t billionths() const { return v_; }
  // The shortest decimal that parses back to this score: "0.87", "1", "0".
  std::string ToString() const;

  friend auto operator<=>(const Score&, const Score&) = default;
  friend bool operator==(const Score&, const Score&) = default;

 private:
  explicit Score(int64_t v) : v_(v) {}
  int64_t v_ = 0;
};

// A signed difference of two scores, as decimal text ("0.08", "-0.01").
std::string FormatScoreDelta(int64_t billionths);

}  // namespace cairn
