// Model references: provider, model, and a pin (revision or digest) unless the file says
// "pinned": false. A reference that can move under you must say so.
#include <fmt/format.h>

#include "ingest/validators.h"

namespace cairn {
namespace {

bool Floats(std::string_view value) {
  return value == "latest" || value.ends_with("-latest") || value.ends_with(":latest") ||
         value.ends_with("@latest");
}

class ModelValidator : public KindValidator {
 public:
  Validated Validate(const std::string& path, std::string_view bytes,
                     std::vector<Problem>* problems) const override {
    Validated out;
    out.tree = ParseStrictJson(bytes, path, problems);
    if (!out.tree) return out;
    const Json& m = *out.tree;
    JsonChecker c(path, "model-ref", problems);
    if (!c.IsObject(m, "/")) return out;
    c.OnlyFields(
        m, "/",
        {"provider", "model", "revision", "digest", "pinned", "params", "limits", "description"});
    auto provider = c.RequireString(m, "/", "provider");
    auto model = c.RequireString(m, "/", "model");
    bool typed = c.OptionalString(m, "/", "revision") & c.OptionalString(m, "/", "digest") &
                 c.OptionalBool(m, "/", "pinned") & c.OptionalObject(m, "/", "params") &
                 c.OptionalObject(m, "/", "limits") & c.OptionalString(m, "/", "description");
    if (!provider || !model || !typed) return out;

    std::string revision = m.value("revision", "");
    std::string digest = m.value("digest", "");
    bool has_pin = !revision.empty() || !digest.empty();
    bool floats = Floats(*model) || Floats(revision) || Floats(digest);
    bool pinned = has_pin && !floats;
    if (m.contains("pinned")) {
      bool declared = m["pinned"].get<bool>();
      if (declared && !pinned) {
        c.Fail("/pinned", "says \"pinned\": true but the reference has no fixed revision or digest",
               "floating-model");
      }
      pinned = pinned && declared;
    } else if (!pinned) {
      c.Fail(floats ? "/model" : "/",
             fmt::format("model \"{}\" is not pinned: add a \"revision\" or \"digest\" that "
                         "cannot move, or say \"pinned\": false to accept a floating model",
                         *model),
             "floating-model");
    }
    out.facts = {{"provider", *provider}, {"model", *model}, {"pinned", pinned}};
    if (!revision.empty()) out.facts["revision"] = revision;
    if (!digest.empty()) out.facts["digest"] = digest;
    return out;
  }
};
}  // namespace

const KindValidator& ModelValidatorInstance() {
  static const ModelValidator v;
  return v;
}

}  // namespace cairn
