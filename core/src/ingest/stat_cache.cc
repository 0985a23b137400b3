#include "ingest/stat_cache.h"

#include <ctime>

#include "store/schema.h"

namespace cairn {
namespace {
constexpr size_t kFields = 6;
constexpr size_t kEntrySize = kFields * 8 + Digest::kSize;
}  // namespace

StatFingerprint StatFingerprint::Of(const struct stat& st) {
  StatFingerprint f;
  f.dev = st.st_dev;
  f.ino = st.st_ino;
  f.size = static_cast<uint64_t>(st.st_size);
  f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  f.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  return f;
}

std::string EncodeStatCacheEntry(const StatFingerprint& fp, int64_t recorded_ns,
                                 const Digest& digest) {
  std::string out;
  out.reserve(kEntrySize);
  for (uint64_t v : {fp.dev, fp.ino, fp.size, static_cast<uint64_t>(fp.mtime_ns),
                     static_cast<uint64_t>(fp.ctime_ns), static_cast<uint64_t>(recorded_ns)}) {
    keys::AppendLe64(&out, v);
  }
  out.append(digest.Raw());
  return out;
}

std::optional<Digest> MatchStatCacheEntry(std::string_view value, const StatFingerprint& now) {
  if (value.size() != kEntrySize) return std::nullopt;
  StatFingerprint stored;
  stored.dev = keys::ReadLe64(value.data());
  stored.ino = keys::ReadLe64(value.data() + 8);
  stored.size = keys::ReadLe64(value.data() + 16);
  stored.mtime_ns = static_cast<int64_t>(keys::ReadLe64(value.data() + 24));
  stored.ctime_ns = static_cast<int64_t>(keys::ReadLe64(value.data() + 32));
  auto recorded_ns = static_cast<int64_t>(keys::ReadLe64(value.data() + 40));
  if (!(stored == now)) return std::nullopt;
  // Re-check the racy rule on read too, so an entry written by an older build with a
  // smaller window is not trusted blindly.
  if (recorded_ns - std::max(stored.mtime_ns, stored.ctime_ns) < kRacyWindowNs) {
    return std::nullopt;
  }
  auto digest = Digest::FromRaw(value.substr(kFields * 8));
  if (!digest.ok()) return std::nullopt;
  return *digest;
}

bool StableEnoughToCache(const StatFingerprint& before, const StatFingerprint& after,
                         int64_t hash_start_ns) {
  return before == after &&
         hash_start_ns - std::max(before.mtime_ns, before.ctime_ns) >= kRacyWindowNs;
}

int64_t RealtimeNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace cairn
