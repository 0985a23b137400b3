// Test support: runs one kind's validator on one file's text, as ingest would.
#pragma once

#include <string>
#include <vector>

#include "ingest/validators.h"

namespace cairn::testing {

struct FileVerdict {
  std::vector<Problem> problems;
  Json facts;  // empty unless the file is valid
};

inline FileVerdict ValidateFile(ComponentKind kind, const std::string& path,
                                const std::string& text) {
  FileVerdict r;
  const KindValidator* v = ValidatorFor(kind, path, /*is_knowledge_document=*/false);
  r.facts = v->Validate(path, text, &r.problems).facts;
  return r;
}

}  // namespace cairn::testing
