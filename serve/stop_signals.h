// How both modes of cairn-serve stop: SIGINT and SIGTERM are blocked in every thread and
// taken by one thread with sigwait(2), which then stops the work cleanly (exit 0); SIGPIPE is
// ignored, so a peer that goes away is an error on one socket, not the end of the process.
#pragma once

#include <signal.h>

namespace cairn::serve {

// Call before starting any thread; returns the set to sigwait on.
sigset_t BlockStopSignals();

}  // namespace cairn::serve
