#include "ingest/git_scan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "ingest/release_layout.h"
#include "port/unicode.h"

namespace cairn {
namespace {

// What a name from a hand-made tree may not be, beyond a directory's rules.
std::optional<std::string> BadGitName(const std::string& name) {
  if (name.empty()) return "is empty";
  if (name == "." || name == "..") return "would name a directory itself or its parent";
  if (name.find('/') != std::string::npos) return "contains a '/'";
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == ".git") return "is git's own directory";
  return BadEntryName(name);
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string::npos ? slash : slash - start));
    if (slash == std::string::npos) return parts;
    start = slash + 1;
  }
}

struct GitWalker {
  ReleaseTree* tree;
  std::vector<Problem>* problems;
  std::set<std::string> refused_dirs;  // trees whose entries are not looked at
  // parent path -> collision key -> the first name seen with it
  std::map<std::string, std::map<std::string, std::string>> seen;

  void Add(const std::string& path, const char* rule, std::string message) {
    problems->push_back(Problem{path, "", rule, std::move(message)});
  }

  // Whether an ancestor of `parts` was refused (its entries are not judged).
  bool UnderRefused(const std::vector<std::string>& parts) const {
    std::string prefix;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      prefix += (i == 0 ? "" : "/") + parts[i];
      if (refused_dirs.contains(prefix)) return true;
    }
    return false;
  }

  void Visit(const GitTreeEntry& e) {
    std::vector<std::string> parts = SplitPath(e.path);
    if (UnderRefused(parts)) return;
    bool is_tree = e.type == GitEntryType::kTree;
    auto refuse = [&](const char* rule, std::string message) {
      Add(e.path, rule, std::move(message));
      if (is_tree) refused_dirs.insert(e.path);
    };
    // The name is judged alone first: a '/' inside it makes the split above meaningless.
    if (auto why = BadGitName(e.name)) {
      return refuse("bad-name", fmt::format("the name \"{}\" {}", e.name, *why));
    }
    CheckCollision(e);
    switch (e.type) {
      case GitEntryType::kSymlink:
        return refuse("symlink",
                      "symbolic links (mode 120000) are not allowed in a release: commit the "
                      "file itself");
      case GitEntryType::kGitlink:
        return refuse("submodule",
                      "a submodule (gitlink, mode 160000) is a commit of another repository; "
                      "its files are not in this tree: commit them, or snapshot that "
                      "repository");
      case GitEntryType::kOther:
        return refuse("bad-mode", fmt::format("mode {:06o} is not a file, an executable file or "
                                              "a tree",
                                              e.mode));
      case GitEntryType::kTree:
        return VisitTree(e, parts);
      case GitEntryType::kFile:
      case GitEntryType::kExecutable:
        return VisitFile(e, parts);
    }
  }

  void CheckCollision(const GitTreeEntry& e) {
    std::string parent = e.path.substr(0, e.path.size() - e.name.size());
    auto key = NameCollisionKey(e.name);
    if (!key) return;  // not UTF-8: refused as a bad name already
    auto [it, fresh] = seen[parent].emplace(*key, e.name);
    if (fresh) return;
    Add(e.path, "name-collision",
        fmt::format("\"{}\" and \"{}\" are one name on a case-insensitive or Unicode-"
                    "normalising file system (macOS, Windows): a checkout there would keep "
                    "only one",
                    it->second, e.name));
  }

  void VisitTree(const GitTreeEntry& e, const std::vector<std::string>& parts) {
    if (!DirectoryAllowed(parts)) {
      Add(e.path, "unknown-entry", UnknownEntryMessage(parts, /*is_dir=*/true));
      refused_dirs.insert(e.path);
      return;
    }
    if (e.pruned || static_cast<int>(parts.size()) > kMaxReleaseDepth) {
      Add(e.path, "too-deep", fmt::format("directories nested deeper than {}", kMaxReleaseDepth));
      refused_dirs.insert(e.path);
      return;
    }
    if (parts.size() == 2 && parts[0] == "knowledge") tree->knowledge_dirs.push_back(parts[1]);
  }

  void VisitFile(const GitTreeEntry& e, const std::vector<std::string>& parts) {
    auto place = PlaceFile(parts);
    if (!place) {
      Add(e.path, "unknown-entry", UnknownEntryMessage(parts, /*is_dir=*/false));
      return;
    }
    ReleaseFile f;
    f.path = e.path;
    f.kind = place->kind;
    f.is_snapshot_json = place->is_snapshot_json;
    f.knowledge_base = place->knowledge_base;
    f.size = e.size;
    f.git_oid = e.oid;
    tree->files.push_back(std::move(f));
  }
};

}  // namespace

Result<std::string> NormalizeGitSubdir(const std::string& subdir) {
  if (subdir.empty()) return std::string();
  if (subdir.front() == '/') {
    return Status::Usage(fmt::format(
        "--subdir {}: give a path inside the repository's tree, without a leading '/'", subdir));
  }
  std::vector<std::string> parts;
  for (const std::string& part : SplitPath(subdir)) {
    if (part.empty() || part == ".") continue;
    if (part == ".." || BadEntryName(part)) {
      return Status::Usage(fmt::format(
          "--subdir {}: \"{}\" is not allowed in a path inside the tree (no \"..\", backslashes "
          "or control characters)",
          subdir, part));
    }
    parts.push_back(part);
  }
  return JoinPath(parts);
}

Status ScanGitRelease(GitRepository& repo, const GitCommit& commit, const std::string& subdir,
                      ReleaseTree* tree, std::vector<Problem>* problems) {
  GitTreeLimits limits;
  limits.max_depth = kMaxReleaseDepth;
  CAIRN_ASSIGN_OR_RETURN(std::vector<GitTreeEntry> entries, repo.ListTree(commit, subdir, limits));
  JudgeGitTree(entries, tree, problems);
  return Status::OK();
}

void JudgeGitTree(const std::vector<GitTreeEntry>& entries, ReleaseTree* tree,
                  std::vector<Problem>* problems) {
  GitWalker w{tree, problems, {}, {}};
  for (const auto& e : entries) w.Visit(e);
  std::sort(tree->files.begin(), tree->files.end(),
            [](const ReleaseFile& a, const ReleaseFile& b) { return a.path < b.path; });
  std::sort(tree->knowledge_dirs.begin(), tree->knowledge_dirs.end());
}

}  // namespace cairn
