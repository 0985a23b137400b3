// The layout of a release: which names are allowed and where each file or directory may
// sit, by its path alone. One set of rules for every source — a directory on disk
// (release_scan.cc) and a git tree (git_scan.cc) — so both accept exactly the same trees.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/snapshot.h"

namespace cairn {

// Directories below the release root may nest this deep (rule "too-deep").
inline constexpr int kMaxReleaseDepth = 32;

// Why `name` (one path component) may not appear in a release (rule "bad-name"), or
// nullopt: longer than 255 bytes, not UTF-8, a control character or a backslash.
std::optional<std::string> BadEntryName(std::string_view name);

struct Placement {
  ComponentKind kind = ComponentKind::kConfig;
  bool is_snapshot_json = false;  // the optional root snapshot.json
  std::string knowledge_base;     // documents under knowledge/<name>/: <name>
};

// Where a file at `parts` (path components from the root) belongs; nullopt: not allowed
// there (rule "unknown-entry").
std::optional<Placement> PlaceFile(const std::vector<std::string>& parts);

// Whether a directory may sit at `parts`.
bool DirectoryAllowed(const std::vector<std::string>& parts);

// The "unknown-entry" message for a file or directory at `parts`.
std::string UnknownEntryMessage(const std::vector<std::string>& parts, bool is_dir);

// `parts` joined with '/'.
std::string JoinPath(const std::vector<std::string>& parts);

}  // namespace cairn
