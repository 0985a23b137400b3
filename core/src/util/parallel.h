// Runs fn(i) for i in [0, n) on up to `threads` threads (an atomic work index, no queue).
// The first failing Status stops new work and is returned. `tick`, if set, is called on
// the calling thread about every 100 ms while work runs (progress reporting).
#pragma once

#include <functional>

#include "cairn/status.h"

namespace cairn {

Status ParallelFor(size_t n, unsigned threads, const std::function<Status(size_t)>& fn,
                   const std::function<void()>& tick = nullptr);

// Threads to use when the caller says 0: the machine's cores.
unsigned DefaultThreads();

}  // namespace cairn
