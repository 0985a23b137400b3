// Clock: where core reads the time. Injected so tests can pin it or make it go backwards.
//
// Times are microseconds since the Unix epoch, UTC. A Clock must be safe to call from
// several threads.
#pragma once

#include <cstdint>
#include <string>

#include "cairn/status.h"

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
};

// The system's real-time clock.
const Clock& SystemClock();

// "2026-11-24T14:03:00.000000Z": RFC 3339, UTC, always six fractional digits.
std::string FormatTime(int64_t micros);

// Accepts RFC 3339 ("2026-11-24T14:03:00Z", "...T14:03:00.5+01:00") and
// "YYYY-MM-DD HH:MM[:SS]" (UTC). Returns microseconds since the epoch.
Result<int64_t> ParseTime(std::string_view text);

}  // namespace cairn
