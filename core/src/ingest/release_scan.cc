#include "ingest/release_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "ingest/release_layout.h"
#include "util/fs_util.h"

namespace cairn {
namespace {

struct Walker {
  ReleaseTree* tree;
  std::vector<Problem>* problems;

  void Add(const std::string& path, const char* rule, std::string message) {
    problems->push_back(Problem{path, "", rule, std::move(message)});
  }

  Status Walk(int dir_fd, std::vector<std::string>& parts) {
    DIR* d = fdopendir(dir_fd);
    if (d == nullptr) {
      int err = errno;
      ::close(dir_fd);
      return ErrnoStatus("read directory", tree->root + "/" + JoinPath(parts), err);
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
    std::string rel = JoinPath(parts);
    if (auto why = BadEntryName(name)) {
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
    auto place = PlaceFile(parts);
    if (!place) {
      Add(rel, "unknown-entry", UnknownEntryMessage(parts, /*is_dir=*/false));
      return Status::OK();
    }
    tree->files.push_back(ReleaseFile{rel, place->kind, place->is_snapshot_json,
                                      place->knowledge_base, static_cast<uint64_t>(st.st_size), st,
                                      ""});
    return Status::OK();
  }

  Status VisitDir(int parent_fd, const std::string& name, std::vector<std::string>& parts,
                  const std::string& rel) {
    if (!DirectoryAllowed(parts)) {
      Add(rel, "unknown-entry", UnknownEntryMessage(parts, /*is_dir=*/true));
      return Status::OK();
    }
    if (static_cast<int>(parts.size()) > kMaxReleaseDepth) {
      Add(rel, "too-deep", fmt::format("directories nested deeper than {}", kMaxReleaseDepth));
      return Status::OK();
    }
    if (parts.size() == 2 && parts[0] == "knowledge") tree->knowledge_dirs.push_back(name);
    int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open directory", tree->root + "/" + rel, errno);
    return Walk(fd, parts);
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
