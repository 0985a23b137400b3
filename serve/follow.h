// `cairn checkout DEPLOYMENT --into DIR --follow --from URL` (run as `cairn-serve follow …`):
// keeps DIR/current at what is live on a deployment of a remote cairn-serve, for a host with
// no store. Long-polls the server, fetches only the objects the version in DIR/current does
// not already hold, verifies every object's digest and the manifest's id before switching,
// reports a receipt after each switch when it has a token, and keeps serving the current
// version while the server cannot be reached (retrying with backoff, saying so once).
#pragma once

#include <cstdint>
#include <string>

namespace cairn::serve {

struct HttpFollowOptions {
  std::string deployment;
  std::string dir;
  std::string url;         // http://HOST:PORT or https://HOST:PORT
  std::string token_file;  // "" : no token (no receipts)
  uint32_t keep = 5;
  bool json = false;
  int watch_seconds = 30;  // one long-poll's timeout
};

// Follows until SIGINT/SIGTERM; returns the process exit code.
int RunHttpFollow(const HttpFollowOptions& options);

}  // namespace cairn::serve
