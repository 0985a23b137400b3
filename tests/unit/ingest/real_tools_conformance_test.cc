// Real function definitions from the Berkeley Function-Calling Leaderboard
// (<conformance>/real-tools, not copied into this repository; its README.md says where they
// come from and how each verdict was judged): every file expected.tsv marks `accept` is
// accepted, every `refuse` file refused — for the reason the TSV gives, when it gives one.
// Skipped, saying so, when the folder is not present.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "support/sandbox.h"
#include "support/validate_file.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> SplitOn(const std::string& text, const std::string& sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t end = text.find(sep, pos);
    out.push_back(text.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
    if (end == std::string::npos) return out;
    pos = end + sep.size();
  }
}

std::string ReadConformanceFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool HasProblem(const std::vector<Problem>& problems, const std::string& rule,
                const std::function<bool(const Problem&)>& also) {
  for (const auto& p : problems) {
    if (p.rule == rule && also(p)) return true;
  }
  return false;
}

// The causes a `reason` names ("...; name-has-dot,type-float", "enum values contradict
// declared type at /parameters/properties/x"), each checked against the problems found.
void ExpectReasonsFound(const std::string& file, const std::string& reason,
                        const std::vector<Problem>& problems) {
  const std::string kEnum = "enum values contradict declared type at ";
  for (const auto& part : SplitOn(reason, "; ")) {
    if (part.starts_with(kEnum)) {
      std::string at = part.substr(kEnum.size());
      EXPECT_TRUE(HasProblem(problems, "schema-enum",
                             [&](const Problem& p) { return p.location.starts_with(at + "/"); }))
          << file << ": expected schema-enum at " << at;
      continue;
    }
    for (const auto& cause : SplitOn(part, ",")) {
      if (cause == "name-has-dot") {
        EXPECT_TRUE(HasProblem(problems, "tool-schema",
                               [](const Problem& p) { return p.location == "/name"; }))
            << file << ": expected tool-schema at /name";
      } else if (cause.starts_with("type-")) {
        std::string quoted = "\"" + cause.substr(5) + "\" is not a JSON Schema type";
        EXPECT_TRUE(HasProblem(
            problems, "schema-type",
            [&](const Problem& p) { return p.message.find(quoted) != std::string::npos; }))
            << file << ": expected schema-type for " << quoted;
      }
    }
  }
}

TEST(RealToolsConformance, EveryAcceptFileIsAcceptedAndEveryRefuseFileRefusedForItsReason) {
  std::string dir = testing::ConformancePath("real-tools");
  if (!fs::is_regular_file(dir + "/expected.tsv")) {
    std::cout << "[  SKIPPED ] real-tools conformance data not found at " << dir
              << " (set CAIRN_CONFORMANCE_DIR to the conformance folder)\n";
    GTEST_SKIP() << "real-tools not found at " << dir;
  }
  std::istringstream tsv(ReadConformanceFile(dir + "/expected.tsv"));
  std::string line;
  std::getline(tsv, line);
  ASSERT_TRUE(line.starts_with("file\texpected\t")) << line;
  int accepted = 0, refused = 0;
  while (std::getline(tsv, line)) {
    if (line.empty()) continue;
    auto cols = SplitOn(line, "\t");
    ASSERT_GE(cols.size(), 5u) << line;
    const std::string& file = cols[0];
    std::string tool_path = "tools/" + fs::path(file).filename().string();
    std::vector<Problem> problems = testing::ValidateFile(ComponentKind::kTool, tool_path,
                                                          ReadConformanceFile(dir + "/" + file))
                                        .problems;
    if (cols[1] == "accept") {
      EXPECT_TRUE(problems.empty()) << file << " must be accepted: " << problems[0].ToString();
      ++accepted;
    } else {
      ASSERT_EQ(cols[1], "refuse") << line;
      EXPECT_FALSE(problems.empty()) << file << " must be refused (" << cols[4] << ")";
      ExpectReasonsFound(file, cols[4], problems);
      ++refused;
    }
  }
  EXPECT_EQ(accepted, 489);
  EXPECT_EQ(refused, 513);
}

}  // namespace
}  // namespace cairn
