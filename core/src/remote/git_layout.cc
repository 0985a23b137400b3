#include "remote/git_layout.h"

#include <fmt/format.h>

#include <set>

#include "cairn/clock.h"
#include "cairn/object.h"

namespace cairn {

namespace {
constexpr std::string_view kManifestPath = ".cairn/manifest.json";
constexpr std::string_view kEventFile = "event.json";
constexpr std::string_view kObjectsDir = "objects/";
constexpr const char* kEmail = "cairn";

bool PlainRefByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Commits carry whole seconds; a record before 1970 is dated 0 in git (its own time is in
// the record).
int64_t GitSeconds(int64_t micros) { return micros > 0 ? micros / 1000000 : 0; }

bool IsDigestHex(std::string_view name) {
  auto d = Digest::Parse(name, /*allow_bare=*/true);
  return d.ok() && d->Hex() == name;
}

std::string Author(const std::string& actor) { return actor.empty() ? "cairn" : actor; }

// A path a release may hold: '/'-separated non-empty parts, none "." or ".." or ".git"
// (any case), no backslash or control byte, not absolute.
bool SafeReleasePath(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    std::string lower;
    for (char c : part) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == 0x7f) return false;
      lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
    if (lower == ".git" || lower == ".cairn") return false;
    start = end + 1;
  }
  return true;
}

Status Bad(std::string_view what, std::string_view commit, std::string_view rule) {
  return Status::Corruption(
      fmt::format("{} (git commit {}): {}", what, commit.substr(0, 12), rule));
}

}  // namespace

std::string FetchedPrefix(std::string_view remote) {
  return fmt::format("refs/cairn-fetched/{}/", remote);
}

std::string SnapshotRef(const SnapshotId& id) { return std::string(kSnapshotRefPrefix) + id.Hex(); }

std::string DeploymentRef(std::string_view deployment) {
  std::string out(kDeploymentRefPrefix);
  for (char c : deployment) {
    if (PlainRefByte(c)) {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::optional<std::string> DeploymentOfRef(std::string_view ref) {
  if (!ref.starts_with(kDeploymentRefPrefix)) return std::nullopt;
  std::string_view enc = ref.substr(kDeploymentRefPrefix.size());
  std::string out;
  for (size_t i = 0; i < enc.size(); ++i) {
    if (PlainRefByte(enc[i])) {
      out.push_back(enc[i]);
      continue;
    }
    if (enc[i] != '%' || i + 2 >= enc.size()) return std::nullopt;
    int hi = HexValue(enc[i + 1]), lo = HexValue(enc[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    char c = static_cast<char>(hi * 16 + lo);
    if (PlainRefByte(c)) return std::nullopt;  // one spelling per name
    out.push_back(c);
    i += 2;
  }
  if (out.empty() || DeploymentRef(out) != ref) return std::nullopt;
  return out;
}

// ---- writing ----

Result<std::string> GitWriter::SnapshotCommit(const SnapshotId& id) {
  const std::string ref = SnapshotRef(id);
  CAIRN_ASSIGN_OR_RETURN(auto cached, repo_.ReadRef(ref));
  if (cached) return *cached;
  CAIRN_ASSIGN_OR_RETURN(Snapshot s, LoadSnapshot(store_, id));
  CAIRN_ASSIGN_OR_RETURN(std::string manifest, CanonicalManifest(s));
  std::vector<GitTreeWrite> entries;
  CAIRN_ASSIGN_OR_RETURN(std::string manifest_blob, repo_.WriteBlob(manifest));
  entries.push_back({std::string(kManifestPath), manifest_blob, 0100644});
  for (const Component& c : s.components) {
    std::string bytes;
    bytes.reserve(c.size);
    CAIRN_RETURN_IF_ERROR(StreamObject(store_, c.digest, [&](std::string_view piece) {
      bytes.append(piece);
      return Status::OK();
    }));
    CAIRN_ASSIGN_OR_RETURN(std::string blob, repo_.WriteBlob(bytes));
    entries.push_back({c.path, blob, 0100644});
  }
  CAIRN_ASSIGN_OR_RETURN(std::string tree, repo_.WriteTree(entries));
  std::string message = fmt::format("snapshot {}{}{}\n\nid: {}\napp: {}\n", id.Short(),
                                    s.message.empty() ? "" : ": ", s.message, id.Hex(), s.app);
  CAIRN_ASSIGN_OR_RETURN(
      std::string commit,
      repo_.WriteCommit(tree, {}, Author(s.author), kEmail, GitSeconds(s.created_micros), message));
  CAIRN_RETURN_IF_ERROR(repo_.SetRef(ref, commit, std::nullopt, "cairn snapshot"));
  return commit;
}

Result<std::string> GitWriter::ChainCommit(std::string_view bytes,
                                           const std::optional<std::string>& parent,
                                           const std::optional<std::string>& snapshot_commit,
                                           const std::string& actor, int64_t time_micros,
                                           const std::string& message) {
  CAIRN_ASSIGN_OR_RETURN(std::string blob, repo_.WriteBlob(bytes));
  CAIRN_ASSIGN_OR_RETURN(std::string tree,
                         repo_.WriteTree({{std::string(kEventFile), blob, 0100644}}));
  std::vector<std::string> parents;
  if (parent) parents.push_back(*parent);
  if (snapshot_commit) parents.push_back(*snapshot_commit);
  return repo_.WriteCommit(tree, parents, Author(actor), kEmail, GitSeconds(time_micros), message);
}

Result<std::string> GitWriter::EvidenceCommit(std::string_view kind, const SnapshotId& snapshot,
                                              std::string_view value,
                                              const std::vector<Digest>& objects,
                                              const std::optional<std::string>& parent,
                                              const std::string& actor, int64_t time_micros,
                                              const std::string& message) {
  CAIRN_ASSIGN_OR_RETURN(std::string snapshot_commit, SnapshotCommit(snapshot));
  Json doc = {{"kind", kind}, {"snapshot", snapshot.Hex()}, {"value", std::string(value)}};
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(doc));
  std::vector<GitTreeWrite> entries;
  CAIRN_ASSIGN_OR_RETURN(std::string blob, repo_.WriteBlob(bytes));
  entries.push_back({"evidence.json", blob, 0100644});
  for (const Digest& d : objects) {
    CAIRN_ASSIGN_OR_RETURN(std::string data, ReadObject(store_, d, kMaxPulledBlob));
    CAIRN_ASSIGN_OR_RETURN(std::string object_blob, repo_.WriteBlob(data));
    entries.push_back({std::string(kObjectsDir) + d.Hex(), object_blob, 0100644});
  }
  CAIRN_ASSIGN_OR_RETURN(std::string tree, repo_.WriteTree(entries));
  std::vector<std::string> parents;
  if (parent) parents.push_back(*parent);
  parents.push_back(snapshot_commit);
  return repo_.WriteCommit(tree, parents, Author(actor), kEmail, GitSeconds(time_micros), message);
}

// ---- reading ----

Result<std::vector<ChainLink>> ReadChain(GitRepository& repo, const std::string& tip,
                                         const std::string& stop, std::string_view file,
                                         bool with_snapshot, bool evidence, std::string_view what,
                                         size_t limit) {
  std::vector<ChainLink> links;
  std::string at = tip;
  std::set<std::string> seen;
  while (!at.empty() && at != stop) {
    if (!seen.insert(at).second || links.size() >= kMaxChainLength) {
      return Bad(what, at, "the chain loops or is longer than cairn reads");
    }
    auto commit = repo.ReadCommit(at);
    if (!commit.ok()) {
      if (commit.status().IsNotFound() || commit.status().code() == Code::kInvalidInput) {
        return Bad(what, at, commit.status().message());
      }
      return commit.status();
    }
    const bool first = commit->parents.size() == (with_snapshot ? 1u : 0u);
    const size_t want = with_snapshot ? 2 : 1;
    if (!first && commit->parents.size() != want) {
      return Bad(what, at,
                 fmt::format("a chain commit has {} parents (cairn writes {} or {})",
                             commit->parents.size(), want - 1, want));
    }
    GitCommit as_read{commit->id, commit->tree, "", false};
    CAIRN_ASSIGN_OR_RETURN(auto entries, repo.ListTree(as_read, "", GitTreeLimits{2, 64}));
    ChainLink link;
    link.commit = at;
    if (with_snapshot) link.snapshot_commit = commit->parents.back();
    std::string file_blob;
    for (const auto& e : entries) {
      if (e.path == file && e.type == GitEntryType::kFile) {
        file_blob = e.oid;
      } else if (evidence && e.path == "objects" && e.type == GitEntryType::kTree && e.depth == 0) {
        continue;
      } else if (evidence && e.depth == 1 && e.path.starts_with(kObjectsDir) &&
                 e.type == GitEntryType::kFile && IsDigestHex(e.name)) {
        link.objects[e.name] = e.oid;
      } else {
        return Bad(what, at,
                   fmt::format("its tree holds \"{}\" ({}), which a cairn {} commit never has",
                               e.path, GitEntryTypeName(e.type), what));
      }
    }
    if (file_blob.empty()) return Bad(what, at, fmt::format("its tree has no {}", file));
    CAIRN_ASSIGN_OR_RETURN(link.bytes, repo.ReadBlob(file_blob, kMaxPulledBlob));
    links.push_back(std::move(link));
    at = first ? std::string() : commit->parents[0];
    if (limit != 0 && links.size() >= limit) break;
  }
  if (!stop.empty() && at != stop && (limit == 0 || links.size() < limit)) {
    return Bad(what, tip,
               fmt::format("the chain does not lead back to {}, the tip cairn verified last: it "
                           "was rewritten",
                           stop.substr(0, 12)));
  }
  return std::vector<ChainLink>(links.rbegin(), links.rend());
}

Result<SnapshotCommitRead> ReadSnapshotCommit(GitRepository& repo, const std::string& commit_id,
                                              const SnapshotId& id) {
  const std::string what = "snapshot " + id.Short();
  auto commit = repo.ReadCommit(commit_id);
  if (!commit.ok()) return Bad(what, commit_id, commit.status().message());
  if (!commit->parents.empty()) return Bad(what, commit_id, "a snapshot commit has parents");
  GitCommit as_read{commit->id, commit->tree, "", false};
  auto entries = repo.ListTree(as_read, "");
  if (!entries.ok()) return Bad(what, commit_id, entries.status().message());
  SnapshotCommitRead out;
  std::string manifest_blob;
  std::map<std::string, const GitTreeEntry*> files;
  std::set<std::string> dirs;
  for (const auto& e : *entries) {
    if (e.pruned) return Bad(what, commit_id, "its tree nests deeper than a release may");
    if (e.type == GitEntryType::kTree) {
      dirs.insert(e.path);
      continue;
    }
    if (e.type != GitEntryType::kFile) {
      return Bad(what, commit_id,
                 fmt::format("\"{}\" is a {}: a snapshot holds plain files only", e.path,
                             GitEntryTypeName(e.type)));
    }
    if (e.path == kManifestPath) {
      manifest_blob = e.oid;
    } else {
      files[e.path] = &e;
    }
  }
  if (manifest_blob.empty()) return Bad(what, commit_id, "its tree has no .cairn/manifest.json");
  CAIRN_ASSIGN_OR_RETURN(out.manifest, repo.ReadBlob(manifest_blob, kMaxPulledBlob));
  if (Digest::Of(out.manifest) != id.digest()) {
    return Bad(what, commit_id, "its manifest does not hash to the snapshot id");
  }
  auto parsed = SnapshotFromManifest(id, out.manifest);
  if (!parsed.ok()) return Bad(what, commit_id, parsed.status().message());
  out.snapshot = std::move(*parsed);
  std::set<std::string> needed_dirs = {".cairn"};
  for (const Component& c : out.snapshot.components) {
    if (!SafeReleasePath(c.path)) {
      return Bad(what, commit_id,
                 fmt::format("component path \"{}\" is not a safe relative path", c.path));
    }
    auto it = files.find(c.path);
    if (it == files.end()) {
      return Bad(what, commit_id, fmt::format("component {} is missing from the tree", c.path));
    }
    if (it->second->size != c.size) {
      return Bad(what, commit_id,
                 fmt::format("{} is {} bytes in the tree, {} in the manifest", c.path,
                             it->second->size, c.size));
    }
    out.blob_of[c.path] = it->second->oid;
    files.erase(it);
    for (size_t slash = c.path.find('/'); slash != std::string::npos;
         slash = c.path.find('/', slash + 1)) {
      needed_dirs.insert(c.path.substr(0, slash));
    }
  }
  if (!files.empty()) {
    return Bad(what, commit_id,
               fmt::format("its tree holds \"{}\", which the manifest does not list",
                           files.begin()->first));
  }
  for (const auto& d : dirs) {
    if (!needed_dirs.contains(d)) {
      return Bad(what, commit_id,
                 fmt::format("its tree holds a directory \"{}\" the manifest does not need", d));
    }
  }
  return out;
}

}  // namespace cairn
