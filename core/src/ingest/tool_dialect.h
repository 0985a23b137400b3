// The ways a tool definition is written: cairn's own form and the forms of the SDKs and
// servers tools come from (docs/release-format.md shows each). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "cairn/canonical_json.h"

namespace cairn {

enum class ToolDialect {
  kCairn,            // {"name", "description", "parameters", "strict", "response"}
  kOpenAiChat,       // {"type": "function", "function": {"name", "parameters", ...}}
  kOpenAiResponses,  // {"type": "function", "name", "parameters", "strict"}
  kAnthropic,        // {"name", "input_schema", "cache_control"}
  kMcp,              // {"name", "title", "inputSchema", "outputSchema", "annotations"}
};

// "cairn", "openai-chat", "openai-responses", "anthropic", "mcp": the `dialect` fact.
const char* ToolDialectName(ToolDialect dialect);

// The dialect `tool` (a JSON object) is written in, from the fields that only one dialect
// has. nullopt, with `*conflict` saying which fields disagree, when it mixes two.
std::optional<ToolDialect> DetectToolDialect(const Json& tool, std::string* conflict);

// Where a tool's parts are in its dialect: a definition that does not parse as a tool
// gives empty parts (diff reads stored snapshots, which were validated on the way in).
struct ToolParts {
  ToolDialect dialect = ToolDialect::kCairn;
  std::string name;
  std::string description;
  const Json* input_schema = nullptr;  // nullptr: no arguments
  std::string input_field;             // "parameters", "input_schema" or "inputSchema"
  std::string input_pointer;           // "/parameters", "/function/parameters", ...
};
ToolParts ToolPartsOf(const Json& tool);

}  // namespace cairn
