// Access tokens of `cairn serve` (docs/serve.md, "Token file"). The token file lists one
// token per line by its SHA-256 digest, never the token itself, with the host the token
// belongs to and its scopes:
//   sha256:<64 hex>  HOST  read,receipt
// `#` starts a comment line; blank lines are ignored. A token with `receipt` may report
// receipts for HOST only. A TokenTable is immutable once loaded; safe to share between
// threads.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "cairn/digest.h"
#include "cairn/status.h"

namespace cairn {

struct TokenGrant {
  std::string host;
  bool read = false;
  bool receipt = false;
};

class TokenTable {
 public:
  // Parses the token file at `path`. kUsage naming the line and the rule for a malformed
  // line, a duplicate digest or an unknown scope; kNotFound/kIO when it cannot be read.
  static Result<TokenTable> Load(const std::string& path);
  // Parses token-file text (`path` only names it in errors).
  static Result<TokenTable> Parse(std::string_view text, const std::string& path);

  // The grant of the token presented (the bearer token as sent); nullptr when unknown.
  const TokenGrant* Find(std::string_view token) const;
  size_t size() const { return grants_.size(); }

 private:
  std::map<std::string, TokenGrant> grants_;  // by "sha256:<hex>" of the token
};

// The token a client presents, read from `path`: its first line without surrounding blanks.
// kUsage when the file holds no token.
Result<std::string> ReadClientToken(const std::string& path);

}  // namespace cairn
