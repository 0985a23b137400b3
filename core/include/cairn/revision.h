// Revisions: the ways a user names a snapshot on the command line.
//
// Accepted now: a full 64-hex id, a unique hex prefix of at least 8 digits (an optional
// "sha256:" in front of either). Deployment names, NAME@{N} and NAME@<time> join with
// deployments. Thread-safe.
#pragma once

#include <string_view>

#include "cairn/snapshot.h"
#include "cairn/store.h"

namespace cairn {

inline constexpr size_t kMinPrefixLength = 8;

// Resolves `rev`. Errors: kUsage for malformed or ambiguous revisions (the message lists
// the candidates), kNotFound when nothing matches.
Result<SnapshotId> ResolveRevision(const Store& store, std::string_view rev);

// Splits "REV:PATH" at the last ':' that is followed by a path (for `cat`).
struct RevisionPath {
  std::string rev;
  std::string path;
};
Result<RevisionPath> SplitRevisionPath(std::string_view text);

}  // namespace cairn
