// Snapshots: immutable, content-addressed manifests of a release.
//
// A snapshot's id is the SHA-256 of its canonical manifest bytes (docs/format.md,
// "Manifest"). Reading a snapshot re-hashes those bytes, so a snapshot read is always the
// snapshot that was written. Functions here only read; creation is in ingest.h. Safe to
// call from several threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cairn/canonical_json.h"
#include "cairn/digest.h"
#include "cairn/store.h"

namespace cairn {

// Version of the manifest schema this build writes.
inline constexpr int kManifestFormat = 1;

class SnapshotId {
 public:
  SnapshotId() = default;
  explicit SnapshotId(const Digest& d) : digest_(d) {}
  static Result<SnapshotId> Parse(std::string_view hex);  // exactly 64 hex digits
  std::string Hex() const { return digest_.Hex(); }
  std::string Short() const { return digest_.Hex().substr(0, 12); }
  const Digest& digest() const { return digest_; }
  friend bool operator==(const SnapshotId&, const SnapshotId&) = default;
  friend auto operator<=>(const SnapshotId&, const SnapshotId&) = default;

 private:
  Digest digest_;
};

enum class ComponentKind { kPrompt, kModel, kTool, kKnowledge, kConfig };
const char* KindName(ComponentKind kind);
std::optional<ComponentKind> ParseKind(std::string_view name);

struct Component {
  std::string path;  // relative to the release root, '/'-separated
  ComponentKind kind = ComponentKind::kConfig;
  Digest digest;
  uint64_t size = 0;
  Json facts = Json::object();  // kind-specific facts (variables, tool name, model, ...)
};

struct Snapshot {
  SnapshotId id;
  int format = kManifestFormat;
  std::string app;
  std::string author;
  int64_t created_micros = 0;
  std::string message;
  std::string description;
  std::map<std::string, std::string> labels;
  std::optional<SnapshotId> parent;
  Json source = Json::object();       // {"type":"directory","path":...} or {"type":"git",...}
  Digest content;                     // SHA-256 of the canonical components array
  std::vector<Component> components;  // sorted by path

  uint64_t TotalSize() const;
  const Component* Find(std::string_view path) const;
};

// The manifest JSON of `snapshot` (without its id, which derives from it).
Json ManifestJson(const Snapshot& snapshot);
// The canonical bytes of the components array, written directly (no JSON tree is built:
// manifests of large releases hold tens of thousands of components).
Result<std::string> CanonicalComponents(const std::vector<Component>& components);
// SHA-256 of CanonicalComponents (the snapshot's `content`).
Result<Digest> ContentDigest(const std::vector<Component>& components);
// The canonical manifest bytes of `snapshot`, whose SHA-256 is its id. Pass the result
// of CanonicalComponents when it is at hand, to avoid serialising the components twice.
Result<std::string> CanonicalManifest(const Snapshot& snapshot,
                                      const std::string* canonical_components = nullptr);
// Parses a stored manifest; kCorruption naming `id` when it does not follow the schema.
Result<Snapshot> SnapshotFromManifest(const SnapshotId& id, std::string_view bytes);

// Loads and verifies a snapshot. kNotFound if there is none with this id.
Result<Snapshot> LoadSnapshot(const Store& store, const SnapshotId& id);
// True if the store holds a snapshot with this id.
Result<bool> HasSnapshot(const Store& store, const SnapshotId& id);
// The snapshot's `created` time, read without building the manifest (a move checks that it
// is not dated before what it makes live). It scans the stored bytes without hashing them
// against the id (LoadSnapshot does). kNotFound if there is none with this id, kCorruption
// if its manifest has no valid top-level `created`.
Result<int64_t> SnapshotCreatedMicros(const Store& store, const SnapshotId& id);

// One line of `snapshot list`.
struct SnapshotSummary {
  SnapshotId id;
  uint64_t seq = 0;
  std::string app;
  std::string author;
  int64_t created_micros = 0;
  std::string message;
  size_t components = 0;
  uint64_t size = 0;
  Digest content;
  // When the snapshot arrived in this store (created here or pulled), by the store's clock;
  // nullopt for entries written before arrival times were recorded. gc's grace period
  // counts from it.
  std::optional<int64_t> arrived_micros;
};

// Every snapshot in creation order (oldest first), optionally only those of `app`.
Result<std::vector<SnapshotSummary>> ListSnapshots(const Store& store, const std::string& app = "");

// Other snapshots whose content digest equals `snapshot`'s (identical components).
Result<std::vector<SnapshotId>> SnapshotsWithSameContent(const Store& store,
                                                         const Snapshot& snapshot);

}  // namespace cairn
