// Walking a release directory: every entry is classified by where it lives, without
// following a symlink (openat + fstatat with AT_SYMLINK_NOFOLLOW from the root's fd).
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

#include "cairn/snapshot.h"
#include "cairn/validate.h"

namespace cairn {

struct ReleaseFile {
  std::string path;  // relative, '/'-separated
  ComponentKind kind = ComponentKind::kConfig;
  bool is_snapshot_json = false;  // the optional root snapshot.json (a config component)
  std::string knowledge_base;     // for documents under knowledge/<name>/: <name>
  uint64_t size = 0;
  struct stat st {};    // directory releases: as scanned
  std::string git_oid;  // git releases: the blob, 40 hex digits
};

struct ReleaseTree {
  // A directory: absolute, symlinks resolved. A git release: how it is named in messages
  // (REPO@<commit>[:SUBDIR]).
  std::string root;
  int root_fd = -1;                         // directories: owned; closed by the destructor
  std::vector<ReleaseFile> files;           // sorted by path
  std::vector<std::string> knowledge_dirs;  // names of knowledge/<name>/ directories
  ReleaseTree() = default;
  ReleaseTree(const ReleaseTree&) = delete;
  ReleaseTree& operator=(const ReleaseTree&) = delete;
  ~ReleaseTree();
};

// Scans `dir`. Problems (symlink, special-file, bad-name, unknown-entry, too-deep) are
// appended; a directory that cannot be opened at all is an error Status.
Status ScanRelease(const std::string& dir, ReleaseTree* tree, std::vector<Problem>* problems);

// Opens `file` for reading relative to the tree's root without following symlinks in any
// component, and checks it is still the inode that was scanned. Returns the fd.
Result<int> OpenReleaseFile(const ReleaseTree& tree, const ReleaseFile& file);

}  // namespace cairn
