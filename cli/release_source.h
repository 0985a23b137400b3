// Where a release comes from on the command line: a directory (DIR) or a commit of a git
// repository (--git REPO --rev REV [--subdir PATH]), for `snapshot create` and `validate`.
#pragma once

#include <cairn/ingest.h>

#include <CLI/CLI.hpp>
#include <string>

namespace cairn::cli {

struct ReleaseSourceFlags {
  std::string dir;
  std::string git;
  std::string rev;
  std::string subdir;

  // Adds DIR and --git/--rev/--subdir to `cmd`.
  void Register(CLI::App* cmd);
  // Fills options.dir or options.git; kUsage unless exactly one source is given and --rev
  // comes with --git.
  Status Apply(CreateSnapshotOptions* options) const;
};

// "from git REPO commit ID (REF), subdir PATH, signed (not verified)" for a git source, ""
// for any other.
std::string GitSourceLine(const Json& source);

}  // namespace cairn::cli
