// Prompts: UTF-8 text templates. {{name}} variables are extracted into the manifest.
#include <fmt/format.h>

#include <regex>
#include <set>

#include "ingest/validators.h"

namespace cairn {
namespace {

bool IsVariableName(std::string_view name) {
  if (name.empty()) return false;
  auto head = static_cast<unsigned char>(name[0]);
  if (!(std::isalpha(head) || head == '_')) return false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || u == '_' || u == '.')) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

class PromptValidator : public KindValidator {
 public:
  Validated Validate(const std::string& path, std::string_view text,
                     std::vector<Problem>* problems) const override {
    Validated out;
    size_t bad = 0;
    if (!IsValidUtf8(text, &bad)) {
      problems->push_back(Problem{path, LineColumn(text, bad), "invalid-utf8",
                                  fmt::format("byte 0x{:02x} at offset {} is not UTF-8",
                                              static_cast<unsigned char>(text[bad]), bad)});
      return out;
    }
    if (auto nul = text.find('\0'); nul != std::string_view::npos) {
      problems->push_back(Problem{path, LineColumn(text, nul), "nul-byte",
                                  "a text template may not contain a NUL character"});
      return out;
    }
    std::set<std::string> variables;
    size_t pos = 0;
    while ((pos = text.find("{{", pos)) != std::string_view::npos) {
      bool triple = text.substr(pos).starts_with("{{{");
      std::string_view close_token = triple ? "}}}" : "}}";
      size_t open_len = triple ? 3 : 2;
      size_t end = text.find(close_token, pos + open_len);
      if (end == std::string_view::npos) {
        problems->push_back(
            Problem{path, LineColumn(text, pos), "template", "\"{{\" is never closed by \"}}\""});
        return out;
      }
      std::string_view inner = Trim(text.substr(pos + open_len, end - pos - open_len));
      pos = end + close_token.size();
      char sigil = inner.empty() ? '\0' : inner[0];
      if (sigil == '!' || sigil == '>') continue;  // comment, partial
      if (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '&') {
        inner = Trim(inner.substr(1));
      }
      if (!IsVariableName(inner)) {
        problems->push_back(
            Problem{path, LineColumn(text, pos - close_token.size()), "template",
                    fmt::format("\"{}\" is not a variable name ([A-Za-z_][A-Za-z0-9_.]*)", inner)});
        continue;
      }
      variables.emplace(inner);
    }
    out.facts["variables"] = Json(std::vector<std::string>(variables.begin(), variables.end()));
    return out;
  }
};
}  // namespace

const KindValidator& PromptValidatorInstance() {
  static const PromptValidator v;
  return v;
}

}  // namespace cairn
