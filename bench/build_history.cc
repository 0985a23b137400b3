// cairn-build-history: gives a deployment a long history for benchmarks, through the library.
//
//   cairn-build-history STORE --events N --snapshot REV --snapshot REV [--deployment prod]
//                       [--step-seconds 60]
//
// Appends N promotions to DEPLOYMENT with core's Promote() — the same code path, hash chain
// and index entries as `cairn promote` — alternating between the given snapshots, so the
// rollback stack is N deep. Event times are one step apart and end before the present, so
// later real promotions continue the history. The store is opened as a bulk load
// (StoreOpenOptions::sync_each_write = false): a million separately synced batches would
// take hours; Close() flushes and syncs everything at the end.
//
// Prints one line: events=N first=TIME middle=TIME last=TIME (RFC 3339), where `middle` lies
// between events N/2 and N/2+1 (for `cairn live --at`).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <vector>

#include "cairn/clock.h"
#include "cairn/deployment.h"
#include "cairn/revision.h"
#include "cairn/store.h"

namespace {

// A clock that stands still until told to step: one move reads it several times (the time
// checks, then the event) and must see one instant.
class SteppingClock : public cairn::Clock {
 public:
  SteppingClock(int64_t start, int64_t step) : now_(start), step_(step) {}
  int64_t NowMicros() const override { return now_.load(); }
  void Step() { now_.fetch_add(step_); }

 private:
  std::atomic<int64_t> now_;
  int64_t step_;
};

int Fail(const cairn::Status& s) {
  fmt::print(stderr, "cairn-build-history: {}\n", s.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string store_path;
  uint64_t events = 0;
  std::vector<std::string> revs;
  std::string deployment = "prod";
  int64_t step_seconds = 60;
  CLI::App app{"Append N promotions to a deployment (bulk load, for benchmarks)"};
  app.add_option("store", store_path, "Store directory (made with 'cairn init')")->required();
  app.add_option("--events", events, "Number of events to append")->required();
  app.add_option("--snapshot", revs, "Snapshots to alternate between (at least two)")->required();
  app.add_option("--deployment", deployment, "Deployment to move");
  app.add_option("--step-seconds", step_seconds, "Seconds between events")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));
  CLI11_PARSE(app, argc, argv);
  if (revs.size() < 2) {
    fmt::print(stderr, "cairn-build-history: give at least two --snapshot\n");
    return 2;
  }

  const int64_t step = step_seconds * 1'000'000;
  // The history ends one step before now (the last event is the latest time handed out).
  const int64_t start = cairn::SystemClock().NowMicros() - static_cast<int64_t>(events + 1) * step;
  SteppingClock clock(start, step);
  cairn::StoreOpenOptions open;
  open.read_only = false;
  open.clock = &clock;
  open.sync_each_write = false;
  auto store = cairn::Store::Open(store_path, open);
  if (!store.ok()) return Fail(store.status());

  auto name = cairn::DeploymentName::Parse(deployment);
  if (!name.ok()) return Fail(name.status());
  std::vector<cairn::SnapshotId> ids;
  for (const auto& rev : revs) {
    auto id = cairn::ResolveRevision(**store, rev);
    if (!id.ok()) return Fail(id.status());
    ids.push_back(*id);
  }

  auto t0 = std::chrono::steady_clock::now();
  int64_t first = 0, middle = 0, last = 0;
  cairn::MoveOptions move;
  move.actor = "bench@build-history";
  move.reason = "benchmark history";
  for (uint64_t i = 0; i < events; ++i) {
    clock.Step();
    auto e = cairn::Promote(**store, *name, ids[i % ids.size()], move);
    if (!e.ok() && e.status().code() == cairn::Code::kConflict) {
      // The deployment already shows this snapshot (a history being extended): skip one.
      e = cairn::Promote(**store, *name, ids[(i + 1) % ids.size()], move);
    }
    if (!e.ok()) return Fail(e.status());
    if (i == 0) first = e->time_micros;
    if (i + 1 == events / 2) middle = e->time_micros + step / 2;
    last = e->time_micros;
    if (events >= 100000 && (i + 1) % (events / 10) == 0) {
      fmt::print(stderr, "  {} events ({:.0f} s)\n", i + 1,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  cairn::Status closed = (*store)->Close();
  if (!closed.ok()) return Fail(closed);
  if (events < 2) middle = first;
  fmt::print("events={} first={} middle={} last={}\n", events, cairn::FormatTime(first),
             cairn::FormatTime(middle), cairn::FormatTime(last));
  return 0;
}
