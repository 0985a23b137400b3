// PolicyCheck: the outcome of one policy rule for one subject, as evaluated before a move
// and stored, covered by the hash, in the move's event (docs/format.md, "Events"). Plain
// values; no store access.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/canonical_json.h"
#include "cairn/status.h"

namespace cairn {

// Rule ids, as used in checks, `promote --override RULE` and the docs.
inline constexpr std::string_view kRuleRequireSignatures = "require-signatures";
inline constexpr std::string_view kRuleMinEval = "min-eval";
inline constexpr std::string_view kRuleMaxEvalDrop = "max-eval-drop";
inline constexpr std::string_view kRuleNonInferior = "non-inferior";
inline constexpr std::string_view kRuleSoak = "soak";
inline constexpr std::string_view kRuleRequirePinnedModels = "require-pinned-models";
inline constexpr std::string_view kRuleRequireAgentLimits = "require-agent-limits";
inline constexpr std::string_view kRuleRequireSignedMoves = "require-signed-moves";

// OK for one of the rule ids above (but require-signed-moves, never overridable); kUsage naming
// them all otherwise.
Status ValidateRuleName(std::string_view rule);

// The outcome of one rule for one subject.
struct PolicyCheck {
  std::string rule;     // a rule id
  std::string subject;  // "golden-v3", "role release", "beta", a component path
  bool passed = false;
  bool overridden = false;  // set by the caller (promote) — EvaluatePolicy never sets it
  std::string detail;       // the numbers: "0.79 < 0.87", "live on beta 25h (needs 24h)"
  // Numbers `audit verify` recomputes (non-inferior, min-eval with alpha): verdict, n, g,
  // mean, sd, lb, ub, margin, alpha, t, min_n, and the attestation ids they came from —
  // all strings. Empty for every other check (and then not written).
  std::map<std::string, std::string> stats;
  // {"rule","subject","passed","overridden","detail"} and "stats" when not empty:
  // canonical-JSON friendly.
  Json ToJson() const;
  // Exactly those members with those types; kCorruption naming the field otherwise.
  static Result<PolicyCheck> FromJson(const Json& json);
  bool operator==(const PolicyCheck&) const = default;
};

// A list of checks as a JSON array (what events, hooks and --json show).
Json ChecksJson(const std::vector<PolicyCheck>& checks);

}  // namespace cairn
