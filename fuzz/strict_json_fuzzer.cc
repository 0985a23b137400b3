// Strict JSON (release files) and canonical JSON (stored records): any bytes give a value or
// problems, never a crash; what the strict parser accepts is valid JSON without duplicate
// keys, so nlohmann reads it too and its canonical form parses as canonical.
#include <cstdlib>
#include <string>
#include <vector>

#include "cairn/canonical_json.h"
#include "cairn/validate.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = cairn::fuzz::Split(data, size);
  std::vector<cairn::Problem> problems;
  auto tree = cairn::ParseStrictJson(in.whole, "fuzz.json", &problems);
  if (tree.has_value() != problems.empty()) std::abort();
  for (const auto& p : problems) {
    if (p.rule.empty() || p.ToString().empty()) std::abort();
  }
  if (tree) {
    auto canonical = cairn::CanonicalJson(*tree);
    if (canonical.ok() && !cairn::ParseCanonicalJson(*canonical, "fuzz").ok()) std::abort();
  }
  (void)cairn::ParseCanonicalJson(in.whole, "fuzz").ok();
  return 0;
}
