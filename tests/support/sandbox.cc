#include "support/sandbox.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cairn/digest.h"

namespace fs = std::filesystem;

namespace cairn::testing {

Sandbox::Sandbox() {
  std::string tmpl = (fs::temp_directory_path() / "cairn-test-XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

Sandbox::~Sandbox() {
  std::error_code ec;
  // Checkout-style read-only directories must be writable again to be removed.
  for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
  }
  fs::remove_all(path_, ec);
}

std::string FixturePath(const std::string& rel) {
  return std::string(CAIRN_FIXTURES_DIR) + "/" + rel;
}

std::string ConformancePath(const std::string& rel) {
  if (const char* env = std::getenv("CAIRN_CONFORMANCE_DIR")) return std::string(env) + "/" + rel;
  return std::string(CAIRN_SOURCE_DIR) + "/../shared/conformance/" + rel;
}

std::string Sandbox::CopyFixture(const std::string& rel, const std::string& dest) const {
  std::string to = path_ + "/" + dest;
  fs::create_directories(fs::path(to).parent_path());
  fs::copy(FixturePath(rel), to, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  return to;
}

void Sandbox::Write(const std::string& rel, const std::string& data) const {
  fs::path p = fs::path(path_) / rel;
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << data;
}

std::string Sandbox::Read(const std::string& rel) const {
  std::ifstream f(fs::path(path_) / rel, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

RunResult Cairn(const Sandbox& box, std::vector<std::string> args, const RunOptions& options) {
  args.insert(args.begin(), {"--store", box / "store"});
  return RunCairn(args, options);
}

std::set<std::string> SnapshotIds(const std::string& store) {
  auto r = RunCairn({"--store", store, "snapshot", "list", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> ids;
  if (r.exit_code != 0) return ids;
  for (const auto& s : nlohmann::json::parse(r.out)) ids.insert(s["id"].get<std::string>());
  return ids;
}

std::map<std::string, std::string> GitEnv(const Sandbox& box) {
  return {{"GIT_AUTHOR_NAME", "t"},
          {"GIT_AUTHOR_EMAIL", "t@example.com"},
          {"GIT_COMMITTER_NAME", "t"},
          {"GIT_COMMITTER_EMAIL", "t@example.com"},
          {"GIT_CONFIG_NOSYSTEM", "1"},
          {"HOME", box / "home"},
          {"GIT_AUTHOR_DATE", "1700000000 +0000"},
          {"GIT_COMMITTER_DATE", "1700000000 +0000"}};
}

RunResult RunGit(const Sandbox& box, const std::vector<std::string>& args,
                 const std::string& stdin_data) {
  std::vector<std::string> argv = {"/usr/bin/git"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions o;
  o.env = GitEnv(box);
  o.stdin_data = stdin_data;
  return RunProgram(argv, o);
}

std::string FileDigest(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  Sha256 h;
  char buf[1 << 16];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) h.Update(buf, static_cast<size_t>(f.gcount()));
  return h.Finish().ToString();
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f) << "cannot open " << path;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
  ASSERT_TRUE(f) << "cannot rewrite byte " << offset << " of " << path;
}

RunResult RunCairn(const std::vector<std::string>& args, const RunOptions& options) {
  std::vector<std::string> argv = {CAIRN_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, options);
}

namespace {
// Reads once from `fd`; false at end of file.
bool DrainInto(int fd, std::string* out, const std::function<void(std::string_view)>& sink) {
  char buf[1 << 16];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) return false;
  if (sink) {
    sink(std::string_view(buf, static_cast<size_t>(n)));
  } else {
    out->append(buf, static_cast<size_t>(n));
  }
  return true;
}
}  // namespace

RunResult RunProgram(const std::vector<std::string>& argv, const RunOptions& options) {
  int out_pipe[2], err_pipe[2], in_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0 || pipe(in_pipe) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    if (options.capture_stdout) {
      dup2(out_pipe[1], 1);
    } else {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
    }
    dup2(err_pipe[1], 2);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], in_pipe[0], in_pipe[1]}) {
      close(fd);
    }
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(127);
    std::vector<std::string> env_strings = {"PATH=/usr/bin:/bin", "HOME=/tmp", "LC_ALL=C"};
    // A sanitized build's children keep its settings. A test that preloads a library
    // (faketime) cannot put ASan's runtime first, which ASan accepts when told; and ASan's
    // allocator must not read the clock: the first time it maps a size class it calls
    // clock_gettime (only to pace releasing memory to the OS) while holding that class's
    // lock, and faketime's clock_gettime initialises itself with dlsym, which mallocs — a
    // self-deadlock whenever that malloc needs the same, still unmapped, class.
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
      const char* value = getenv(name);
      std::string v = value != nullptr ? value : "";
      if (std::string_view(name) == "ASAN_OPTIONS" && options.env.contains("LD_PRELOAD")) {
        v += v.empty() ? "" : ":";
        v += "verify_asan_link_order=0:allocator_release_to_os_interval_ms=-1";
      }
      if (!v.empty()) env_strings.push_back(std::string(name) + "=" + v);
    }
    for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& a : argv_copy) args.push_back(a.data());
    args.push_back(nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  close(in_pipe[0]);
  if (options.on_start) options.on_start(pid);
  if (!options.stdin_data.empty()) {
    ssize_t ignored = write(in_pipe[1], options.stdin_data.data(), options.stdin_data.size());
    (void)ignored;
  }
  close(in_pipe[1]);
  RunResult r;
  auto start = std::chrono::steady_clock::now();
  bool killed = false;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    int timeout = -1;
    if (options.kill_after_ms >= 0 && !killed) {
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start)
                         .count();
      timeout = static_cast<int>(std::max<long>(0, options.kill_after_ms - elapsed));
      if (timeout == 0) {
        kill(pid, SIGKILL);
        killed = true;
        timeout = -1;
      }
    }
    int rc = poll(fds, 2, timeout);
    if (rc < 0 && errno == EINTR) continue;
    for (auto& p : fds) {
      if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      bool is_out = p.fd == out_pipe[0];
      if (!DrainInto(p.fd, is_out ? &r.out : &r.err,
                     is_out ? options.stdout_sink : std::function<void(std::string_view)>())) {
        close(p.fd);
        p.fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  r.max_rss_kb = usage.ru_maxrss;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

}  // namespace cairn::testing

namespace cairn::testing {
TestKeys::TestKeys(const Sandbox& box) : dir_(box.CopyFixture("keys", "keys")) {
  for (const char* who : {"release", "ci", "security", "outsider", "root1", "root2", "root3"}) {
    ::chmod(Private(who).c_str(), 0600);
  }
}
std::string TestKeys::Private(const std::string& who) const {
  return dir_ + "/test-" + who + "-ONLY-FOR-TESTS.pem";
}
std::string TestKeys::Public(const std::string& who) const {
  return dir_ + "/test-" + who + "-ONLY-FOR-TESTS.pub.pem";
}

std::string WriteMinimalRelease(const Sandbox& box, const std::string& dir,
                                const std::string& app) {
  box.Write(dir + "/snapshot.json", "{\"app\": \"" + app + "\"}\n");
  box.Write(dir + "/prompts/system.md", "Hello {{customer_name}}, about order {{order_id}}.\n");
  box.Write(dir + "/models/primary.json",
            R"({"provider": "openai", "model": "gpt-4o-2024-08-06", "revision": "2024-08-06",
 "params": {"temperature": 0.2}})");
  box.Write(dir + "/tools/lookup.json",
            R"({"name": "lookup_order", "parameters": {"type": "object",
 "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}})");
  std::string doc = "Refunds are possible within 30 days.\n";
  box.Write(dir + "/knowledge/refunds/policy.md", doc);
  box.Write(dir + "/knowledge/refunds.json",
            R"({"embedding": {"model": "text-embedding-3-small"}, "chunking": {"size": 512},
 "documents": [{"path": "policy.md", "digest": ")" +
                Digest::Of(doc).ToString() + "\"}]}");
  box.Write(dir + "/config/features.json", R"({"refunds": true})");
  return box / dir;
}
}  // namespace cairn::testing
