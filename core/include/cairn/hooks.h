// Hooks: executables a store runs around deployment moves, from
// <store>/hooks/pre-promote.d/, pre-rollback.d/, post-promote.d/ and post-rollback.d/.
//
// Each executable regular file of a stage's directory runs in name order (byte order;
// names starting with '.' or ending in '~' are ignored) with the move's context as one line
// of JSON on stdin, a sanitised environment (nothing inherited: PATH, LANG, TZ and the
// CAIRN_* variables listed in docs/hooks.md), the store directory as working directory and
// a timeout after which its whole process group is killed. Output is captured up to a
// bound. Safe to call from several threads; each call runs its hooks one after another.
#pragma once

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cairn/canonical_json.h"
#include "cairn/digest.h"
#include "cairn/status.h"

namespace cairn {

enum class HookStage { kPrePromote, kPreRollback, kPostPromote, kPostRollback };
// "pre-promote", "pre-rollback", "post-promote", "post-rollback".
const char* HookStageName(HookStage stage);
// Pre-* stages are gates: they run before the move and any failure stops it.
bool IsGateStage(HookStage stage);

struct HookOptions {
  std::chrono::milliseconds timeout{30000};  // per hook
  size_t max_output = 64 * 1024;             // bytes kept of stdout and of stderr, each
  // Stop after the first hook that fails (pre-promote: one refusal is enough).
  bool stop_at_first_failure = false;
  // poll(2), replaceable by tests to make watching a hook fail; nullptr: ::poll.
  int (*poll)(struct pollfd* fds, unsigned long nfds, int timeout_ms) = nullptr;
};

struct HookRun {
  std::string name;  // file name in the stage directory
  // SHA-256 of the file's bytes, read just before it was started (none when it could not
  // be run): what a move's event records about the hook.
  std::optional<Digest> digest;
  // Why the entry could not be run: "not executable", "a directory", "a dangling symlink",
  // "not a regular file". A pre-* stage fails the move on it (a gate fails closed: a hook
  // that was meant to run must not pass by not running); a post-* stage skips it, loudly.
  std::string not_runnable;
  bool skipped = false;  // post-* stages: not runnable, so not run (reported so users notice)
  int exit_code = -1;    // -1 when it did not exit by itself
  int signal = 0;        // the signal that ended it, if any
  bool timed_out = false;
  // Why cairn could not watch or reap the hook ("poll: …"); the hook was then killed with
  // its process group and counts as failed (a gate fails closed).
  std::string failure;
  int64_t duration_ms = 0;
  std::string out;  // captured stdout (at most max_output bytes, then "[truncated]")
  std::string err;  // captured stderr, likewise
  bool ok() const {
    if (!not_runnable.empty()) return skipped;
    return exit_code == 0 && !timed_out && failure.empty();
  }
  // "exit 3", "timed out after 30001 ms and was killed", "killed by signal 9", ...
  std::string Outcome() const;
  // stderr made safe to print: invalid UTF-8 and control characters (except newline and
  // tab) replaced, trailing whitespace trimmed.
  std::string PrintableErr() const;
};

// Runs the hooks of `stage` in the store at `store_path`. `env` adds CAIRN_* variables
// (names must start with "CAIRN_"; values must not hold NUL). A missing stage directory
// means no hooks. Errors: kIO when a hook cannot be started or the directory not read —
// a hook that fails is not an error here, see HookRun::ok().
Result<std::vector<HookRun>> RunHooks(const std::string& store_path, HookStage stage,
                                      const Json& context,
                                      const std::map<std::string, std::string>& env,
                                      const HookOptions& options = {});

}  // namespace cairn
