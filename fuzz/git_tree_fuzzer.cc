// Importing a release from a git tree (core/src/ingest/git_scan.cc's JudgeGitTree): the
// entries a hand-made tree can hold — any bytes but NUL in a name, '/' included, any mode,
// symlinks, submodules, trees pruned at the depth limit — judged without libgit2. Each line
// of the input is one entry: a type byte, then PARENT\x01NAME (or NAME alone). Whatever the
// entries, the import never crashes, every refusal names its path and rule, and a tree it
// accepts without a problem holds only files at allowed places with allowed names, each
// path once.
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "ingest/git_scan.h"
#include "ingest/release_layout.h"
#include "port/unicode.h"

using cairn::fuzz::Check;
using cairn::fuzz::RefusedWithReason;

namespace {

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    parts.emplace_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

cairn::GitTreeEntry TreeEntry(const std::vector<std::string>& parts, size_t n) {
  cairn::GitTreeEntry e;
  e.type = cairn::GitEntryType::kTree;
  e.mode = 040000;
  e.name = parts[n - 1];
  for (size_t i = 0; i < n; ++i) e.path += (i == 0 ? "" : "/") + parts[i];
  e.depth = static_cast<uint32_t>(n - 1);
  e.oid = std::string(40, '0');
  return e;
}

// The entries as GitRepository::ListTree would list them: a tree before what it holds, so
// an entry whose parent was not listed gets its missing ancestors first.
std::vector<cairn::GitTreeEntry> Entries(std::string_view text) {
  std::vector<cairn::GitTreeEntry> out;
  std::set<std::string> trees;
  while (!text.empty() && out.size() < 512) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty()) continue;
    cairn::GitTreeEntry e;
    auto type = static_cast<uint8_t>(line[0]);
    line.remove_prefix(1);
    static constexpr cairn::GitEntryType kTypes[] = {
        cairn::GitEntryType::kFile,       cairn::GitEntryType::kFile,
        cairn::GitEntryType::kTree,       cairn::GitEntryType::kTree,
        cairn::GitEntryType::kExecutable, cairn::GitEntryType::kSymlink,
        cairn::GitEntryType::kGitlink,    cairn::GitEntryType::kOther};
    e.type = kTypes[type % 8];
    e.pruned = (type & 0x80) != 0;
    e.mode = 0100644 + type;
    size_t sep = line.find('\x01');
    std::string parent(sep == std::string_view::npos ? "" : line.substr(0, sep));
    e.name = std::string(sep == std::string_view::npos ? line : line.substr(sep + 1));
    if (e.name.find('\0') != std::string::npos) continue;  // git names cannot hold NUL
    e.path = parent.empty() ? e.name : parent + "/" + e.name;
    e.depth = parent.empty() ? 0 : static_cast<uint32_t>(Split(parent).size());
    if (!parent.empty()) {
      std::vector<std::string> parts = Split(parent);
      for (size_t n = 1; n <= parts.size(); ++n) {
        cairn::GitTreeEntry t = TreeEntry(parts, n);
        if (trees.insert(t.path).second) out.push_back(std::move(t));
      }
    }
    if (e.type == cairn::GitEntryType::kTree) trees.insert(e.path);
    e.oid = std::string(40, '0');
    e.size = line.size();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = cairn::fuzz::Split(data, size);
  cairn::ReleaseTree tree;
  std::vector<cairn::Problem> problems;
  cairn::JudgeGitTree(Entries(in.whole), &tree, &problems);
  for (const auto& p : problems) Check(!p.rule.empty() && !p.message.empty());
  std::set<std::string> paths;
  for (const auto& f : tree.files) {
    std::vector<std::string> parts = Split(f.path);
    auto place = cairn::PlaceFile(parts);
    Check(place.has_value());
    Check(place->knowledge_base == f.knowledge_base);
    if (!problems.empty()) continue;
    // Accepted: every name allowed, each path once, no two names one on a folding system.
    for (const auto& part : parts) {
      Check(!part.empty() && part != "." && part != ".." && !cairn::BadEntryName(part));
    }
    Check(paths.insert(f.path).second);
  }
  if (problems.empty()) {
    std::set<std::string> keys;
    for (const auto& f : tree.files) {
      auto key = cairn::NameCollisionKey(f.path);
      Check(key.has_value());
      Check(keys.insert(*key).second);
    }
  }
  return 0;
}
