// The HTTP API of cairn-serve (docs/serve.md): JSON under /v1/, the documents of
// cairn/views.h, the long-poll and receipts. Every request is answered from the newest
// read-only open of the store (StoreWatch); nothing here writes the database.
#pragma once

#include <cairn/access_tokens.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "store_watch.h"

namespace httplib {
class Server;
}

namespace cairn::serve {

struct ApiOptions {
  // Host header values accepted ("127.0.0.1:8417", "localhost:8417"): anything else is a
  // request meant for another site (DNS rebinding) and is refused.
  std::set<std::string> allowed_hosts;
  // nullopt: no token file — reads are open, receipts refused.
  std::optional<TokenTable> tokens;
  // Hosts count as serving within this window (status's "served by").
  int64_t receipt_window_micros = 0;
  // The longest long-poll a client may ask for.
  std::chrono::seconds max_watch{300};
};

// Registers the handlers on `server`. `watch` and `options` must outlive it.
void InstallApi(httplib::Server& server, StoreWatch& watch, const ApiOptions& options);

}  // namespace cairn::serve
