// A test fixture base for tests that make real repositories with the git command.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/sandbox.h"

namespace cairn::testing {

class GitTest : public ::testing::Test {
 protected:
  // Runs git (RunGit) and expects it to succeed.
  RunResult Git(const std::vector<std::string>& args, const std::string& stdin_data = "") {
    auto r = RunGit(box_, args, stdin_data);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }
  // Its standard output without the trailing newlines.
  std::string Out(const std::vector<std::string>& args, const std::string& stdin_data = "") {
    std::string out = Git(args, stdin_data).out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  Sandbox box_;
};

}  // namespace cairn::testing
