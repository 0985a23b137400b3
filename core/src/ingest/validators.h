// One validator per component kind (validate_<kind>.cc), behind one interface. A
// validator sees one file's bytes, appends Problems, and returns the kind-specific facts
// that go into the manifest. Validators are stateless and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/snapshot.h"
#include "cairn/validate.h"

namespace cairn {

struct Validated {
  Json facts = Json::object();
  std::optional<Json> tree;  // the parsed JSON, for kinds that are JSON
};

class KindValidator {
 public:
  virtual ~KindValidator() = default;
  virtual Validated Validate(const std::string& path, std::string_view bytes,
                             std::vector<Problem>* problems) const = 0;
};

// How prompt templates mark their variables. A release chooses one in snapshot.json
// ("templates"); a prompt's extension overrides it (TemplateDialectFor).
enum class TemplateDialect { kMustache, kJinja2, kPython };
// "mustache", "jinja2", "python".
const char* TemplateDialectName(TemplateDialect dialect);
std::optional<TemplateDialect> ParseTemplateDialect(std::string_view name);
// ".j2", ".jinja", ".jinja2": Jinja2; ".mustache": mustache; anything else: `release_default`.
TemplateDialect TemplateDialectFor(std::string_view path, TemplateDialect release_default);

// The validator for files of `kind` at `path` (config files are JSON-checked only when
// they end in ".json"; knowledge documents are opaque and have none: nullptr). Prompts are
// checked in TemplateDialectFor(path, templates).
const KindValidator* ValidatorFor(ComponentKind kind, std::string_view path,
                                  bool is_knowledge_document,
                                  TemplateDialect templates = TemplateDialect::kMustache);
// snapshot.json at the release root.
const KindValidator& SnapshotJsonValidator();

// Checks on a parsed JSON object shared by the validators: each failure is one Problem
// with the file, pointer and rule.
class JsonChecker {
 public:
  JsonChecker(const std::string& path, const char* rule, std::vector<Problem>* problems)
      : path_(path), rule_(rule), problems_(problems) {}

  void Fail(const std::string& pointer, std::string message, const char* rule = nullptr);
  bool IsObject(const Json& v, const std::string& pointer);
  // Every key of `obj` must be in `allowed`.
  void OnlyFields(const Json& obj, const std::string& pointer,
                  std::initializer_list<std::string_view> allowed);
  // A required non-empty string field; returns it or nullopt.
  std::optional<std::string> RequireString(const Json& obj, const std::string& pointer,
                                           const char* field);
  // Optional fields of a given type; false (and a problem) if present but mistyped.
  bool OptionalString(const Json& obj, const std::string& pointer, const char* field);
  bool OptionalObject(const Json& obj, const std::string& pointer, const char* field);
  bool OptionalBool(const Json& obj, const std::string& pointer, const char* field);
  bool OptionalUnsigned(const Json& obj, const std::string& pointer, const char* field);
  size_t failures() const { return failures_; }

 private:
  const std::string& path_;
  const char* rule_;
  std::vector<Problem>* problems_;
  size_t failures_ = 0;
};

// "/a/b" + "c" with JSON-pointer escaping.
std::string PointerJoin(const std::string& base, std::string_view token);

}  // namespace cairn
