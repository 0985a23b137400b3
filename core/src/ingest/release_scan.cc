#include "ingest/release_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "util/fs_util.h"

namespace cairn {
namespace {

constexpr int kMaxDirDepth = 32;

struct Walker {
  ReleaseTree* tree;
  std::vector<Problem>* problems;

  void Add(const std::string& path, const char* rule, std::string message) {
    problems->push_back(Problem{path, "", rule, std::move(message)});
  }

  static std::optional<std::string> BadName(std::string_view name) {
    if (name.size() > 255) return "is longer than 255 bytes";
    if (!IsValidUtf8(name)) return "is not UTF-8";
    for (char c : name) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) return "contains a control character";
      if (c == '\\') return "contains a backslash";
    }
    return std::nullopt;
  }

  // What a file at `rel` (inside top-level directory `top`) is; nullopt = not allowed.
  struct Placement {
    ComponentKind kind;
    std::string knowledge_base;
  };
  std::optional<Placement> Place(const std::vector<std::string>& parts) {
    const std::string& top = parts[0];
    size_t depth = parts.size();
    bool json = parts.back().ends_with(".json");
    if (top == "prompts") return Placement{ComponentKind::kPrompt, ""};
    if (top == "config") return Placement{ComponentKind::kConfig, ""};
    if ((top == "models" || top == "tools") && depth == 2 && json) {
      return Placement{top == "models" ? ComponentKind::kModel : ComponentKind::kTool, ""};
    }
    if (top == "knowledge") {
      if (depth == 2 && json) return Placement{ComponentKind::kKnowledge, ""};
      if (depth >= 3) return Placement{ComponentKind::kKnowledge, parts[1]};
    }
    return std::nullopt;
  }

  bool DirAllowed(const std::vector<std::string>& parts) {
    const std::string& top = parts[0];
    if (parts.size() == 1) {
      return top == "prompts" || top == "models" || top == "tools" || top == "knowledge" ||
             top == "config";
    }
    return top == "prompts" || top == "config" || top == "knowledge";
  }

  static std::string Join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
    return out;
  }

  Status Walk(int dir_fd, std::vector<std::string>& parts) {
    DIR* d = fdopendir(dir_fd);
    if (d == nullptr) {
      int err = errno;
      ::close(dir_fd);
      return ErrnoStatus("read directory", tree->root + "/" + Join(parts), err);
    }
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    Status result;
    for (const auto& name : names) {
      parts.push_back(name);
      result = Visit(dirfd(d), name, parts);
      parts.pop_back();
      if (!result.ok()) break;
    }
    closedir(d);
    return result;
  }

  Status Visit(int parent_fd, const std::string& name, std::vector<std::string>& parts) {
    std::string rel = Join(parts);
    if (auto why = BadName(name)) {
      Add(rel, "bad-name", fmt::format("the name \"{}\" {}", name, *why));
      return Status::OK();
    }
    struct stat st {};
    if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus("stat", tree->root + "/" + rel, errno);
    }
    if (S_ISLNK(st.st_mode)) {
      Add(rel, "symlink", "symbolic links are not allowed in a release (copy the file instead)");
      return Status::OK();
    }
    if (S_ISDIR(st.st_mode)) return VisitDir(parent_fd, name, parts, rel);
    if (!S_ISREG(st.st_mode)) {
      Add(rel, "special-file",
          "only regular files and directories are allowed (this is a "
          "FIFO, socket or device)");
      return Status::OK();
    }
    if (parts.size() == 1 && name == "snapshot.json") {
      tree->files.push_back(ReleaseFile{rel, ComponentKind::kConfig, true, "",
                                        static_cast<uint64_t>(st.st_size), st});
      return Status::OK();
    }
    auto place = parts.size() == 1 ? std::nullopt : Place(parts);
    if (!place) {
      Add(rel, "unknown-entry", UnknownMessage(parts, /*is_dir=*/false));
      return Status::OK();
    }
    tree->files.push_back(ReleaseFile{rel, place->kind, false, place->knowledge_base,
                                      static_cast<uint64_t>(st.st_size), st});
    return Status::OK();
  }

  Status VisitDir(int parent_fd, const std::string& name, std::vector<std::string>& parts,
                  const std::string& rel) {
    if (!DirAllowed(parts)) {
      Add(rel, "unknown-entry", UnknownMessage(parts, /*is_dir=*/true));
      return Status::OK();
    }
    if (static_cast<int>(parts.size()) > kMaxDirDepth) {
      Add(rel, "too-deep", fmt::format("directories nested deeper than {}", kMaxDirDepth));
      return Status::OK();
    }
    if (parts.size() == 2 && parts[0] == "knowledge") tree->knowledge_dirs.push_back(name);
    int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open directory", tree->root + "/" + rel, errno);
    return Walk(fd, parts);
  }

  static std::string UnknownMessage(const std::vector<std::string>& parts, bool is_dir) {
    const std::string& top = parts[0];
    if (parts.size() == 1) {
      return fmt::format(
          "unexpected {} at the top level: a release holds snapshot.json, "
          "prompts/, models/, tools/, knowledge/ and config/",
          is_dir ? "directory" : "file");
    }
    if (top == "models" || top == "tools") {
      return fmt::format("{}/ holds only *.json files, directly (no subdirectories)", top);
    }
    if (top == "knowledge") {
      return "knowledge/ holds manifests (*.json) and one directory of documents per manifest";
    }
    return "not allowed here";
  }
};

}  // namespace

ReleaseTree::~ReleaseTree() {
  if (root_fd >= 0) ::close(root_fd);
}

Status ScanRelease(const std::string& dir, ReleaseTree* tree, std::vector<Problem>* problems) {
  char resolved[PATH_MAX];
  if (::realpath(dir.c_str(), resolved) == nullptr) {
    return ErrnoStatus("open release directory", dir, errno);
  }
  tree->root = resolved;
  tree->root_fd = ::open(resolved, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tree->root_fd < 0) return ErrnoStatus("open release directory", dir, errno);
  int walk_fd = ::dup(tree->root_fd);
  if (walk_fd < 0) return ErrnoStatus("dup", dir, errno);
  Walker w{tree, problems};
  std::vector<std::string> parts;
  CAIRN_RETURN_IF_ERROR(w.Walk(walk_fd, parts));
  std::sort(tree->files.begin(), tree->files.end(),
            [](const ReleaseFile& a, const ReleaseFile& b) { return a.path < b.path; });
  return Status::OK();
}

Result<int> OpenReleaseFile(const ReleaseTree& tree, const ReleaseFile& file) {
  // Walk the path one component at a time with O_NOFOLLOW so that a directory swapped for
  // a symlink after the scan is refused rather than followed.
  int dir = ::dup(tree.root_fd);
  if (dir < 0) return ErrnoStatus("dup", tree.root, errno);
  size_t start = 0;
  std::string full = tree.root + "/" + file.path;
  for (;;) {
    size_t slash = file.path.find('/', start);
    std::string part =
        file.path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    bool last = slash == std::string::npos;
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY);
    int next = ::openat(dir, part.c_str(), flags);
    int err = errno;
    ::close(dir);
    if (next < 0) return ErrnoStatus("open", full, err);
    dir = next;
    if (last) break;
    start = slash + 1;
  }
  struct stat st {};
  if (::fstat(dir, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != file.st.st_ino ||
      st.st_dev != file.st.st_dev) {
    ::close(dir);
    return Status::Conflict(fmt::format("{} changed while the snapshot was being taken", full));
  }
  return dir;
}

}  // namespace cairn
