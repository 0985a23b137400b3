// Each kind's validator on any bytes: problems or facts, never a crash, and a file with no
// problem has facts that are a JSON object. The first byte picks the file's kind and name.
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "ingest/validators.h"

namespace {

struct Case {
  cairn::ComponentKind kind;
  const char* path;
  bool knowledge_document;
};

constexpr Case kCases[] = {
    {cairn::ComponentKind::kPrompt, "prompts/system.md", false},
    {cairn::ComponentKind::kModel, "models/main.json", false},
    {cairn::ComponentKind::kTool, "tools/refund.json", false},
    {cairn::ComponentKind::kKnowledge, "knowledge/kb.json", false},
    {cairn::ComponentKind::kConfig, "config/guardrails.json", false},
    {cairn::ComponentKind::kConfig, "config/notes.txt", false},
    {cairn::ComponentKind::kKnowledge, "knowledge/kb/doc.md", true},
};
constexpr size_t kCaseCount = sizeof(kCases) / sizeof(kCases[0]);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = cairn::fuzz::Split(data, size);
  std::vector<cairn::Problem> problems;
  const cairn::KindValidator* validator = nullptr;
  std::string path = "snapshot.json";
  size_t pick = in.selector % (kCaseCount + 1);
  if (pick == kCaseCount) {
    validator = &cairn::SnapshotJsonValidator();
  } else {
    const Case& c = kCases[pick];
    path = c.path;
    validator = cairn::ValidatorFor(c.kind, c.path, c.knowledge_document);
  }
  if (validator == nullptr) return 0;
  cairn::Validated v = validator->Validate(path, in.rest, &problems);
  if (problems.empty() && !v.facts.is_object()) std::abort();
  for (const auto& p : problems) {
    if (p.path != path || p.rule.empty()) std::abort();
  }
  return 0;
}
