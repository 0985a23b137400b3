// Model references: provider, model, and a pin that follows the provider's own convention
// (a dated OpenAI snapshot, a Hugging Face commit, an OCI digest, ...) unless the file says
// "pinned": false. A reference that can move under you must say so. Limits are positive
// and below documented caps. docs/release-format.md has the table of provider forms.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "cairn/digest.h"
#include "ingest/validators.h"

namespace cairn {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// `s` ends with `sep` followed by exactly `n` digits.
bool EndsWithNumber(std::string_view s, std::string_view sep, size_t n) {
  if (s.size() < sep.size() + n) return false;
  return s.substr(s.size() - n - sep.size(), sep.size()) == sep &&
         AllDigits(s.substr(s.size() - n));
}

// "-2024-08-06" at the end.
bool EndsWithIsoDate(std::string_view s) {
  if (s.size() < 11) return false;
  std::string_view d = s.substr(s.size() - 11);
  return d[0] == '-' && AllDigits(d.substr(1, 4)) && d[5] == '-' && AllDigits(d.substr(6, 2)) &&
         d[8] == '-' && AllDigits(d.substr(9, 2));
}

// Exactly `n` lowercase hex digits.
bool IsLowerHex(std::string_view s, size_t n) {
  return s.size() == n && IsHex(s) &&
         std::none_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'F'; });
}

bool IsDigestString(std::string_view s) {
  return s.starts_with("sha256:") && IsLowerHex(s.substr(7), 64);
}

bool IsCommitHash(std::string_view s) { return IsLowerHex(s, 40); }

// Names every provider uses for "whatever is current".
bool IsFloatingWord(std::string_view value) {
  for (std::string_view word : {"latest", "stable", "main", "master", "default", "current"}) {
    if (value == word) return true;
  }
  return value.ends_with("-latest") || value.ends_with(":latest") || value.ends_with("@latest");
}

struct PinVerdict {
  bool pinned = false;
  std::string field;  // what pins it, or what floats ("/model", "/revision", "/digest", "/")
  std::string why;    // for a floating reference: why, in words
};

// The provider's own convention, by provider name (lowercase).
PinVerdict ProviderPin(const std::string& provider, const std::string& model,
                       const std::string& revision) {
  if (provider == "openai" || provider == "azure-openai") {
    // gpt-4o-2024-08-06, gpt-3.5-turbo-0125, and fine-tuned ft:... ids never move.
    if (EndsWithIsoDate(model) || EndsWithNumber(model, "-", 4) || model.starts_with("ft:")) {
      return {true, "/model", ""};
    }
    return {false, "/model",
            "OpenAI pins by a dated snapshot id (gpt-4o-2024-08-06); an alias moves, and a "
            "\"revision\" does not change which model is served"};
  }
  if (provider == "anthropic") {
    if (EndsWithNumber(model, "-", 8)) return {true, "/model", ""};
    return {false, "/model",
            "Anthropic pins by a dated model id (claude-3-5-haiku-20241022); an alias moves"};
  }
  if (provider == "huggingface" || provider == "hf") {
    if (IsCommitHash(revision)) return {true, "/revision", ""};
    return {false, revision.empty() ? "/" : "/revision",
            "a Hugging Face repository is pinned by a 40-hex commit \"revision\"; a branch or "
            "tag can move"};
  }
  if (provider == "ollama") {
    return {false, "/model", "an Ollama tag can move: pin it with a \"digest\" (sha256:<64 hex>)"};
  }
  if (provider == "bedrock" || provider == "aws-bedrock" || provider == "amazon-bedrock") {
    // anthropic.claude-3-5-haiku-20241022-v1:0, amazon.titan-text-express-v1
    size_t v = model.rfind("-v");
    std::string_view version = v == std::string::npos ? "" : std::string_view(model).substr(v + 2);
    size_t colon = version.find(':');
    bool versioned = colon == std::string_view::npos ? AllDigits(version)
                                                     : AllDigits(version.substr(0, colon)) &&
                                                           AllDigits(version.substr(colon + 1));
    if (versioned) return {true, "/model", ""};
    return {false, "/model", "a Bedrock model id is pinned by its version suffix (-v1:0)"};
  }
  if (provider == "vertex" || provider == "vertex-ai" || provider == "google-vertex") {
    // gemini-1.5-pro@002, gemini-1.5-pro-002, claude-3-5-haiku@20241022
    if (EndsWithNumber(model, "@", 3) || EndsWithNumber(model, "-", 3) ||
        EndsWithNumber(model, "@", 8)) {
      return {true, "/model", ""};
    }
    return {false, "/model", "a Vertex model is pinned by its version (gemini-1.5-pro@002)"};
  }
  // Any other provider: a revision it names.
  if (!revision.empty()) return {true, "/revision", ""};
  return {false, "/", "no \"revision\" or \"digest\" that cannot move"};
}

PinVerdict Pin(const std::string& provider, const std::string& model, const std::string& revision,
               const std::string& digest, bool has_digest) {
  if (IsFloatingWord(model)) return {false, "/model", fmt::format("\"{}\" moves", model)};
  if (IsFloatingWord(revision)) return {false, "/revision", fmt::format("\"{}\" moves", revision)};
  if (has_digest) {
    if (IsDigestString(digest)) return {true, "/digest", ""};
    return {false, "/digest",
            fmt::format("\"{}\" is not a digest (sha256:<64 lowercase hex>)", digest)};
  }
  // An OCI reference by digest: name@sha256:<64 hex>.
  if (size_t at = model.rfind('@');
      at != std::string::npos && IsDigestString(std::string_view(model).substr(at + 1))) {
    return {true, "/model", ""};
  }
  return ProviderPin(provider, model, revision);
}

// Limits an agent runs under: each a positive number under its cap; the known ones with
// integer counts. Unknown limits are accepted when positive (a typo is then visible in
// the manifest, and policies name the limits they need).
struct LimitSpec {
  const char* name;
  bool integer;
  double cap;
};
constexpr LimitSpec kLimitSpecs[] = {
    {"max_steps", true, 1000},     {"max_tool_calls", true, 1000}, {"max_tokens", true, 10000000},
    {"max_cost_usd", false, 1000}, {"max_seconds", false, 86400},
};

void CheckLimits(const Json& limits, JsonChecker& c) {
  for (const auto& [name, value] : limits.items()) {
    std::string ptr = PointerJoin("/limits", name);
    const LimitSpec* spec = nullptr;
    for (const LimitSpec& s : kLimitSpecs) {
      if (name == s.name) spec = &s;
    }
    if (!value.is_number() || !(value.get<double>() > 0)) {
      c.Fail(ptr, fmt::format("a limit must be a number greater than 0, found {}", value.dump()),
             "model-limits");
      continue;
    }
    if (!spec) continue;
    double v = value.get<double>();
    if (spec->integer && std::trunc(v) != v) {
      c.Fail(ptr,
             fmt::format("\"{}\" counts: it must be a whole number, found {}", name, value.dump()),
             "model-limits");
    } else if (v > spec->cap) {
      c.Fail(ptr,
             fmt::format("{} is above the cap of {} for \"{}\"", value.dump(), spec->cap, name),
             "model-limits");
    }
  }
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
    if (m.contains("limits")) CheckLimits(m["limits"], c);

    std::string revision = m.value("revision", "");
    std::string digest = m.value("digest", "");
    std::string lower = *provider;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    PinVerdict verdict = Pin(lower, *model, revision, digest, m.contains("digest"));
    bool pinned = verdict.pinned;
    if (m.contains("pinned")) {
      bool declared = m["pinned"].get<bool>();
      if (declared && !pinned) {
        c.Fail("/pinned",
               fmt::format("says \"pinned\": true but the reference floats: {}", verdict.why),
               "floating-model");
      }
      pinned = pinned && declared;
    } else if (!pinned) {
      c.Fail(verdict.field,
             fmt::format("model \"{}\" is not pinned: {}. Pin it, or say \"pinned\": false to "
                         "accept a floating model",
                         *model, verdict.why),
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
