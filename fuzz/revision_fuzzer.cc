// Revisions as a user types them (`show REV`, `diff REV REV`, `cat REV:PATH`): a full id, a
// hex prefix, a deployment name, NAME@{N}, NAME@TIME. Resolved against a small store made
// once per process (two snapshots, three moves on prod): any text resolves to a snapshot the
// store holds or is refused with a message, never a crash.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cairn/deployment.h"
#include "cairn/ingest.h"
#include "cairn/revision.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"
#include "fuzz_input.h"

namespace {

std::unique_ptr<cairn::Store>* g_store = nullptr;
std::string* g_root = nullptr;  // removed at exit

void Die(const cairn::Status& s) {
  std::fprintf(stderr, "revision_fuzzer set-up: %s\n", s.ToString().c_str());
  std::abort();
}

cairn::SnapshotId MakeSnapshot(cairn::Store& store, const std::string& root, const char* text) {
  namespace fs = std::filesystem;
  fs::create_directories(root + "/prompts");
  std::ofstream(root + "/prompts/system.md") << text;
  cairn::CreateSnapshotOptions o;
  o.dir = root;
  o.message = text;
  o.author = "fuzz@localhost";
  o.app = "fuzz";
  std::vector<cairn::Problem> problems;
  auto r = cairn::CreateSnapshot(store, o, &problems);
  if (!r.ok()) Die(r.status());
  return r->snapshot.id;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char dir[] = "/tmp/cairn-revision-fuzz-XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  std::string root = dir;
  g_root = new std::string(root);
  std::atexit([] { std::filesystem::remove_all(*g_root); });
  auto store = cairn::Store::Init(root + "/.cairn");
  if (!store.ok()) Die(store.status());
  (*store)->Close().PermitUnchecked();
  cairn::StoreOpenOptions rw;
  rw.read_only = false;
  auto writer = cairn::Store::Open(root + "/.cairn", rw);
  if (!writer.ok()) Die(writer.status());
  auto a = MakeSnapshot(**writer, root + "/a", "one\n");
  auto b = MakeSnapshot(**writer, root + "/b", "two\n");
  cairn::MoveOptions move;
  move.actor = "fuzz";
  move.reason = "fuzz";
  for (const auto& id : {a, b, a}) {
    auto e = cairn::Promote(**writer, "prod", id, move);
    if (!e.ok()) Die(e.status());
  }
  if (auto s = (*writer)->Close(); !s.ok()) Die(s);
  auto reader = cairn::Store::Open(root + "/.cairn", cairn::StoreOpenOptions{});
  if (!reader.ok()) Die(reader.status());
  g_store = new std::unique_ptr<cairn::Store>(std::move(*reader));
  std::filesystem::remove_all(root + "/a");
  std::filesystem::remove_all(root + "/b");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = cairn::fuzz::Split(data, size);
  auto id = cairn::ResolveRevision(**g_store, in.whole);
  if (!id.ok() && id.status().message().empty()) std::abort();
  if (id.ok()) {
    auto has = cairn::HasSnapshot(**g_store, *id);
    if (!has.ok() || !*has) std::abort();
  }
  return 0;
}
