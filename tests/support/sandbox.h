// Test support: a fresh temporary directory per test (fixtures are copied in, never used
// in place), and running the real `cairn` binary.
#pragma once

#include <sys/resource.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace cairn::testing {

// A temporary directory removed when the Sandbox goes out of scope.
class Sandbox {
 public:
  Sandbox();
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }
  // Copies fixtures/<rel> to <sandbox>/<dest> (symlinks copied as symlinks).
  std::string CopyFixture(const std::string& rel, const std::string& dest) const;
  void Write(const std::string& rel, const std::string& data) const;
  std::string Read(const std::string& rel) const;

 private:
  std::string path_;
};

std::string FixturePath(const std::string& rel);

// <conformance>/<rel>: third-party conformance data that is not copied into this repository.
// <conformance> is $CAIRN_CONFORMANCE_DIR, or ../shared/conformance beside the source tree.
// Tests that need it skip, saying so, when the directory is absent.
std::string ConformancePath(const std::string& rel);

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
  long max_rss_kb = 0;  // peak resident memory of the child
};

struct RunOptions {
  std::string cwd;                         // default: inherit
  std::map<std::string, std::string> env;  // added to a minimal environment
  std::string stdin_data;
  int kill_after_ms = -1;  // SIGKILL the child after this long
  bool capture_stdout = true;
  // When set, standard output is streamed here instead of collected in RunResult::out.
  std::function<void(std::string_view)> stdout_sink;
  // Told the child's process id once it runs (to signal it from another thread).
  std::function<void(int pid)> on_start;
};

// Runs the cairn binary with `args` (argv[0] is added).
RunResult RunCairn(const std::vector<std::string>& args, const RunOptions& options = {});
// Runs the cairn binary on the store <box>/store: `cairn --store <box>/store ARGS...`.
RunResult Cairn(const Sandbox& box, std::vector<std::string> args, const RunOptions& options = {});
// The ids of every snapshot in `store` (`cairn --store STORE snapshot list --json`); a failing
// list fails the test and gives none.
std::set<std::string> SnapshotIds(const std::string& store);
// Runs any program.
RunResult RunProgram(const std::vector<std::string>& argv, const RunOptions& options = {});

// True in a sanitized build (CAIRN_SANITIZE): peak-memory bounds do not hold there (ASan's
// shadow memory and quarantine), so tests skip those assertions and say so.
#ifdef CAIRN_SANITIZED
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// SHA-256 of a file's bytes, as "sha256:<hex>".
std::string FileDigest(const std::string& path);
// Damages the file at `path` in place: the byte at `offset` is XORed with 0x5a. A file that
// cannot be rewritten fails the test.
void FlipByte(const std::string& path, uint64_t offset);

// The environment tests run git in: a fixed identity and fixed dates (the same commands
// make the same commit ids), no system config, HOME inside `box`.
std::map<std::string, std::string> GitEnv(const Sandbox& box);
// Runs /usr/bin/git with `args` in GitEnv(box).
RunResult RunGit(const Sandbox& box, const std::vector<std::string>& args,
                 const std::string& stdin_data = "");

}  // namespace cairn::testing

namespace cairn::testing {
// The test-only key pairs of fixtures/keys/ ("release", "ci", "security", "outsider"),
// copied into <sandbox>/keys with the private keys at mode 0600 (as cairn expects).
class TestKeys {
 public:
  explicit TestKeys(const Sandbox& box);
  std::string Private(const std::string& who) const;  // .../test-WHO-ONLY-FOR-TESTS.pem
  std::string Public(const std::string& who) const;   // .../test-WHO-ONLY-FOR-TESTS.pub.pem

 private:
  std::string dir_;
};

// Writes a small valid release (one prompt, model, tool, knowledge base, config) into
// <sandbox>/<dir> and returns its path.
std::string WriteMinimalRelease(const Sandbox& box, const std::string& dir,
                                const std::string& app = "demo");
}  // namespace cairn::testing
