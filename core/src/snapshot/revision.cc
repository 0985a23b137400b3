#include "cairn/revision.h"

#include <fmt/format.h>

#include <algorithm>

#include "cairn/clock.h"
#include "cairn/deployment.h"
#include "store/store_internal.h"

namespace cairn {

namespace {

// NAME@{N} or NAME@TIME.
Result<SnapshotId> ResolveDeploymentRevision(const Store& store, std::string_view rev, size_t at) {
  CAIRN_ASSIGN_OR_RETURN(DeploymentName name, DeploymentName::Parse(rev.substr(0, at)));
  std::string_view spec = rev.substr(at + 1);
  if (spec.starts_with("{") && spec.ends_with("}")) {
    std::string_view digits = spec.substr(1, spec.size() - 2);
    uint64_t n = 0;
    if (digits.empty() || digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Status::Usage(
          fmt::format("'{}': use {}@{{N}} with N a number of moves back", rev, name.view()));
    }
    n = std::stoull(std::string(digits));
    CAIRN_ASSIGN_OR_RETURN(Deployment d, GetDeployment(store, name));
    if (n >= d.last.seq) {
      return Status::NotFound(fmt::format("{} has moved only {} time{}: there is no {}@{{{}}}",
                                          name.view(), d.last.seq, d.last.seq == 1 ? "" : "s",
                                          name.view(), n));
    }
    CAIRN_ASSIGN_OR_RETURN(Event e, GetEvent(store, name, d.last.seq - n));
    return e.to;
  }
  CAIRN_ASSIGN_OR_RETURN(int64_t when, ParseTime(spec));
  CAIRN_ASSIGN_OR_RETURN(Event e, LiveAt(store, name, when));
  return e.to;
}

bool LooksLikeRevision(std::string_view rev) {
  auto at = rev.find('@');
  if (at == std::string_view::npos) return !rev.empty();
  std::string_view spec = rev.substr(at + 1);
  if (spec.starts_with("{")) return spec.ends_with("}");
  return ParseTime(spec).ok();
}

}  // namespace

Result<SnapshotId> ResolveRevision(const Store& store, std::string_view rev) {
  if (auto at = rev.find('@'); at != std::string_view::npos) {
    return ResolveDeploymentRevision(store, rev, at);
  }
  if (auto name = DeploymentName::Parse(rev); name.ok()) {
    auto d = GetDeployment(store, *name);
    if (d.ok()) return d->live;
    if (!d.status().IsNotFound()) return d.status();
    if (!IsHex(rev.starts_with("sha256:") ? rev.substr(7) : rev)) {
      return Status::NotFound(fmt::format(
          "'{}' is neither a deployment nor a snapshot id (list them with 'cairn status' and "
          "'cairn snapshot list')",
          rev));
    }
  }
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
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kSnapshots);
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
    return Status::Usage(fmt::format(
        "'{}' is ambiguous: it matches {}{} snapshots:{}\nuse more digits", rev,
        matches.size() > 10 ? "more than " : "", std::min<size_t>(matches.size(), 10), list));
  }
  return matches.front();
}

Result<RevisionPath> SplitRevisionPath(std::string_view text) {
  auto usage = [&] {
    return Status::Usage(fmt::format(
        "'{}' is not REV:PATH (e.g. 1a2b3c4d:prompts/system.md or prod:prompts/system.md)", text));
  };
  // "sha256:<hex>:path" — the digest prefix's colon is not a separator.
  size_t from = text.starts_with("sha256:") ? 7 : 0;
  size_t first = text.find(':', from);
  size_t at = text.find('@');
  if (at != std::string_view::npos && at < first) {
    // NAME@TIME:PATH — times hold colons and paths may too: take the longest left side
    // that is a well-formed revision.
    for (size_t colon = text.rfind(':'); colon != std::string_view::npos && colon > at;
         colon = text.rfind(':', colon - 1)) {
      if (colon + 1 < text.size() && LooksLikeRevision(text.substr(0, colon))) {
        return RevisionPath{std::string(text.substr(0, colon)),
                            std::string(text.substr(colon + 1))};
      }
    }
    return usage();
  }
  if (first == std::string_view::npos || first == 0 || first + 1 >= text.size()) return usage();
  return RevisionPath{std::string(text.substr(0, first)), std::string(text.substr(first + 1))};
}

}  // namespace cairn
