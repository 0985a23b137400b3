// Running hooks: fork/exec with pipes, a poll loop that feeds stdin and drains stdout and
// stderr with bounds, and a deadline after which the hook's process group is killed.
#include "cairn/hooks.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "cairn/validate.h"
#include "util/fs_util.h"

namespace cairn {

const char* HookStageName(HookStage stage) {
  switch (stage) {
    case HookStage::kPrePromote:
      return "pre-promote";
    case HookStage::kPreRollback:
      return "pre-rollback";
    case HookStage::kPostPromote:
      return "post-promote";
    case HookStage::kPostRollback:
      return "post-rollback";
  }
  return "?";
}

bool IsGateStage(HookStage stage) {
  return stage == HookStage::kPrePromote || stage == HookStage::kPreRollback;
}

std::string HookRun::Outcome() const {
  if (skipped) return not_runnable + " (skipped)";
  if (!not_runnable.empty()) return not_runnable + ": a gate hook that cannot run fails the move";
  if (!failure.empty()) return "failed closed: " + failure + "; it was killed";
  if (timed_out) return fmt::format("timed out after {} ms and was killed", duration_ms);
  if (signal != 0) return fmt::format("killed by signal {}", signal);
  return fmt::format("exit {}", exit_code);
}

std::string HookRun::PrintableErr() const {
  std::string text = IsValidUtf8(err) ? err : std::string();
  if (text.empty() && !err.empty()) {
    // Keep the ASCII we can show; the rest is not text.
    for (unsigned char c : err) text += c < 0x80 ? static_cast<char>(c) : '?';
  }
  std::string out;
  for (unsigned char c : text) {
    if (c == '\n' || c == '\t' || c >= 0x20) {
      out += static_cast<char>(c == 0x7f ? '?' : c);
    } else {
      out += '?';
    }
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\t')) {
    out.pop_back();
  }
  return out;
}

namespace {

constexpr const char* kTruncated = "\n[truncated]";
constexpr std::chrono::milliseconds kDrainAfterExit{200};

// The hook's environment: nothing inherited, so secrets in the caller's environment never
// reach a hook.
std::vector<std::string> HookEnvironment(const std::string& store_path, HookStage stage,
                                         const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env = {
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "LANG=C.UTF-8",
      "LC_ALL=C.UTF-8",
      "TZ=UTC",
      "HOME=" + store_path,
      "CAIRN_STORE=" + store_path,
      std::string("CAIRN_HOOK=") + HookStageName(stage),
  };
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

Status CheckEnv(const std::map<std::string, std::string>& env) {
  for (const auto& [k, v] : env) {
    if (k.rfind("CAIRN_", 0) != 0 || k.find('=') != std::string::npos ||
        k.find('\0') != std::string::npos || v.find('\0') != std::string::npos) {
      return Status::Internal(fmt::format("hook environment variable {} is not allowed", k));
    }
  }
  return Status::OK();
}

struct HookEntry {
  std::string name;
  std::string not_runnable;  // why it cannot be run; empty when it can
};

Result<std::vector<HookEntry>> ListHooks(const std::string& dir) {
  std::vector<HookEntry> hooks;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return hooks;
    return ErrnoStatus("read hook directory", dir, errno);
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.' || name.back() == '~') continue;
    std::string path = dir + "/" + name;
    struct stat st {};
    std::string why;
    if (::stat(path.c_str(), &st) != 0) {
      struct stat link {};
      why = ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)
                ? "a dangling symlink"
                : fmt::format("unreadable ({})", std::strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
      why = "a directory";
    } else if (!S_ISREG(st.st_mode)) {
      why = "not a regular file";
    } else if (::access(path.c_str(), X_OK) != 0) {
      why = "not executable";
    }
    hooks.push_back({name, why});
  }
  ::closedir(d);
  std::sort(hooks.begin(), hooks.end(),
            [](const HookEntry& a, const HookEntry& b) { return a.name < b.name; });
  return hooks;
}

void Append(std::string* to, const char* data, size_t n, size_t max) {
  if (to->size() >= max) return;
  size_t room = max - to->size();
  to->append(data, std::min(n, room));
  if (n > room) to->append(kTruncated);
}

int64_t MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// Writes to a pipe whose reader may be gone without taking SIGPIPE: the signal is blocked
// on this thread and a pending one consumed, so the write just fails with EPIPE.
ssize_t WriteNoSigpipe(int fd, const char* data, size_t n) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t written = ::write(fd, data, n);
  int err = errno;
  if (written < 0 && err == EPIPE) {
    struct timespec zero {};
    while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return written;
}

// SHA-256 of the hook file's bytes; the errno when it cannot be read.
Result<Digest> HashHookFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("read hook", path, errno);
  auto digest = HashFd(fd, "read hook", path);
  ::close(fd);
  return digest;
}

Result<HookRun> RunOne(const std::string& store_path, const std::string& dir,
                       const HookEntry& entry, const std::string& input,
                       const std::vector<std::string>& env, const HookOptions& options,
                       bool fail_unrunnable) {
  HookRun run;
  run.name = entry.name;
  if (!entry.not_runnable.empty()) {
    run.not_runnable = entry.not_runnable;
    run.skipped = !fail_unrunnable;
    return run;
  }
  std::string path = dir + "/" + entry.name;
  auto digest = HashHookFile(path);
  if (!digest.ok()) {
    run.not_runnable = "unreadable (" + digest.status().message() + ")";
    run.skipped = !fail_unrunnable;
    return run;
  }
  run.digest = *digest;
  // Everything the child needs is prepared before fork: after it, only async-signal-safe
  // calls (other threads of this process may hold locks).
  std::vector<char*> argv = {path.data(), nullptr};
  std::vector<std::string> env_copy = env;
  std::vector<char*> envp;
  for (auto& e : env_copy) envp.push_back(e.data());
  envp.push_back(nullptr);
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return ErrnoStatus("pipe for hook", path, errno);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    return ErrnoStatus("pipe for hook", path, err);
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) ::close(fd);
    return ErrnoStatus("pipe for hook", path, err);
  }
  auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
      ::close(fd);
    }
    return ErrnoStatus("start hook", path, err);
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so a timeout kills what it started too
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    if (::chdir(store_path.c_str()) != 0) ::_exit(126);
    ::execve(path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent: no race with the kill below
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);

  size_t in_off = 0;
  int in_fd = in_pipe[1];
  if (input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  bool exited = false;
  int status = 0;  // read only once exited
  // Ends the hook when cairn cannot watch it: killed with its group, reaped, failed.
  auto fail_closed = [&](std::string why) {
    ::kill(-pid, SIGKILL);
    if (!exited) {
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      exited = true;
    }
    run.failure = std::move(why);
  };
  auto do_poll = options.poll != nullptr ? options.poll : +[](pollfd* f, unsigned long n, int t) {
    return ::poll(f, n, t);
  };
  auto deadline = start + options.timeout;
  char buf[16384];
  while (true) {
    if (!exited) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w < 0 && errno != EINTR) {
        fail_closed(fmt::format("waitpid: {}", std::strerror(errno)));
        break;
      }
      if (w == pid) {
        exited = true;
        // Its output gets a moment more, not the whole timeout: a background child that
        // keeps the pipes open is killed with the group then.
        deadline = std::min(deadline, std::chrono::steady_clock::now() + kDrainAfterExit);
      }
    }
    // Done when the hook has exited and its output is drained.
    if (exited && out_fd < 0 && err_fd < 0) break;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      ::kill(-pid, SIGKILL);
      if (!exited) {
        run.timed_out = true;
        ::waitpid(pid, &status, 0);
        exited = true;
      }
      break;
    }
    pollfd fds[3];
    int n = 0;
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    int wait_ms = static_cast<int>(std::min<int64_t>(left, exited ? 10 : 20));
    int rc = n > 0 ? do_poll(fds, static_cast<unsigned long>(n), wait_ms) : 0;
    if (n == 0) ::usleep(static_cast<useconds_t>(wait_ms) * 1000);
    if (rc < 0 && errno != EINTR) {
      fail_closed(fmt::format("poll: {}", std::strerror(errno)));
      break;
    }
    for (int i = 0; i < n && rc > 0; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        ssize_t w = WriteNoSigpipe(in_fd, input.data() + in_off, input.size() - in_off);
        if (w > 0) in_off += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == input.size()) {
          ::close(in_fd);  // done, or the hook does not read its input: fine either way
          in_fd = -1;
        }
        continue;
      }
      int* fd = fds[i].fd == out_fd ? &out_fd : &err_fd;
      std::string* sink = fds[i].fd == out_fd ? &run.out : &run.err;
      ssize_t r = ::read(*fd, buf, sizeof buf);
      if (r > 0) {
        Append(sink, buf, static_cast<size_t>(r), options.max_output);
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(*fd);
        *fd = -1;
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0) ::close(fd);
  }
  run.duration_ms = MillisSince(start);
  if (!run.timed_out && run.failure.empty() && exited) {
    if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  }
  if (run.exit_code == 127 && run.err.empty()) run.err = "could not execute the hook";
  return run;
}

}  // namespace

Result<std::vector<HookRun>> RunHooks(const std::string& store_path, HookStage stage,
                                      const Json& context,
                                      const std::map<std::string, std::string>& env,
                                      const HookOptions& options) {
  CAIRN_RETURN_IF_ERROR(CheckEnv(env));
  std::string dir = fmt::format("{}/hooks/{}.d", store_path, HookStageName(stage));
  CAIRN_ASSIGN_OR_RETURN(auto hooks, ListHooks(dir));
  std::string input = context.dump() + "\n";
  std::vector<std::string> environment = HookEnvironment(store_path, stage, env);
  std::vector<HookRun> runs;
  // Gate stages fail closed on an entry that cannot run; post stages skip it, loudly.
  bool fail_unrunnable = IsGateStage(stage);
  for (const auto& h : hooks) {
    CAIRN_ASSIGN_OR_RETURN(
        HookRun run, RunOne(store_path, dir, h, input, environment, options, fail_unrunnable));
    bool failed = !run.ok();
    runs.push_back(std::move(run));
    if (failed && options.stop_at_first_failure) break;
  }
  return runs;
}

}  // namespace cairn
