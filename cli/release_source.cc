#include "release_source.h"

#include <fmt/format.h>

namespace cairn::cli {

void ReleaseSourceFlags::Register(CLI::App* cmd) {
  cmd->add_option("dir", dir, "Release directory (or --git)");
  cmd->add_option("--git", git, "Read the release from this git repository (a path; bare or not)");
  cmd->add_option("--rev", rev, "With --git: the commit, branch or tag to read (resolved once)");
  cmd->add_option("--subdir", subdir, "With --git: the release root inside the commit's tree");
}

Status ReleaseSourceFlags::Apply(CreateSnapshotOptions* options) const {
  if (!git.empty()) {
    if (!dir.empty()) {
      return Status::Usage(fmt::format(
          "give a release directory or --git REPO, not both (got {} and --git {})", dir, git));
    }
    if (rev.empty()) {
      return Status::Usage(
          "--git needs --rev REV: the commit, branch or tag to snapshot (e.g. --rev main)");
    }
    options->git = GitReleaseSource{git, rev, subdir};
    return Status::OK();
  }
  if (!rev.empty() || !subdir.empty()) {
    return Status::Usage(fmt::format("{} needs --git REPO", rev.empty() ? "--subdir" : "--rev"));
  }
  if (dir.empty()) {
    return Status::Usage("give a release directory, or --git REPO --rev REV");
  }
  options->dir = dir;
  return Status::OK();
}

std::string GitSourceLine(const Json& source) {
  if (!source.is_object() || source.value("type", "") != "git") return "";
  std::string line =
      fmt::format("git {} commit {}", source.value("repo", "?"), source.value("commit", "?"));
  if (source.contains("ref") && source["ref"].is_string()) {
    line += fmt::format(" ({})", source["ref"].get<std::string>());
  }
  std::string subdir = source.value("subdir", "");
  if (!subdir.empty()) line += fmt::format(", subdir {}", subdir);
  if (source.value("signed", false)) line += ", signed (signature not verified)";
  return line;
}

}  // namespace cairn::cli
