#include "cairn/snapshot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "cairn/clock.h"
#include "snapshot/snapshot_records.h"
#include "store/store_internal.h"

namespace cairn {

Result<SnapshotId> SnapshotId::Parse(std::string_view hex) {
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  CAIRN_ASSIGN_OR_RETURN(Digest d, Digest::Parse(hex, /*allow_bare=*/true));
  return SnapshotId(d);
}

const char* KindName(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::kPrompt:
      return "prompt";
    case ComponentKind::kModel:
      return "model";
    case ComponentKind::kTool:
      return "tool";
    case ComponentKind::kKnowledge:
      return "knowledge";
    case ComponentKind::kConfig:
      return "config";
  }
  return "?";
}

std::optional<ComponentKind> ParseKind(std::string_view name) {
  for (auto k : {ComponentKind::kPrompt, ComponentKind::kModel, ComponentKind::kTool,
                 ComponentKind::kKnowledge, ComponentKind::kConfig}) {
    if (name == KindName(k)) return k;
  }
  return std::nullopt;
}

uint64_t Snapshot::TotalSize() const {
  uint64_t total = 0;
  for (const auto& c : components) total += c.size;
  return total;
}

const Component* Snapshot::Find(std::string_view path) const {
  auto it = std::lower_bound(components.begin(), components.end(), path,
                             [](const Component& c, std::string_view p) { return c.path < p; });
  if (it == components.end() || it->path != path) return nullptr;
  return &*it;
}

namespace {
Json ComponentsJson(const std::vector<Component>& components) {
  Json list = Json::array();
  for (const auto& c : components) {
    Json entry = {{"path", c.path},
                  {"kind", KindName(c.kind)},
                  {"digest", c.digest.ToString()},
                  {"size", c.size}};
    if (!c.facts.empty()) entry["facts"] = c.facts;
    list.push_back(std::move(entry));
  }
  return list;
}

// Schema checks for stored manifests: a failure means the store is damaged.
class ManifestReader {
 public:
  explicit ManifestReader(const SnapshotId& id) : id_(id) {}

  Result<std::string> String(const Json& obj, const char* field, bool optional = false) {
    auto it = obj.find(field);
    if (it == obj.end() && optional) return std::string();
    if (it == obj.end() || !it->is_string()) return Bad(field);
    return it->get<std::string>();
  }
  Result<uint64_t> Unsigned(const Json& obj, const char* field) {
    auto it = obj.find(field);
    if (it == obj.end() || !it->is_number_unsigned()) return Bad(field);
    return it->get<uint64_t>();
  }
  Status Bad(std::string_view field) {
    return Status::Corruption(
        fmt::format("snapshot {}: manifest field '{}' is missing or mistyped", id_.Hex(), field));
  }

 private:
  const SnapshotId& id_;
};
}  // namespace

Result<std::string> CanonicalComponents(const std::vector<Component>& components) {
  // Members in byte order: digest, facts, kind, path, size.
  std::string out = "[";
  for (const auto& c : components) {
    if (out.size() > 1) out += ',';
    out += "{\"digest\":\"" + c.digest.ToString() + "\"";
    if (!c.facts.empty()) {
      CAIRN_ASSIGN_OR_RETURN(std::string facts, CanonicalJson(c.facts));
      out += ",\"facts\":" + facts;
    }
    CAIRN_ASSIGN_OR_RETURN(std::string path, CanonicalJson(Json(c.path)));
    out += ",\"kind\":\"";
    out += KindName(c.kind);
    out += "\",\"path\":" + path + ",\"size\":" + std::to_string(c.size) + "}";
  }
  out += ']';
  return out;
}

Result<Digest> ContentDigest(const std::vector<Component>& components) {
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, CanonicalComponents(components));
  return Digest::Of(bytes);
}

namespace {
// Every manifest member except "components".
Json MetadataJson(const Snapshot& s) {
  Json labels = Json::object();
  for (const auto& [k, v] : s.labels) labels[k] = v;
  Json m = {{"format", s.format},
            {"app", s.app},
            {"author", s.author},
            {"created", FormatTime(s.created_micros)},
            {"message", s.message},
            {"labels", labels},
            {"parent", s.parent ? Json(s.parent->Hex()) : Json(nullptr)},
            {"source", s.source},
            {"content", s.content.ToString()}};
  if (!s.description.empty()) m["description"] = s.description;
  return m;
}
}  // namespace

Json ManifestJson(const Snapshot& s) {
  Json m = MetadataJson(s);
  m["components"] = ComponentsJson(s.components);
  return m;
}

Result<std::string> CanonicalManifest(const Snapshot& s, const std::string* components) {
  Json m = MetadataJson(s);
  if (components) return CanonicalJsonWithRawMember(m, "components", *components);
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, CanonicalComponents(s.components));
  return CanonicalJsonWithRawMember(m, "components", bytes);
}

Result<Snapshot> SnapshotFromManifest(const SnapshotId& id, std::string_view bytes) {
  CAIRN_ASSIGN_OR_RETURN(Json m, ParseCanonicalJson(bytes, "snapshot " + id.Hex()));
  if (!m.is_object()) return Status::Corruption("snapshot " + id.Hex() + ": not an object");
  ManifestReader r(id);
  Snapshot s;
  s.id = id;
  if (!m.contains("format") || !m["format"].is_number_integer()) return r.Bad("format");
  s.format = m["format"].get<int>();
  if (s.format > kManifestFormat) {
    return Status::Usage(
        fmt::format("snapshot {} uses manifest format {}: upgrade cairn", id.Hex(), s.format));
  }
  CAIRN_ASSIGN_OR_RETURN(s.app, r.String(m, "app"));
  CAIRN_ASSIGN_OR_RETURN(s.author, r.String(m, "author"));
  CAIRN_ASSIGN_OR_RETURN(s.message, r.String(m, "message"));
  CAIRN_ASSIGN_OR_RETURN(s.description, r.String(m, "description", true));
  CAIRN_ASSIGN_OR_RETURN(std::string created, r.String(m, "created"));
  auto t = ParseTime(created);
  if (!t.ok()) return r.Bad("created");
  s.created_micros = *t;
  if (!m.contains("labels") || !m["labels"].is_object()) return r.Bad("labels");
  for (auto& [k, v] : m["labels"].items()) {
    if (!v.is_string()) return r.Bad("labels");
    s.labels[k] = v.get<std::string>();
  }
  if (!m.contains("parent")) return r.Bad("parent");
  if (m["parent"].is_string()) {
    auto p = SnapshotId::Parse(m["parent"].get<std::string>());
    if (!p.ok()) return r.Bad("parent");
    s.parent = *p;
  } else if (!m["parent"].is_null()) {
    return r.Bad("parent");
  }
  if (!m.contains("source") || !m["source"].is_object()) return r.Bad("source");
  s.source = m["source"];
  CAIRN_ASSIGN_OR_RETURN(std::string content, r.String(m, "content"));
  auto cd = Digest::Parse(content);
  if (!cd.ok()) return r.Bad("content");
  s.content = *cd;
  if (!m.contains("components") || !m["components"].is_array()) return r.Bad("components");
  for (const auto& c : m["components"]) {
    if (!c.is_object()) return r.Bad("components");
    Component comp;
    CAIRN_ASSIGN_OR_RETURN(comp.path, r.String(c, "path"));
    CAIRN_ASSIGN_OR_RETURN(std::string kind, r.String(c, "kind"));
    auto k = ParseKind(kind);
    if (!k) return r.Bad("components/kind");
    comp.kind = *k;
    CAIRN_ASSIGN_OR_RETURN(std::string digest, r.String(c, "digest"));
    auto d = Digest::Parse(digest);
    if (!d.ok()) return r.Bad("components/digest");
    comp.digest = *d;
    CAIRN_ASSIGN_OR_RETURN(comp.size, r.Unsigned(c, "size"));
    if (c.contains("facts")) comp.facts = c["facts"];
    if (!s.components.empty() && !(s.components.back().path < comp.path)) {
      return r.Bad("components (not sorted or duplicated paths)");
    }
    s.components.push_back(std::move(comp));
  }
  CAIRN_ASSIGN_OR_RETURN(Digest recomputed, ContentDigest(s.components));
  if (recomputed != s.content) {
    return Status::Corruption(
        fmt::format("snapshot {}: its content digest does not match its components", id.Hex()));
  }
  return s;
}

namespace {

// The stored manifest of `id`, checked against its id.
Result<std::string> ReadManifest(const Store& store, const SnapshotId& id) {
  CAIRN_ASSIGN_OR_RETURN(auto bytes,
                         StoreInternal::db(store).Get(Table::kSnapshots, SnapshotKey(id)));
  if (!bytes) return Status::NotFound(fmt::format("no snapshot {}", id.Hex()));
  if (Digest::Of(*bytes) != id.digest()) {
    return Status::Corruption(
        fmt::format("snapshot {} is corrupt: its manifest hashes to a different id", id.Hex()));
  }
  return std::move(*bytes);
}

}  // namespace

Result<Snapshot> LoadSnapshot(const Store& store, const SnapshotId& id) {
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, ReadManifest(store, id));
  return SnapshotFromManifest(id, bytes);
}

Result<bool> HasSnapshot(const Store& store, const SnapshotId& id) {
  return StoreInternal::db(store).Contains(Table::kSnapshots, SnapshotKey(id));
}

namespace {

// The top-level "created" string of a manifest: one pass over the canonical bytes tracking
// only strings and nesting, no tree and no tokens — a promote reads it for a 10,000-file
// manifest, where building even a SAX stream costs more than the move. Canonical JSON has no
// whitespace, so a top-level key is a string at depth 1 right after '{' or ','. nullopt when
// there is none (the caller reports the manifest as damaged).
std::optional<std::string_view> TopLevelCreated(std::string_view m) {
  constexpr std::string_view kKey = "\"created\":\"";
  int depth = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    char c = m[i];
    if (c == '"') {
      if (depth == 1 && i > 0 && (m[i - 1] == '{' || m[i - 1] == ',') &&
          m.substr(i, kKey.size()) == kKey) {
        size_t begin = i + kKey.size();
        size_t end = m.find('"', begin);  // a time has no escapes
        if (end == std::string_view::npos) return std::nullopt;
        return m.substr(begin, end - begin);
      }
      // Skip the string: to the next quote not escaped by an odd run of backslashes (memchr:
      // most of a manifest's bytes are inside strings).
      for (;;) {
        const void* q = std::memchr(m.data() + i + 1, '"', m.size() - i - 1);
        if (q == nullptr) return std::nullopt;
        i = static_cast<size_t>(static_cast<const char*>(q) - m.data());
        size_t slashes = 0;
        while (slashes < i && m[i - 1 - slashes] == '\\') ++slashes;
        if (slashes % 2 == 0) break;
      }
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return std::nullopt;
}

}  // namespace

// Not re-hashed against the id (SHA-256 of a 10,000-file manifest costs more than the
// move that asks): the bytes are covered by RocksDB's block checksums on this read, and a
// manifest altered inside its checksums is caught by every LoadSnapshot, verify and fsck.
Result<int64_t> SnapshotCreatedMicros(const Store& store, const SnapshotId& id) {
  CAIRN_ASSIGN_OR_RETURN(auto stored,
                         StoreInternal::db(store).Get(Table::kSnapshots, SnapshotKey(id)));
  if (!stored) return Status::NotFound(fmt::format("no snapshot {}", id.Hex()));
  const std::string& bytes = *stored;
  std::optional<std::string_view> created = TopLevelCreated(bytes);
  if (!created) {
    return Status::Corruption(
        fmt::format("snapshot {}: its manifest has no \"created\"", id.Hex()));
  }
  auto t = ParseTime(*created);
  if (!t.ok()) {
    return Status::Corruption(fmt::format("snapshot {}: its \"created\" is not a time", id.Hex()));
  }
  return *t;
}

Result<std::vector<SnapshotSummary>> ListSnapshots(const Store& store, const std::string& app) {
  std::vector<SnapshotSummary> out;
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kSnapshotLog);
  for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
    CAIRN_ASSIGN_OR_RETURN(auto summary, DecodeSnapshotLogEntry(cur.key(), cur.value()));
    if (app.empty() || summary.app == app) out.push_back(std::move(summary));
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  return out;
}

Result<std::vector<SnapshotId>> SnapshotsWithSameContent(const Store& store,
                                                         const Snapshot& snapshot) {
  std::vector<SnapshotId> out;
  std::string prefix(snapshot.content.Raw());
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kContentIndex);
  for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
    CAIRN_ASSIGN_OR_RETURN(Digest d, Digest::FromRaw(cur.key().substr(Digest::kSize)));
    if (SnapshotId(d) != snapshot.id) out.emplace_back(d);
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  return out;
}

}  // namespace cairn
