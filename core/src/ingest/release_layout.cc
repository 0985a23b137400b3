#include "ingest/release_layout.h"

#include <fmt/format.h>

#include "cairn/validate.h"
#include "util/fs_util.h"

namespace cairn {

std::optional<std::string> BadEntryName(std::string_view name) {
  if (name.size() > 255) return "is longer than 255 bytes";
  if (!IsValidUtf8(name)) return "is not UTF-8";
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "contains a control character";
    if (c == '\\') return "contains a backslash";
  }
  return std::nullopt;
}

std::optional<Placement> PlaceFile(const std::vector<std::string>& parts) {
  if (parts.empty()) return std::nullopt;
  const std::string& top = parts[0];
  size_t depth = parts.size();
  if (depth == 1) {
    if (top == "snapshot.json") return Placement{ComponentKind::kConfig, true, ""};
    return std::nullopt;
  }
  bool json = parts.back().ends_with(".json");
  if (top == "prompts") return Placement{ComponentKind::kPrompt, false, ""};
  if (top == "config") return Placement{ComponentKind::kConfig, false, ""};
  if ((top == "models" || top == "tools") && depth == 2 && json) {
    return Placement{top == "models" ? ComponentKind::kModel : ComponentKind::kTool, false, ""};
  }
  if (top == "knowledge") {
    if (depth == 2 && json) return Placement{ComponentKind::kKnowledge, false, ""};
    if (depth >= 3) return Placement{ComponentKind::kKnowledge, false, parts[1]};
  }
  return std::nullopt;
}

bool DirectoryAllowed(const std::vector<std::string>& parts) {
  if (parts.empty()) return true;
  const std::string& top = parts[0];
  if (parts.size() == 1) {
    return top == "prompts" || top == "models" || top == "tools" || top == "knowledge" ||
           top == "config";
  }
  return top == "prompts" || top == "config" || top == "knowledge";
}

std::string UnknownEntryMessage(const std::vector<std::string>& parts, bool is_dir) {
  const std::string& top = parts[0];
  if (parts.size() == 1) {
    return fmt::format(
        "unexpected {} at the top level: a release holds snapshot.json, "
        "prompts/, models/, tools/, knowledge/ and config/",
        is_dir ? "directory" : "file");
  }
  if (top == "models" || top == "tools") {
    return fmt::format("{}/ holds only *.json files, directly (no subdirectories)", top);
  }
  if (top == "knowledge") {
    return "knowledge/ holds manifests (*.json) and one directory of documents per manifest";
  }
  return "not allowed here";
}

std::string JoinPath(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

}  // namespace cairn
