// Validation of release input: the problems found in a release directory.
//
// Every rule has a stable name (docs/release-format.md lists them). A Problem names the
// file (relative to the release root), where in it (a line or a JSON pointer) and the rule.
// Validation reads only; it never touches a store. Functions here are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/canonical_json.h"

namespace cairn {

struct Problem {
  std::string path;      // file relative to the release root, '/'-separated ("" = the root)
  std::string location;  // "line 3, column 7", "/parameters/properties/id", or ""
  std::string rule;      // stable rule name: "duplicate-key", "floating-model", ...
  std::string message;   // what is wrong, in words

  // "tools/refund.json: /parameters/required/0: tool-schema: ..." (one line).
  std::string ToString() const;
};

// At most this many problems are listed for one file (the count of the rest is given), so
// that a hostile file cannot make the report itself unbounded.
constexpr size_t kMaxProblemsPerFile = 20;

// Limits applied while parsing JSON input, before any tree is built.
struct JsonLimits {
  int max_depth = 64;  // arrays and objects nested deeper than this are refused
  // The tree a document would become, estimated while parsing (each value, container,
  // member and string as the tree allocates them): a larger one is refused before it is
  // built, so memory follows this limit and not the document's shape (16 MiB of "{}" would
  // take ~35 times its size).
  uint64_t max_tree_bytes = 48ull << 20;
};

// Checks that `bytes` are UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
// On failure sets *bad_offset to the first bad byte.
bool IsValidUtf8(std::string_view bytes, size_t* bad_offset = nullptr);

// 1-based line and column of byte `offset` in `text` (column counts bytes).
std::string LineColumn(std::string_view text, size_t offset);

// Parses JSON strictly: UTF-8, syntax, duplicate keys at any depth, depth limit, numbers
// that do not fit. Problems are appended to *problems with `path` as the file; returns the
// value only when none was found.
std::optional<Json> ParseStrictJson(std::string_view bytes, const std::string& path,
                                    std::vector<Problem>* problems, JsonLimits limits = {});

}  // namespace cairn
