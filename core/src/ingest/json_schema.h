// JSON Schema checks for the schemas inside tool definitions: a well-formed draft 2020-12
// schema (draft-07 when its "$schema" says so) whose local references resolve, whose known
// keywords hold values of the right type, and whose enum/const values can satisfy its type;
// with `strict`, OpenAI's strict-mode subset (docs/release-format.md lists every rule).
// The walk uses an explicit stack and never follows a reference, so hostile input costs
// time and memory in proportion to its size, never stack depth. Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "ingest/validators.h"

namespace cairn {

// Checks the schema document `schema`, found at `pointer` in the file. Problems go to `c`
// under the rules schema-draft, schema-type, schema-keyword, schema-enum, schema-ref and
// (only when `strict`) strict-mode.
void CheckJsonSchema(const Json& schema, const std::string& pointer, bool strict, JsonChecker& c);

// The schema a local reference names inside the schema document `root`: "#" (the root),
// "#/<JSON pointer>" (percent- and ~-escapes decoded) or "#<name>" (an "$anchor", or a
// draft-07 "$id": "#name"). nullptr when `ref` is not local or names nothing.
const Json* ResolveLocalSchemaRef(const Json& root, std::string_view ref);

}  // namespace cairn
