// Revisions: the ways a user names a snapshot on the command line.
//
// Accepted: a full 64-hex id or a unique hex prefix of at least 8 digits (an optional
// "sha256:" in front of either); a deployment name (what is live there now); NAME@{N}
// (what was live N moves ago, NAME@{0} = now); NAME@<time> (what was live at that time:
// RFC 3339 or "YYYY-MM-DD HH:MM[:SS]" UTC). A deployment name wins over a hex prefix.
// Thread-safe.
#pragma once

#include <string_view>

#include "cairn/snapshot.h"
#include "cairn/store.h"

namespace cairn {

inline constexpr size_t kMinPrefixLength = 8;

// Resolves `rev`. Errors: kUsage for malformed or ambiguous revisions (the message lists
// the candidates), kNotFound when nothing matches.
Result<SnapshotId> ResolveRevision(const Store& store, std::string_view rev);

// Splits "REV:PATH" (for `cat`) at the first ':' whose left side is a well-formed revision,
// so "prod@2026-11-20T14:03Z:prompts/system.md" splits after the time.
struct RevisionPath {
  std::string rev;
  std::string path;
};
Result<RevisionPath> SplitRevisionPath(std::string_view text);

}  // namespace cairn
