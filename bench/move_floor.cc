// The floor under a pointer move in cairn's database (deploy_bench.sh): what any move must do
// whatever cairn computes around it — start a process that links core, open the database
// read-write with the options every command uses (the acknowledgement checks included),
// read one key, write one synced, acknowledged batch of three keys (the pointer, an event,
// an index entry), fold the logs when they have grown (as a move does), close. No revision, no
// policy, no signature, no hooks, no CLI.
//
//   cairn-move-floor STORE-DIR
//   cairn-move-floor --start-only     (exits at once: the cost of starting such a process)
//
// STORE-DIR is a store made by `cairn init` for the benchmark: the keys written are scratch
// keys (`move-floor…`) in its deployments, events and event-time tables.
#include <fmt/format.h>

#include <charconv>
#include <string>
#include <string_view>

#include "port/rocks.h"
#include "store/schema.h"

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--start-only") return 0;
  if (argc != 2) {
    fmt::print(stderr, "usage: cairn-move-floor STORE-DIR\n");
    return 2;
  }
  const cairn::Schema& schema = cairn::Schema::Format2();
  std::string path = fmt::format("{}/{}", argv[1], schema.db_dir());
  cairn::DbOpenOptions options;
  auto db = cairn::Db::Open(path, schema, options);
  if (!db.ok()) {
    fmt::print(stderr, "cairn-move-floor: {}\n", db.status().ToString());
    return 1;
  }
  auto last = (*db)->Get(cairn::Table::kDeployments, "move-floor");
  if (!last.ok()) {
    fmt::print(stderr, "cairn-move-floor: {}\n", last.status().ToString());
    return 1;
  }
  uint64_t seq = 0;  // the last batch's number, as this tool wrote it (0: none yet)
  if (*last) std::from_chars((*last)->data(), (*last)->data() + (*last)->size(), seq);
  seq += 1;
  std::string value = std::to_string(seq);
  cairn::Batch batch(**db);
  batch.Put(cairn::Table::kDeployments, "move-floor", value);
  batch.Put(cairn::Table::kEvents, "move-floor-" + value, std::string(300, 'e'));
  batch.Put(cairn::Table::kEventTime, "move-floor-" + value, "");
  cairn::Status s = (*db)->Write(batch, /*sync=*/true);
  if (s.ok()) s = (*db)->Checkpoint();  // as a move does: logs folded now and then
  cairn::Status closed = (*db)->Close();
  if (!s.ok() || !closed.ok()) {
    fmt::print(stderr, "cairn-move-floor: {}\n", (s.ok() ? closed : s).ToString());
    return 1;
  }
  return 0;
}
