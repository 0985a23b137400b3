// Knowledge-base manifests: embedding model, chunking, and the documents with digests.
// Document files themselves are checked against these digests by the ingest (cross-file).
#include <fmt/format.h>

#include <set>

#include "ingest/validators.h"

namespace cairn {
namespace {

// A document path must stay inside knowledge/<name>/.
std::optional<std::string> PathEscapes(std::string_view p) {
  if (p.empty()) return "is empty";
  if (p.front() == '/') return "is absolute";
  if (p.find('\\') != std::string_view::npos) return "contains a backslash";
  if (p.find('\0') != std::string_view::npos) return "contains a NUL";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view seg = p.substr(start, end - start);
    if (seg.empty()) return "has an empty segment";
    if (seg == "." || seg == "..") return fmt::format("has a \"{}\" segment", seg);
    start = end + 1;
  }
  return std::nullopt;
}

class KnowledgeValidator : public KindValidator {
 public:
  Validated Validate(const std::string& path, std::string_view bytes,
                     std::vector<Problem>* problems) const override {
    Validated out;
    out.tree = ParseStrictJson(bytes, path, problems);
    if (!out.tree) return out;
    const Json& k = *out.tree;
    JsonChecker c(path, "knowledge-manifest", problems);
    if (!c.IsObject(k, "/")) return out;
    c.OnlyFields(k, "/", {"description", "embedding", "chunking", "documents"});
    c.OptionalString(k, "/", "description");
    for (const char* section : {"embedding", "chunking"}) {
      auto it = k.find(section);
      if (it == k.end()) {
        c.Fail("/", fmt::format("missing required field \"{}\"", section));
      } else {
        c.IsObject(*it, PointerJoin("/", section));
      }
    }
    if (k.contains("embedding") && k["embedding"].is_object()) {
      const Json& e = k["embedding"];
      c.RequireString(e, "/embedding", "model");
      c.OptionalString(e, "/embedding", "provider");
      c.OptionalUnsigned(e, "/embedding", "dimensions");
    }
    auto docs = k.find("documents");
    if (docs == k.end() || !docs->is_array()) {
      c.Fail(docs == k.end() ? "/" : "/documents",
             "\"documents\" must be an array of {\"path\", \"digest\"} objects");
      return out;
    }
    std::set<std::string> seen;
    Json listed = Json::array();
    for (size_t i = 0; i < docs->size(); ++i) {
      const Json& d = (*docs)[i];
      std::string ptr = PointerJoin("/documents", std::to_string(i));
      if (!c.IsObject(d, ptr)) continue;
      c.OnlyFields(d, ptr, {"path", "digest", "title", "size", "source"});
      c.OptionalString(d, ptr, "title");
      c.OptionalString(d, ptr, "source");
      c.OptionalUnsigned(d, ptr, "size");
      auto p = c.RequireString(d, ptr, "path");
      auto digest = c.RequireString(d, ptr, "digest");
      if (p) {
        if (auto why = PathEscapes(*p)) {
          c.Fail(PointerJoin(ptr, "path"), fmt::format("document path \"{}\" {}", *p, *why),
                 "escaping-path");
        } else if (!seen.insert(*p).second) {
          c.Fail(PointerJoin(ptr, "path"), fmt::format("document \"{}\" is listed twice", *p));
        }
      }
      if (digest && !Digest::Parse(*digest).ok()) {
        c.Fail(PointerJoin(ptr, "digest"),
               fmt::format("\"{}\" is not \"sha256:\" followed by 64 hex digits", *digest));
      }
      if (p && digest) listed.push_back({{"digest", *digest}, {"path", *p}});
    }
    if (c.failures() > 0) return out;
    auto canonical = CanonicalJson(listed);
    out.facts = {{"documents", docs->size()},
                 {"embedding_model", k["embedding"]["model"]},
                 {"documents_digest", Digest::Of(canonical.ok() ? *canonical : "").ToString()}};
    return out;
  }
};

}  // namespace

const KindValidator& KnowledgeValidatorInstance() {
  static const KnowledgeValidator v;
  return v;
}

}  // namespace cairn
