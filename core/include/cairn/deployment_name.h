// DeploymentName: a valid deployment name ("prod", "support-bot/beta"), checked once, where
// it enters: DeploymentName::Parse for text from a user or a file (kUsage naming the rule),
// or a string literal in the source, checked when it is compiled. Every core function that
// takes a DeploymentName relies on it and checks nothing again. A plain value (the name is
// held inline, at most 128 bytes); safe from any thread.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn {

namespace deployment_name_internal {
enum class Flaw { kNone, kLength, kShape, kHexPrefix, kDotDot };

// The deployment-name rule: one to four '/'-separated parts of [a-z0-9][a-z0-9._-]*, at
// most 128 bytes in all; not 8 to 64 hex digits (it would read as a snapshot id prefix);
// no "..".
constexpr Flaw FindFlaw(std::string_view name) {
  if (name.empty() || name.size() > 128) return Flaw::kLength;
  int parts = 1;
  bool part_start = true, all_hex = true, dot_dot = false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    all_hex = all_hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (c == '/') {
      if (part_start || ++parts > 4) return Flaw::kShape;
      part_start = true;
      continue;
    }
    if (part_start ? !alnum : !(alnum || c == '.' || c == '_' || c == '-')) return Flaw::kShape;
    part_start = false;
    dot_dot = dot_dot || (c == '.' && name[i - 1] == '.');
  }
  if (part_start) return Flaw::kShape;  // ends with '/'
  if (all_hex && name.size() >= 8 && name.size() <= 64) return Flaw::kHexPrefix;
  return dot_dot ? Flaw::kDotDot : Flaw::kNone;
}
}  // namespace deployment_name_internal

class DeploymentName {
 public:
  static constexpr size_t kMaxSize = 128;

  // The name in `text`; kUsage saying which rule it breaks.
  static Result<DeploymentName> Parse(std::string_view text);

  // A name written in the source ("prod"): a bad one does not compile.
  template <size_t N>
  consteval DeploymentName(const char (&literal)[N]) : size_(N - 1) {  // NOLINT: implicit
    if (deployment_name_internal::FindFlaw(std::string_view(literal, N - 1)) !=
        deployment_name_internal::Flaw::kNone) {
      throw "not a deployment name";  // stops compilation
    }
    for (size_t i = 0; i + 1 < N; ++i) bytes_[i] = literal[i];
  }

  std::string_view view() const { return {bytes_.data(), size_}; }
  // A valid name is also plain text (key builders, comparisons); never the other way round.
  operator std::string_view() const { return view(); }  // NOLINT: implicit on purpose
  std::string str() const { return std::string(view()); }

  friend bool operator==(const DeploymentName& a, const DeploymentName& b) {
    return a.view() == b.view();
  }
  friend std::strong_ordering operator<=>(const DeploymentName& a, const DeploymentName& b) {
    return a.view() <=> b.view();
  }

 private:
  DeploymentName() = default;
  std::array<char, kMaxSize> bytes_{};
  size_t size_ = 0;
};

// OK when `name` is a deployment name; else what Parse says.
Status ValidateDeploymentName(std::string_view name);

}  // namespace cairn
