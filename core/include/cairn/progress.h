// Progress: how long-running core operations report how far they are. Core calls the
// sink from one thread at a time; the CLI decides whether to draw anything (a terminal)
// or stay quiet (a pipe).
#pragma once

#include <cstdint>
#include <string>

namespace cairn {

struct ProgressUpdate {
  std::string phase;  // "hashing", "storing", ...
  uint64_t done = 0;
  uint64_t total = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
};

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void Update(const ProgressUpdate& update) = 0;
  virtual void Finish() = 0;
};

}  // namespace cairn
