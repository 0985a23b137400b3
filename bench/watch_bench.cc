// cairn-watch-bench: N concurrent long-poll watchers on one cairn-serve, then a move; how
// long each watcher waited for the event after the move returned, and the server's memory.
//
//   cairn-watch-bench --port P --deployment prod --after SEQ --watchers 1000 --server-pid PID
//                     -- cairn --store S promote REV --to prod --reason bench
//
// Plain sockets and poll(2): one thread holds every watcher, so the client's own cost does
// not blur the server's. Prints one JSON object.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

long StatusField(int pid, const std::string& field) {  // kB from /proc/PID/status
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

// A watcher's connection to 127.0.0.1:port and its request; -1 when either fails.
int Watch(int port, const std::string& request) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  bool sent = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
              ::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size());
  if (!sent && fd >= 0) ::close(fd);
  return sent ? fd : -1;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, watchers = 1000, server_pid = 0;
  uint64_t after = 0;
  std::string deployment = "prod";
  std::vector<std::string> move;
  CLI::App app{"N long-poll watchers, one move, the latencies"};
  app.add_option("--port", port)->required();
  app.add_option("--deployment", deployment);
  app.add_option("--after", after)->required();
  app.add_option("--watchers", watchers);
  app.add_option("--server-pid", server_pid)->required();
  app.add_option("move", move, "the command that moves the deployment")->required();
  CLI11_PARSE(app, argc, argv);

  struct rlimit rl {};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  long rss_before = StatusField(server_pid, "VmRSS");
  std::string request = fmt::format(
      "GET /v1/deployments/{}/watch?after={}&timeout=120 HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n"
      "Connection: close\r\n\r\n",
      deployment, after, port);
  std::vector<pollfd> fds;
  for (int i = 0; i < watchers; ++i) {
    int fd = Watch(port, request);
    if (fd < 0) {
      fmt::print(stderr, "watcher {} could not connect\n", i);
      return 1;
    }
    fds.push_back({fd, POLLIN, 0});
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // every request is waiting
  long rss_waiting = StatusField(server_pid, "VmRSS");
  long threads = StatusField(server_pid, "Threads");

  auto start = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (auto& a : move) args.push_back(a.data());
    args.push_back(nullptr);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  auto moved = Clock::now();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fmt::print(stderr, "the move failed\n");
    return 1;
  }
  std::vector<double> after_move_ms, after_start_ms;
  std::vector<bool> done(fds.size(), false);
  size_t ok = 0, remaining = fds.size();
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (remaining > 0 && Clock::now() < deadline) {
    if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
    auto now = Clock::now();
    for (size_t i = 0; i < fds.size(); ++i) {
      if (done[i] || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[64];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      done[i] = true;
      --remaining;
      fds[i].events = 0;
      if (n >= 12 && std::string(buf, 12) == "HTTP/1.1 200") {
        ++ok;
        after_move_ms.push_back(std::chrono::duration<double, std::milli>(now - moved).count());
        after_start_ms.push_back(std::chrono::duration<double, std::milli>(now - start).count());
      }
    }
  }
  long hwm = StatusField(server_pid, "VmHWM");
  fmt::print(
      "{{\"watchers\": {}, \"got_event\": {}, \"move_ms\": {:.1f}, "
      "\"after_move_ms\": {{\"p50\": {:.1f}, \"p99\": {:.1f}, \"max\": {:.1f}}}, "
      "\"after_move_started_ms\": {{\"p50\": {:.1f}, \"p99\": {:.1f}, \"max\": {:.1f}}}, "
      "\"server_rss_kb\": {{\"idle\": {}, \"waiting\": {}, \"peak\": {}}}, \"server_threads\": "
      "{}}}\n",
      watchers, ok, std::chrono::duration<double, std::milli>(moved - start).count(),
      Percentile(after_move_ms, 0.5), Percentile(after_move_ms, 0.99),
      Percentile(after_move_ms, 1.0), Percentile(after_start_ms, 0.5),
      Percentile(after_start_ms, 0.99), Percentile(after_start_ms, 1.0), rss_before, rss_waiting,
      hwm, threads);
  for (auto& p : fds) ::close(p.fd);
  return ok == static_cast<size_t>(watchers) ? 0 : 1;
}
