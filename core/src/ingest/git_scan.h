// Listing a release from a commit's tree (a --subdir below it as the root): the layout
// rules of a directory release (release_layout.h), plus the entries only a git tree can
// hold, each refused with its rule: symlinks ("symlink", mode 120000), submodules
// ("submodule", gitlinks), other modes ("bad-mode"), names that are empty, ".", "..",
// ".git" or hold a '/' ("bad-name"), and names that are one name on a case-insensitive or
// Unicode-normalising file system ("name-collision"). Nothing is read but tree objects and
// object headers.
#pragma once

#include <string>
#include <vector>

#include "cairn/validate.h"
#include "ingest/release_scan.h"
#include "port/git_repository.h"

namespace cairn {

// Fills tree->files (sorted by path, each with its blob id and size) from the tree of
// `commit` below `subdir` ("" = the root). Problems are appended with their paths in the
// release; a subdir that is missing or not a tree is an error Status.
Status ScanGitRelease(GitRepository& repo, const GitCommit& commit, const std::string& subdir,
                      ReleaseTree* tree, std::vector<Problem>* problems);

// The judging half of ScanGitRelease, on entries as GitRepository::ListTree lists them
// (parents before their children): fills tree->files and tree->knowledge_dirs, sorted, and
// appends a problem for every entry refused. Reads nothing (fuzz/git_tree_fuzzer.cc).
void JudgeGitTree(const std::vector<GitTreeEntry>& entries, ReleaseTree* tree,
                  std::vector<Problem>* problems);

// `subdir` as a tree path: components joined by '/', without "." or empty components.
// kUsage for "..", a backslash, a control character or a leading '/'.
Result<std::string> NormalizeGitSubdir(const std::string& subdir);

}  // namespace cairn
