// Prompts: UTF-8 text templates in one of three dialects (mustache, Jinja2, Python/LangChain
// format strings). The variables a caller must supply are extracted into the manifest; an
// unclosed or malformed tag is refused with its line and column (rule template).
#include <fmt/format.h>

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

bool IsIdentifierStart(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalpha(u) || u == '_';
}
bool IsIdentifierChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || u == '_';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// What a dialect's scanner reports: variables, or problems at byte offsets of the text.
class TemplateScan {
 public:
  TemplateScan(const std::string& path, std::string_view text, std::vector<Problem>* problems)
      : path_(path), text_(text), problems_(problems) {}

  void Fail(size_t offset, std::string message) {
    if (++failures_ > kMaxProblemsPerFile + 1) return;
    if (failures_ == kMaxProblemsPerFile + 1) {
      message = fmt::format(
          "more problems from here on are not listed (only the first {} of a "
          "file are)",
          kMaxProblemsPerFile);
    }
    problems_->push_back(Problem{path_, LineColumn(text_, std::min(offset, text_.size())),
                                 "template", std::move(message)});
  }
  void Variable(std::string_view name) { variables_.emplace(name); }
  const std::set<std::string>& variables() const { return variables_; }
  size_t failures() const { return failures_; }
  std::string_view text() const { return text_; }

 private:
  const std::string& path_;
  std::string_view text_;
  std::vector<Problem>* problems_;
  std::set<std::string> variables_;
  size_t failures_ = 0;
};

// {{name}}, {{ name }}, and the section forms {{#name}}, {{^name}}, {{/name}}, {{&name}},
// {{{name}}}; {{! comment }} and {{> partial}} are not variables.
void ScanMustache(TemplateScan& scan) {
  std::string_view text = scan.text();
  size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    bool triple = text.substr(pos).starts_with("{{{");
    std::string_view close_token = triple ? "}}}" : "}}";
    size_t open_len = triple ? 3 : 2;
    size_t end = text.find(close_token, pos + open_len);
    if (end == std::string_view::npos) {
      scan.Fail(pos, "\"{{\" is never closed by \"}}\"");
      return;
    }
    std::string_view inner = Trim(text.substr(pos + open_len, end - pos - open_len));
    pos = end + close_token.size();
    char sigil = inner.empty() ? '\0' : inner[0];
    if (sigil == '!' || sigil == '>') continue;  // comment, partial
    if (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '&') inner = Trim(inner.substr(1));
    if (!IsVariableName(inner)) {
      scan.Fail(pos - close_token.size(),
                fmt::format("\"{}\" is not a variable name ([A-Za-z_][A-Za-z0-9_.]*)", inner));
      continue;
    }
    scan.Variable(inner);
  }
}

// Python str.format / LangChain f-string templates: {name}, {name.attr}, {name[0]},
// {name!r}, {name:>10}; "{{" and "}}" are literal braces.
void ScanPythonFormat(TemplateScan& scan) {
  std::string_view text = scan.text();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        ++i;
        continue;
      }
      scan.Fail(i, "a single \"}\" is not allowed: write \"}}\" for a literal brace");
      continue;
    }
    if (text[i] != '{') continue;
    if (i + 1 < text.size() && text[i + 1] == '{') {
      ++i;
      continue;
    }
    // The field ends at the matching "}" (a format spec may hold one nested {field}).
    size_t depth = 1, j = i + 1;
    for (; j < text.size() && depth > 0; ++j) {
      if (text[j] == '{') ++depth;
      if (text[j] == '}') --depth;
    }
    if (depth > 0) {
      scan.Fail(i, "\"{\" is never closed by \"}\"");
      return;
    }
    std::string_view field = text.substr(i + 1, j - i - 2);
    size_t name_end = field.find_first_of(".[!:");
    std::string_view name = field.substr(0, name_end);
    if (name.empty() || !IsIdentifierStart(name[0]) ||
        !std::all_of(name.begin(), name.end(), IsIdentifierChar)) {
      scan.Fail(i, fmt::format("\"{{{}}}\" does not name a variable ([A-Za-z_][A-Za-z0-9_]*; "
                               "positional and empty fields are not allowed)",
                               field));
    } else {
      scan.Variable(name);
    }
    i = j - 1;
  }
}

// Jinja2: {{ expression }}, {% statement %}, {# comment #}, with "-"/"+" whitespace
// control. The variables are the names the template reads and does not define itself
// (loop targets, set, with, macro arguments, imports).
class JinjaScanner {
 public:
  explicit JinjaScanner(TemplateScan& scan) : scan_(scan), text_(scan.text()) {}

  void Run() {
    size_t pos = 0;
    while (true) {
      size_t open = FindTagOpen(pos);
      if (open == std::string_view::npos) break;
      char kind = text_[open + 1];
      std::string_view close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
      size_t end = text_.find(close, open + 2);
      if (end == std::string_view::npos) {
        scan_.Fail(open, fmt::format("\"{{{}\" is never closed by \"{}\"", kind, close));
        return;
      }
      std::string_view inner = StripControl(text_.substr(open + 2, end - open - 2));
      pos = end + 2;
      if (kind == '{') {
        if (Trim(inner).empty()) scan_.Fail(open, "an empty \"{{ }}\"");
        Expression(inner, open);
      } else if (kind == '%') {
        if (!Statement(inner, open, &pos)) return;
      }
    }
    for (const Block& b : blocks_) {
      scan_.Fail(b.offset,
                 fmt::format("\"{{% {} %}}\" is never closed by \"{{% end{} %}}\"", b.tag, b.tag));
    }
  }

 private:
  struct Block {
    std::string tag;
    size_t offset;
    std::vector<std::string> locals;  // names it defines, forgotten at its end
  };

  size_t FindTagOpen(size_t from) const {
    for (size_t i = text_.find('{', from); i != std::string_view::npos;
         i = text_.find('{', i + 1)) {
      if (i + 1 < text_.size() &&
          (text_[i + 1] == '{' || text_[i + 1] == '%' || text_[i + 1] == '#')) {
        return i;
      }
    }
    return std::string_view::npos;
  }

  static std::string_view StripControl(std::string_view s) {
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
    if (!s.empty() && (s.back() == '-' || s.back() == '+')) s.remove_suffix(1);
    return s;
  }

  bool IsLocal(std::string_view name) const {
    if (defined_.contains(std::string(name))) return true;
    for (const Block& b : blocks_) {
      for (const auto& l : b.locals) {
        if (l == name) return true;
      }
    }
    return false;
  }

  // Reads the names an expression uses; `offset` locates problems.
  void Expression(std::string_view e, size_t offset) {
    static const std::set<std::string, std::less<>> kWords = {
        "and",    "or",    "not",   "in",     "is",     "if",     "else",     "true",   "false",
        "none",   "True",  "False", "None",   "loop",   "self",   "super",    "caller", "varargs",
        "kwargs", "range", "dict",  "lipsum", "cycler", "joiner", "namespace"};
    char previous = ' ';         // the last punctuation seen ('.', '|', ...)
    std::string_view last_word;  // the last identifier, for "is <test>"
    for (size_t i = 0; i < e.size();) {
      char c = e[i];
      if (c == '\'' || c == '"') {
        size_t close = e.find(c, i + 1);
        while (close != std::string_view::npos && e[close - 1] == '\\') {
          close = e.find(c, close + 1);
        }
        if (close == std::string_view::npos) {
          scan_.Fail(offset, "a string literal is never closed");
          return;
        }
        i = close + 1;
        previous = 's';
        continue;
      }
      if (IsIdentifierStart(c)) {
        size_t j = i;
        while (j < e.size() && IsIdentifierChar(e[j])) ++j;
        std::string_view word = e.substr(i, j - i);
        size_t k = j;
        while (k < e.size() && e[k] == ' ') ++k;
        bool keyword_argument =
            k < e.size() && e[k] == '=' && (k + 1 >= e.size() || e[k + 1] != '=');
        bool named = previous == '.' || previous == '|' || last_word == "is" || keyword_argument;
        if (!named && !kWords.contains(word) && !IsLocal(word)) scan_.Variable(word);
        last_word = word;
        previous = 'w';
        i = j;
        continue;
      }
      if (!std::isspace(static_cast<unsigned char>(c))) {
        previous = c;
        last_word = {};
      }
      ++i;
    }
  }

  // Names in "a, (b, c)" (for targets, imports): each becomes local.
  static std::vector<std::string> Names(std::string_view list) {
    std::vector<std::string> out;
    for (size_t i = 0; i < list.size();) {
      if (IsIdentifierStart(list[i])) {
        size_t j = i;
        while (j < list.size() && IsIdentifierChar(list[j])) ++j;
        out.emplace_back(list.substr(i, j - i));
        i = j;
      } else {
        ++i;
      }
    }
    return out;
  }

  // One {% ... %}; false stops the scan (an unclosed raw block).
  bool Statement(std::string_view inner, size_t offset, size_t* pos) {
    std::string_view body = Trim(inner);
    size_t word_end = 0;
    while (word_end < body.size() && IsIdentifierChar(body[word_end])) ++word_end;
    std::string tag(body.substr(0, word_end));
    std::string_view rest = Trim(body.substr(word_end));
    if (tag.empty()) {
      scan_.Fail(offset, "a \"{% %}\" without a tag name");
      return true;
    }
    if (tag == "raw") return SkipRaw(offset, pos);
    if (tag.starts_with("end")) return End(tag.substr(3), offset);
    if (tag == "for") return For(rest, offset);
    if (tag == "if" || tag == "elif") {
      if (tag == "if")
        blocks_.push_back({"if", offset, {}});
      else if (!InBlock("if"))
        scan_.Fail(offset, "\"{% elif %}\" outside \"{% if %}\"");
      Expression(rest, offset);
      return true;
    }
    if (tag == "else") {
      if (!InBlock("if") && !InBlock("for")) {
        scan_.Fail(offset, "\"{% else %}\" outside \"{% if %}\" or \"{% for %}\"");
      }
      return true;
    }
    if (tag == "set") return Set(rest, offset);
    if (tag == "with") {
      Block b{"with", offset, {}};
      for (auto part : SplitTopLevelCommas(rest)) {
        size_t eq = part.find('=');
        if (eq == std::string_view::npos) continue;
        Expression(part.substr(eq + 1), offset);
        b.locals.emplace_back(Trim(part.substr(0, eq)));
      }
      blocks_.push_back(std::move(b));
      return true;
    }
    if (tag == "macro" || tag == "call") {
      Block b{tag, offset, {}};
      size_t paren = rest.find('(');
      if (tag == "macro") {
        defined_.insert(std::string(Trim(rest.substr(0, paren))));
        if (paren != std::string_view::npos) {
          for (auto part :
               SplitTopLevelCommas(rest.substr(paren + 1, rest.rfind(')') - paren - 1))) {
            size_t eq = part.find('=');
            b.locals.emplace_back(Trim(part.substr(0, eq)));
            if (eq != std::string_view::npos) Expression(part.substr(eq + 1), offset);
          }
        }
      } else {
        Expression(rest, offset);
      }
      blocks_.push_back(std::move(b));
      return true;
    }
    if (tag == "filter" || tag == "block" || tag == "autoescape") {
      if (tag == "autoescape") Expression(rest, offset);
      blocks_.push_back({tag, offset, {}});
      return true;
    }
    if (tag == "include" || tag == "extends") {
      Expression(rest, offset);
      return true;
    }
    if (tag == "import" || tag == "from") {
      size_t as = rest.rfind(" as ");
      size_t import = rest.find(" import ");
      std::string_view names =
          tag == "import" ? (as == std::string_view::npos ? "" : rest.substr(as + 4))
                          : (import == std::string_view::npos ? "" : rest.substr(import + 8));
      for (auto& n : Names(names)) {
        if (n != "as") defined_.insert(n);
      }
      return true;
    }
    if (tag == "do") {
      Expression(rest, offset);
      return true;
    }
    scan_.Fail(offset, fmt::format("\"{{% {} %}}\" is not a Jinja2 tag", tag));
    return true;
  }

  static std::vector<std::string_view> SplitTopLevelCommas(std::string_view s) {
    std::vector<std::string_view> out;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '(' || s[i] == '[' || s[i] == '{') ++depth;
      if (s[i] == ')' || s[i] == ']' || s[i] == '}') --depth;
      if (s[i] == ',' && depth == 0) {
        out.push_back(s.substr(start, i - start));
        start = i + 1;
      }
    }
    if (start < s.size()) out.push_back(s.substr(start));
    return out;
  }

  bool InBlock(std::string_view tag) const { return !blocks_.empty() && blocks_.back().tag == tag; }

  bool For(std::string_view rest, size_t offset) {
    size_t in = rest.find(" in ");
    if (in == std::string_view::npos) {
      scan_.Fail(offset, "\"{% for %}\" needs \"for NAME in EXPRESSION\"");
      blocks_.push_back({"for", offset, {}});
      return true;
    }
    // The targets are local to the loop, its "if" filter included.
    blocks_.push_back({"for", offset, Names(rest.substr(0, in))});
    Expression(rest.substr(in + 4), offset);
    return true;
  }

  bool Set(std::string_view rest, size_t offset) {
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) {  // block set: {% set x %}...{% endset %}
      blocks_.push_back({"set", offset, {}});
      for (auto& n : Names(rest)) defined_.insert(n);
      return true;
    }
    Expression(rest.substr(eq + 1), offset);
    for (auto& n : Names(rest.substr(0, eq))) defined_.insert(n);
    return true;
  }

  bool End(const std::string& tag, size_t offset) {
    if (blocks_.empty() || blocks_.back().tag != tag) {
      scan_.Fail(offset, blocks_.empty()
                             ? fmt::format("\"{{% end{} %}}\" closes nothing", tag)
                             : fmt::format("\"{{% end{} %}}\" where \"{{% end{} %}}\" was expected",
                                           tag, blocks_.back().tag));
      return true;
    }
    blocks_.pop_back();
    return true;
  }

  bool SkipRaw(size_t offset, size_t* pos) {
    for (size_t at = text_.find("{%", *pos); at != std::string_view::npos;
         at = text_.find("{%", at + 2)) {
      size_t end = text_.find("%}", at + 2);
      if (end == std::string_view::npos) break;
      if (Trim(StripControl(text_.substr(at + 2, end - at - 2))) == "endraw") {
        *pos = end + 2;
        return true;
      }
    }
    scan_.Fail(offset, "\"{% raw %}\" is never closed by \"{% endraw %}\"");
    return false;
  }

  TemplateScan& scan_;
  std::string_view text_;
  std::vector<Block> blocks_;
  std::set<std::string> defined_;  // set, macro, import: defined by the template itself
};

class PromptValidator : public KindValidator {
 public:
  explicit PromptValidator(TemplateDialect dialect) : dialect_(dialect) {}

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
    TemplateScan scan(path, text, problems);
    switch (dialect_) {
      case TemplateDialect::kMustache:
        ScanMustache(scan);
        break;
      case TemplateDialect::kJinja2:
        JinjaScanner(scan).Run();
        break;
      case TemplateDialect::kPython:
        ScanPythonFormat(scan);
        break;
    }
    const auto& vars = scan.variables();
    out.facts["variables"] = Json(std::vector<std::string>(vars.begin(), vars.end()));
    // mustache is the default and not recorded (facts of older releases stay the same).
    if (dialect_ != TemplateDialect::kMustache)
      out.facts["template"] = TemplateDialectName(dialect_);
    return out;
  }

 private:
  TemplateDialect dialect_;
};
}  // namespace

const char* TemplateDialectName(TemplateDialect dialect) {
  switch (dialect) {
    case TemplateDialect::kMustache:
      return "mustache";
    case TemplateDialect::kJinja2:
      return "jinja2";
    case TemplateDialect::kPython:
      return "python";
  }
  return "?";
}

std::optional<TemplateDialect> ParseTemplateDialect(std::string_view name) {
  for (auto d : {TemplateDialect::kMustache, TemplateDialect::kJinja2, TemplateDialect::kPython}) {
    if (name == TemplateDialectName(d)) return d;
  }
  return std::nullopt;
}

TemplateDialect TemplateDialectFor(std::string_view path, TemplateDialect release_default) {
  for (std::string_view ext : {".j2", ".jinja", ".jinja2"}) {
    if (path.ends_with(ext)) return TemplateDialect::kJinja2;
  }
  if (path.ends_with(".mustache")) return TemplateDialect::kMustache;
  return release_default;
}

const KindValidator& PromptValidatorInstance(TemplateDialect dialect) {
  static const PromptValidator mustache(TemplateDialect::kMustache);
  static const PromptValidator jinja2(TemplateDialect::kJinja2);
  static const PromptValidator python(TemplateDialect::kPython);
  switch (dialect) {
    case TemplateDialect::kMustache:
      return mustache;
    case TemplateDialect::kJinja2:
      return jinja2;
    case TemplateDialect::kPython:
      return python;
  }
  return mustache;
}

}  // namespace cairn
