// The stat cache: lets a second snapshot of the same tree skip re-hashing unchanged files,
// like git's index — but never trusts a stale entry.
//
// Entry (family stat_cache): key = absolute path; value = le64 dev, ino, size, mtime_ns,
// ctime_ns, recorded_ns, then the 32-byte digest. An entry is used only if device, inode,
// size, mtime and ctime all match the file now. An entry is recorded only for a file whose
// mtime and ctime were both at least kRacyWindowNs older than the moment hashing began
// and did not change while it was read ("racy clean": a write within the file system's
// timestamp granularity of the hash could leave the timestamps unchanged).
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>

#include "cairn/digest.h"

namespace cairn {

inline constexpr int64_t kRacyWindowNs = 2'000'000'000;  // covers 1 s and 2 s file systems

struct StatFingerprint {
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  static StatFingerprint Of(const struct stat& st);
  friend bool operator==(const StatFingerprint&, const StatFingerprint&) = default;
};

std::string EncodeStatCacheEntry(const StatFingerprint& fp, int64_t recorded_ns,
                                 const Digest& digest);
// The digest if the stored entry still describes `now`; nullopt otherwise.
std::optional<Digest> MatchStatCacheEntry(std::string_view value, const StatFingerprint& now);
// Whether a file hashed starting at `hash_start_ns` may be recorded.
bool StableEnoughToCache(const StatFingerprint& before, const StatFingerprint& after,
                         int64_t hash_start_ns);
// CLOCK_REALTIME in nanoseconds (the clock file timestamps come from).
int64_t RealtimeNowNs();

}  // namespace cairn
