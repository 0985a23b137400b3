#include "ingest/stat_cache.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

StatFingerprint Fp(int64_t mtime, int64_t ctime) {
  StatFingerprint f;
  f.dev = 1;
  f.ino = 2;
  f.size = 3;
  f.mtime_ns = mtime;
  f.ctime_ns = ctime;
  return f;
}

TEST(StatCache, MatchNeedsEveryField) {
  Digest d = Digest::Of("x");
  StatFingerprint fp = Fp(1'000'000'000, 1'000'000'000);
  std::string e = EncodeStatCacheEntry(fp, 10'000'000'000, d);
  EXPECT_EQ(MatchStatCacheEntry(e, fp), d);
  for (int field = 0; field < 5; ++field) {
    StatFingerprint other = fp;
    switch (field) {
      case 0:
        other.dev++;
        break;
      case 1:
        other.ino++;
        break;
      case 2:
        other.size++;
        break;
      case 3:
        other.mtime_ns++;
        break;
      case 4:
        other.ctime_ns++;
        break;
    }
    EXPECT_FALSE(MatchStatCacheEntry(e, other).has_value()) << field;
  }
}

TEST(StatCache, RacyEntriesAreNeitherRecordedNorTrusted) {
  StatFingerprint fp = Fp(10'000'000'000, 10'000'000'000);
  EXPECT_FALSE(StableEnoughToCache(fp, fp, 10'000'000'000 + kRacyWindowNs - 1));
  EXPECT_TRUE(StableEnoughToCache(fp, fp, 10'000'000'000 + kRacyWindowNs));
  // A change during hashing is never recorded.
  EXPECT_FALSE(StableEnoughToCache(fp, Fp(11'000'000'000, 11'000'000'000), 99'000'000'000));
  // An entry recorded too close to the file's timestamps is not trusted on read.
  std::string racy = EncodeStatCacheEntry(fp, 10'500'000'000, Digest::Of("x"));
  EXPECT_FALSE(MatchStatCacheEntry(racy, fp).has_value());
  // ctime counts as much as mtime (touch -d can move mtime back, not ctime).
  StatFingerprint recent_ctime = Fp(1'000'000'000, 9'900'000'000);
  EXPECT_FALSE(StableEnoughToCache(recent_ctime, recent_ctime, 10'000'000'000));
}

TEST(StatCache, MalformedEntryIsIgnored) {
  EXPECT_FALSE(MatchStatCacheEntry("short", Fp(1, 1)).has_value());
}

}  // namespace
}  // namespace cairn
