// snapshot.json at the release root: app, description, labels.
#include <fmt/format.h>

#include "cairn/ingest.h"
#include "ingest/validators.h"

namespace cairn {
namespace {

// snapshot.json: {"app", "description", "labels", "templates"}.
class SnapshotJsonValidatorImpl : public KindValidator {
 public:
  Validated Validate(const std::string& path, std::string_view bytes,
                     std::vector<Problem>* problems) const override {
    Validated out;
    out.tree = ParseStrictJson(bytes, path, problems);
    if (!out.tree) return out;
    const Json& s = *out.tree;
    JsonChecker c(path, "snapshot-json", problems);
    if (!c.IsObject(s, "/")) return out;
    c.OnlyFields(s, "/", {"app", "description", "labels", "templates"});
    if (c.OptionalString(s, "/", "templates") && s.contains("templates") &&
        !ParseTemplateDialect(s["templates"].get<std::string>())) {
      c.Fail("/templates", fmt::format("\"{}\" is not a template dialect (mustache, jinja2, "
                                       "python)",
                                       s["templates"].get<std::string>()));
    }
    if (c.OptionalString(s, "/", "app") && s.contains("app") &&
        !IsValidAppName(s["app"].get<std::string>())) {
      c.Fail("/app", fmt::format("\"{}\" is not an app name ([a-z0-9][a-z0-9._-]{{0,63}})",
                                 s["app"].get<std::string>()));
    }
    c.OptionalString(s, "/", "description");
    if (c.OptionalObject(s, "/", "labels") && s.contains("labels")) {
      for (const auto& [key, value] : s["labels"].items()) {
        if (!value.is_string())
          c.Fail(PointerJoin("/labels", key), "a label value must be a string");
      }
    }
    return out;
  }
};

}  // namespace

const KindValidator& SnapshotJsonValidator() {
  static const SnapshotJsonValidatorImpl v;
  return v;
}

}  // namespace cairn
