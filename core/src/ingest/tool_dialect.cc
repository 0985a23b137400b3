#include "ingest/tool_dialect.h"

#include <set>
#include <vector>

namespace cairn {
namespace {

// Top-level fields that belong to exactly one dialect.
struct DialectMarker {
  const char* field;
  ToolDialect dialect;
};
constexpr DialectMarker kDialectMarkers[] = {
    {"response", ToolDialect::kCairn},
    {"function", ToolDialect::kOpenAiChat},
    {"input_schema", ToolDialect::kAnthropic},
    {"cache_control", ToolDialect::kAnthropic},
    {"inputSchema", ToolDialect::kMcp},
    {"outputSchema", ToolDialect::kMcp},
    {"annotations", ToolDialect::kMcp},
    {"title", ToolDialect::kMcp},
    {"_meta", ToolDialect::kMcp},
};

std::string StringField(const Json& obj, const char* field) {
  auto it = obj.find(field);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

const char* ToolDialectName(ToolDialect dialect) {
  switch (dialect) {
    case ToolDialect::kCairn:
      return "cairn";
    case ToolDialect::kOpenAiChat:
      return "openai-chat";
    case ToolDialect::kOpenAiResponses:
      return "openai-responses";
    case ToolDialect::kAnthropic:
      return "anthropic";
    case ToolDialect::kMcp:
      return "mcp";
  }
  return "?";
}

std::optional<ToolDialect> DetectToolDialect(const Json& tool, std::string* conflict) {
  std::vector<std::pair<std::string, ToolDialect>> found;  // (field, dialect)
  for (const DialectMarker& m : kDialectMarkers) {
    if (tool.contains(m.field)) found.emplace_back(m.field, m.dialect);
  }
  // "type": "function" without "function" is the flat Responses form; "custom" is Anthropic's.
  if (auto type = tool.find("type"); type != tool.end() && !tool.contains("function")) {
    if (*type == "function") found.emplace_back("type", ToolDialect::kOpenAiResponses);
    if (*type == "custom") found.emplace_back("type", ToolDialect::kAnthropic);
  }
  std::set<ToolDialect> dialects;
  for (const auto& f : found) dialects.insert(f.second);
  if (dialects.size() > 1) {
    conflict->clear();
    for (const auto& [field, dialect] : found) {
      *conflict += (conflict->empty() ? "" : ", ") +
                   ("\"" + field + "\" (" + ToolDialectName(dialect) + ")");
    }
    return std::nullopt;
  }
  return dialects.empty() ? ToolDialect::kCairn : *dialects.begin();
}

ToolParts ToolPartsOf(const Json& tool) {
  ToolParts parts;
  if (!tool.is_object()) return parts;
  std::string conflict;
  parts.dialect = DetectToolDialect(tool, &conflict).value_or(ToolDialect::kCairn);
  const Json* body = &tool;
  std::string prefix;
  const char* field = "parameters";
  switch (parts.dialect) {
    case ToolDialect::kOpenAiChat:
      if (!tool["function"].is_object()) return parts;
      body = &tool["function"];
      prefix = "/function";
      break;
    case ToolDialect::kAnthropic:
      field = "input_schema";
      break;
    case ToolDialect::kMcp:
      field = "inputSchema";
      break;
    case ToolDialect::kCairn:
    case ToolDialect::kOpenAiResponses:
      break;
  }
  parts.name = StringField(*body, "name");
  parts.description = StringField(*body, "description");
  parts.input_field = field;
  parts.input_pointer = prefix + "/" + field;
  if (auto it = body->find(field); it != body->end() && it->is_object()) parts.input_schema = &*it;
  return parts;
}

}  // namespace cairn
