// Property test of the time index: `live --at`, NAME@TIME and `log --since/--until` against a
// brute-force answer over random event times, including times before 1970.
#include <gtest/gtest.h>

#include <random>

#include "cairn/deployment.h"
#include "cairn/ingest.h"
#include "cairn/revision.h"
#include "support/signing_support.h"

namespace cairn {
namespace {

// Year 0001 to year 9999: the range ParseTime accepts, so NAME@TIME can be tested too.
constexpr int64_t kMinMicros = -62135596800000000;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxMicros = 253402300799000000;  // 9999-12-31T23:59:59Z

// A writable store with three snapshots and a clock the test sets (signing_support.h). The
// snapshots are made at the start of year 0001, so that a move may be dated at any time.
class TimeIndexTest : public testing::SignedStoreTest {
 protected:
  void SetUp() override {
    clock_.now = kMinMicros - 10000000;
    SignedStoreTest::SetUp();
  }
};

// The last event at or before t, by the brute-force definition.
const Event* BruteLiveAt(const std::vector<Event>& events, int64_t t) {
  const Event* live = nullptr;
  for (const auto& e : events) {
    if (e.time_micros <= t) live = &e;
  }
  return live;
}

TEST_F(TimeIndexTest, LiveAtAndLogRangesMatchBruteForceForEveryTime) {
  std::mt19937_64 rng(20261201);
  // Event times: sorted random times over the whole range, clustered around 1970 too, with
  // repeats (two events in one microsecond).
  std::vector<int64_t> times;
  std::uniform_int_distribution<int64_t> wide(kMinMicros, kMaxMicros);
  std::uniform_int_distribution<int64_t> near_epoch(-5000000, 5000000);
  for (int i = 0; i < 24; ++i) times.push_back(i % 2 ? wide(rng) : near_epoch(rng));
  times.push_back(times[3]);
  times.push_back(-1);
  times.push_back(0);
  std::sort(times.begin(), times.end());

  std::vector<Event> events;
  for (size_t i = 0; i < times.size(); ++i) {
    clock_.now = times[i];
    MoveOptions m;
    m.actor = "alice@test";
    m.reason = "move " + std::to_string(i);
    auto e = Promote(*store_, "prod", v_[i % v_.size()], m);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_EQ(e->time_micros, times[i]);  // a repeated time stays: equal is not backwards
    events.push_back(*e);
  }

  std::vector<int64_t> queries = {kMinMicros,        kMaxMicros,      -1, 0, 1,
                                  times.front() - 1, times.back() + 1};
  for (int64_t t : times) {
    queries.push_back(t);
    queries.push_back(t - 1);
    queries.push_back(t + 1);
  }
  for (int i = 0; i < 200; ++i) queries.push_back(wide(rng));
  for (int i = 0; i < 50; ++i) queries.push_back(near_epoch(rng));

  for (int64_t t : queries) {
    SCOPED_TRACE(FormatTime(t));
    const Event* want = BruteLiveAt(events, t);
    auto got = LiveAt(*store_, "prod", t);
    if (want == nullptr) {
      ASSERT_FALSE(got.ok());
      EXPECT_TRUE(got.status().IsNotFound()) << got.status().ToString();
    } else {
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(got->seq, want->seq);
    }
    // NAME@TIME, through the revision parser (whole seconds: what a user types).
    if (t % 1000000 == 0) {
      auto rev = ResolveRevision(*store_, "prod@" + FormatTime(t));
      if (want == nullptr) {
        EXPECT_FALSE(rev.ok());
      } else {
        ASSERT_TRUE(rev.ok()) << rev.status().ToString();
        EXPECT_EQ(*rev, want->to);
      }
    }
  }

  for (int i = 0; i < 200; ++i) {
    int64_t a = queries[rng() % queries.size()], b = queries[rng() % queries.size()];
    if (a > b) std::swap(a, b);
    std::optional<int64_t> since = a, until = b;
    if (i % 5 == 0) since.reset();
    if (i % 7 == 0) until.reset();
    std::vector<uint64_t> want;
    for (const auto& e : events) {
      if ((!since || e.time_micros >= *since) && (!until || e.time_micros <= *until)) {
        want.push_back(e.seq);
      }
    }
    auto got = ReadEvents(*store_, "prod", since, until);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    std::vector<uint64_t> seqs;
    for (const auto& e : *got) seqs.push_back(e.seq);
    EXPECT_EQ(seqs, want) << "since " << (since ? FormatTime(*since) : "-") << " until "
                          << (until ? FormatTime(*until) : "-");
  }
}

// The case that was wrong in format 1: before the first event, nothing was live.
TEST_F(TimeIndexTest, NothingWasLiveBefore1970WhenEveryEventIsLater) {
  for (int i = 0; i < 2; ++i) {
    clock_.now = 1795528980000000 + i;
    MoveOptions m;
    m.actor = "alice@test";
    m.reason = "r";
    ASSERT_TRUE(Promote(*store_, "prod", v_[i], m).ok());
  }
  auto got = LiveAt(*store_, "prod", *ParseTime("1969-12-31T23:59:59Z"));
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsNotFound());
  EXPECT_FALSE(ResolveRevision(*store_, "prod@1900-01-01").ok());
  auto log = ReadEvents(*store_, "prod", *ParseTime("1969-06-01T00:00:00Z"), std::nullopt);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->size(), 2u);
}

}  // namespace
}  // namespace cairn
