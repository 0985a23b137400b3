// Config files: anything; *.json files get the JSON rules only.
#include "ingest/validators.h"

namespace cairn {
namespace {

// config/*.json: the JSON rules only.
class JsonOnlyValidator : public KindValidator {
 public:
  Validated Validate(const std::string& path, std::string_view bytes,
                     std::vector<Problem>* problems) const override {
    Validated out;
    out.tree = ParseStrictJson(bytes, path, problems);
    return out;
  }
};

}  // namespace

const KindValidator& ConfigJsonValidatorInstance() {
  static const JsonOnlyValidator v;
  return v;
}

}  // namespace cairn
