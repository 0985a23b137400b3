#include "util/crash_point.h"

#ifdef CAIRN_CRASH_POINTS

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace cairn::crash_point {
namespace {

struct Target {
  std::string name;  // empty: no crash point is set
  uint64_t nth = 1;
};

// CAIRN_CRASH_AT, read once. A name that is not a point, or a bad count, stops the process
// with a message (exit 2): a test that misspells a point must not pass by never crashing.
const Target& TheTarget() {
  static const Target target = [] {
    Target t;
    const char* env = std::getenv("CAIRN_CRASH_AT");
    if (env == nullptr || *env == '\0') return t;
    std::string_view spec(env);
    size_t colon = spec.rfind(':');
    t.name = std::string(spec.substr(0, colon));
    bool known = false;
    for (auto p : kCrashPoints) known = known || p == t.name;
    uint64_t n = 1;
    if (colon != std::string_view::npos) {
      n = 0;
      for (char c : spec.substr(colon + 1)) {
        if (c < '0' || c > '9' || n > 1000000) {
          n = 0;
          break;
        }
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
    }
    if (!known || n == 0) {
      std::fprintf(stderr, "cairn: CAIRN_CRASH_AT=%s: not <point>[:N] with a known point\n", env);
      std::_Exit(2);
    }
    t.nth = n;
    return t;
  }();
  return target;
}

std::atomic<uint64_t> g_reached{0};

// Read at start-up, so a misspelt point stops every command, not only those that reach one.
[[maybe_unused]] const bool g_checked = (TheTarget(), true);

}  // namespace

void Reach(std::string_view name) {
  const Target& t = TheTarget();
  if (t.name.empty() || t.name != name) return;
  if (g_reached.fetch_add(1) + 1 == t.nth) {
    ::kill(::getpid(), SIGKILL);
    std::_Exit(137);  // not reached
  }
}

}  // namespace cairn::crash_point

#endif  // CAIRN_CRASH_POINTS
