// Diffs between two snapshots: which components were added, removed or changed, and what
// changed inside them — unified text diffs for text, field-by-field model changes, tool
// schema changes classed as breaking or compatible, knowledge documents counted.
// Reads objects (verified); thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cairn/snapshot.h"
#include "cairn/store.h"

namespace cairn {

enum class ChangeType { kAdded, kRemoved, kModified };
const char* ChangeTypeName(ChangeType type);

struct FieldChange {
  std::string pointer;  // JSON pointer of the leaf
  Json before;          // null when added
  Json after;           // null when removed
  bool added = false;
  bool removed = false;
};

struct SchemaChange {
  std::string pointer;      // where in the tool definition
  std::string description;  // "parameter \"order_id\" removed"
  bool breaking = false;
};

struct KnowledgeCounts {
  size_t added = 0, removed = 0, changed = 0;
};

struct ComponentDiff {
  std::string path;
  ComponentKind kind = ComponentKind::kConfig;
  ChangeType type = ChangeType::kModified;
  std::optional<Digest> old_digest, new_digest;
  uint64_t old_size = 0, new_size = 0;
  bool is_text = false;
  std::string unified;                       // unified diff of text (may be empty)
  std::vector<FieldChange> fields;           // models (and other JSON without a special rule)
  std::vector<SchemaChange> schema;          // tools
  bool breaking = false;                     // any breaking schema change
  std::optional<KnowledgeCounts> documents;  // knowledge manifests
  // Prompts: template variables (the `variables` fact) that the new version reads and the
  // old one did not, and the other way round; sorted.
  std::vector<std::string> variables_added, variables_removed;
  int lines_added = 0, lines_removed = 0;
};

struct SnapshotDiff {
  SnapshotId from, to;
  std::vector<ComponentDiff> components;  // sorted by path
  bool same_content = false;
};

struct DiffOptions {
  bool details = true;  // false: only which components changed (--stat)
  int context_lines = 3;
  uint64_t max_text_bytes = 1 << 20;  // larger text is reported without a unified diff
};

Result<SnapshotDiff> DiffSnapshots(const Store& store, const Snapshot& from, const Snapshot& to,
                                   const DiffOptions& options = {});

// Lower-level pieces, exposed for tests.
std::vector<FieldChange> DiffJsonFields(const Json& before, const Json& after);
std::vector<SchemaChange> DiffToolSchemas(const Json& before, const Json& after);
// Unified diff of two texts (libgit2's xdiff); "" when equal.
Result<std::string> UnifiedTextDiff(std::string_view before, std::string_view after,
                                    const std::string& path, int context_lines);

}  // namespace cairn
