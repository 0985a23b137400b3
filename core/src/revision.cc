#include "cairn/revision.h"

#include <fmt/format.h>

#include "store_internal.h"

namespace cairn {

Result<SnapshotId> ResolveRevision(const Store& store, std::string_view rev) {
  std::string_view hex = rev;
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  if (hex.empty()) return Status::Usage("an empty revision names no snapshot");
  if (!IsHex(hex)) {
    return Status::Usage(fmt::format(
        "'{}' is not a revision: use a snapshot id or a unique prefix of at least {} hex "
        "digits",
        rev, kMinPrefixLength));
  }
  if (hex.size() < kMinPrefixLength) {
    return Status::Usage(fmt::format("'{}' is too short: a prefix needs at least {} hex digits",
                                     rev, kMinPrefixLength));
  }
  std::string lower;
  for (char c : hex) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.size() == 64) {
    CAIRN_ASSIGN_OR_RETURN(SnapshotId id, SnapshotId::Parse(lower));
    CAIRN_ASSIGN_OR_RETURN(bool present, HasSnapshot(store, id));
    if (!present) return Status::NotFound(fmt::format("no snapshot {}", lower));
    return id;
  }
  // Seek to the first key whose bytes start with the even-length part of the prefix.
  std::string seek;
  for (size_t i = 0; i + 1 < lower.size(); i += 2) {
    seek.push_back(static_cast<char>(std::stoi(lower.substr(i, 2), nullptr, 16)));
  }
  std::vector<SnapshotId> matches;
  Cursor cur = StoreInternal::db(store).NewCursor(Cf::kSnapshots);
  for (cur.Seek(seek); cur.Valid() && cur.key().starts_with(seek); cur.Next()) {
    CAIRN_ASSIGN_OR_RETURN(Digest d, Digest::FromRaw(cur.key()));
    if (d.Hex().starts_with(lower)) matches.emplace_back(d);
    if (matches.size() > 10) break;
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  if (matches.empty()) return Status::NotFound(fmt::format("no snapshot matches '{}'", rev));
  if (matches.size() > 1) {
    std::string list;
    for (const auto& m : matches) list += "\n  " + m.Hex();
    return Status::Usage(
        fmt::format("'{}' is ambiguous: it matches {}{} snapshots:{}\nuse more digits", rev,
                    matches.size() > 10 ? "more than " : "", std::min<size_t>(matches.size(), 10),
                    list));
  }
  return matches.front();
}

Result<RevisionPath> SplitRevisionPath(std::string_view text) {
  auto colon = text.find(':');
  // "sha256:<hex>:path" — skip the digest prefix's colon.
  if (text.starts_with("sha256:")) colon = text.find(':', 7);
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= text.size()) {
    return Status::Usage(fmt::format("'{}' is not REV:PATH (e.g. 1a2b3c4d:prompts/system.md)",
                                     text));
  }
  return RevisionPath{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

}  // namespace cairn
