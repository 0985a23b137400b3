// cairn serve's own parsing of what a client sends: the request target's path, whole-number
// query parameters, and the body of a receipt. No HTTP library type appears here, so the
// fuzz target fuzz/http_request_fuzzer.cc links this file alone. Pure functions, thread-safe.
#pragma once

#include <cairn/receipts.h>
#include <cairn/status.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::serve {

// The path of the raw request target (the query is ignored), split at '/' and each segment
// percent-decoded once, so "support-bot%2Fbeta" is one segment "support-bot/beta". kUsage for
// a target that is not an absolute path, empty, "." and ".." segments, bad escapes and
// decoded control characters.
Result<std::vector<std::string>> PathSegments(std::string_view target);

// Query parameter `name` given as `text`: a whole number from 0 to `max`, else kUsage naming
// the parameter and the range.
Result<uint64_t> ParseCountText(std::string_view name, std::string_view text, uint64_t max);

// The body of POST /v1/receipts, {deployment, snapshot, loaded_at[, host]}, every field a
// string, for the token's `host` (a body naming another host is refused). Checks the syntax
// of each field; whether the deployment and snapshot exist is the caller's question.
// `received_micros` is left 0.
Result<Receipt> ParseReceiptBody(std::string_view body, const std::string& host);

}  // namespace cairn::serve
