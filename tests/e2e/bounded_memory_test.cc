// Memory of validate and snapshot create is bounded by the JSON limits, not by the shape of
// the JSON: 16 MiB of "{}" objects would become a ~550 MB tree, and is refused (rule
// too-large) before any tree is built; 16 MiB of long strings is a small tree and accepted.
// The budget is 100 MB plus 64 MB for each of the two workers of a 2-core machine.
#include <gtest/gtest.h>

#include <fstream>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

constexpr long kBudgetKb = (100 + 2 * 64) * 1024;
constexpr size_t kNearlySixteenMiB = (16u << 20) - 16;

// A JSON array of copies of `element`, just under 16 MiB (the limit on a JSON file).
void WriteJsonArrayOf(const std::string& path, const std::string& element) {
  std::ofstream out(path, std::ios::binary);
  out << '[';
  size_t written = 1;
  for (bool first = true; written + element.size() + 2 < kNearlySixteenMiB; first = false) {
    if (!first) out << ',';
    out << element;
    written += element.size() + 1;
  }
  out << ']';
}

TEST(BoundedMemory, SixteenMibOfEmptyObjectsIsRefusedBeforeAnyTreeIsBuilt) {
  Sandbox box;
  ASSERT_EQ(Cairn(box, {"init"}).exit_code, 0);
  std::string rel = WriteMinimalRelease(box, "rel");
  WriteJsonArrayOf(rel + "/models/huge.json", "{}");
  WriteJsonArrayOf(rel + "/models/huge2.json", "{}");  // both workers busy at once
  auto validate = RunCairn({"validate", rel});
  EXPECT_EQ(validate.exit_code, 4) << validate.err;
  std::string said = validate.out + validate.err;
  // Named where the estimate crossed the limit: element 524287 of the array.
  EXPECT_NE(said.find("models/huge.json: /524287: too-large:"), std::string::npos) << said;
  EXPECT_NE(said.find("models/huge2.json: /524287: too-large:"), std::string::npos) << said;
  EXPECT_LT(validate.max_rss_kb, kBudgetKb) << "peak memory of validate";
  auto create = Cairn(box, {"snapshot", "create", rel, "-m", "huge"});
  EXPECT_EQ(create.exit_code, 4) << create.err;
  EXPECT_LT(create.max_rss_kb, kBudgetKb) << "peak memory of snapshot create";
  RecordProperty("validate_max_rss_kb", std::to_string(validate.max_rss_kb));
  RecordProperty("create_max_rss_kb", std::to_string(create.max_rss_kb));
}

TEST(BoundedMemory, SixteenMibOfLongStringsIsAcceptedWithinTheBudget) {
  Sandbox box;
  ASSERT_EQ(Cairn(box, {"init"}).exit_code, 0);
  std::string rel = WriteMinimalRelease(box, "rel");
  WriteJsonArrayOf(rel + "/config/corpus.json", "\"" + std::string(4000, 'x') + "\"");
  WriteJsonArrayOf(rel + "/config/corpus2.json", "\"" + std::string(4000, 'y') + "\"");
  auto create = Cairn(box, {"snapshot", "create", rel, "-m", "strings"});
  EXPECT_EQ(create.exit_code, 0) << create.err;
  EXPECT_LT(create.max_rss_kb, kBudgetKb) << "peak memory of snapshot create";
  RecordProperty("create_max_rss_kb", std::to_string(create.max_rss_kb));
}

}  // namespace
}  // namespace cairn::testing
