// cairn-serve: the HTTP side of cairn (docs/serve.md), a binary of its own so that `cairn`
// keeps its few run-time libraries and its start-up time; `cairn serve …` runs it.
//
//   cairn-serve --store DIR [--listen HOST:PORT] [--token-file F] [--tls-cert C --tls-key K]
//               [--allow-host NAME]... [--threads N] [--receipt-window DURATION]
#include <arpa/inet.h>
#include <cairn/access_tokens.h>
#include <cairn/policy.h>
#include <cairn/receipts.h>
#include <fmt/format.h>
#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "api.h"
#include "connection_pool.h"
#include "follow.h"
#include "stop_signals.h"
#include "store_watch.h"

namespace cairn::serve {

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

namespace {

struct ServeOptions {
  std::string store;
  std::string listen = "127.0.0.1:8417";
  std::string token_file;
  std::string tls_cert;
  std::string tls_key;
  std::vector<std::string> allow_hosts;
  size_t threads = 1200;
  std::string receipt_window = "24h";
  int poll_ms = 200;
};

struct ListenAddress {
  std::string host;  // without brackets
  int port = 0;
};

Result<ListenAddress> ParseListen(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::Usage("--listen takes HOST:PORT (e.g. 127.0.0.1:8417, [::1]:8417)");
  }
  ListenAddress a;
  a.host = text.substr(0, colon);
  if (a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    return Status::Usage("--listen: the port is a number from 0 to 65535");
  }
  a.port = std::stoi(port);
  unsigned char buf[16];
  if (inet_pton(AF_INET, a.host.c_str(), buf) != 1 &&
      inet_pton(AF_INET6, a.host.c_str(), buf) != 1) {
    return Status::Usage("--listen: the host is an IP address (127.0.0.1, ::1, 0.0.0.0)");
  }
  return a;
}

bool IsLoopback(const std::string& host) { return host == "::1" || host.starts_with("127."); }

// The Host header values that name this server.
std::set<std::string> AllowedHosts(const ListenAddress& a, const std::vector<std::string>& extra) {
  std::set<std::string> hosts;
  std::string port = std::to_string(a.port);
  bool v6 = a.host.find(':') != std::string::npos;
  hosts.insert((v6 ? "[" + a.host + "]" : a.host) + ":" + port);
  if (IsLoopback(a.host)) {
    for (const char* h : {"localhost", "127.0.0.1", "[::1]"})
      hosts.insert(std::string(h) + ":" + port);
  }
  for (const auto& h : extra) hosts.insert(h.find(':') == std::string::npos ? h + ":" + port : h);
  return hosts;
}

// Connections hold one descriptor each: raise the soft limit to the hard one.
void RaiseDescriptorLimit() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int Fail(const Status& s) {
  fmt::print(stderr, "cairn-serve: {}: {}\n", CodeName(s.code()), s.message());
  return s.code() == Code::kUsage ? kExitUsage : kExitFailure;
}

int RunServe(const ServeOptions& o) {
  auto address = ParseListen(o.listen);
  if (!address.ok()) return Fail(address.status());
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return Fail(Status::Usage("--tls-cert and --tls-key go together"));
  }
  auto window = ParseDuration(o.receipt_window, "--receipt-window");
  if (!window.ok()) return Fail(window.status());
  ApiOptions api;
  api.receipt_window_micros = *window;
  if (!o.token_file.empty()) {
    auto tokens = TokenTable::Load(o.token_file);
    if (!tokens.ok()) return Fail(tokens.status());
    api.tokens = std::move(*tokens);
  }
  if (!IsLoopback(address->host) && !api.tokens) {
    return Fail(Status::Usage(fmt::format(
        "listening on {} (not loopback) needs --token-file: anyone who can reach it could read "
        "the store",
        address->host)));
  }
  api.allowed_hosts = AllowedHosts(*address, o.allow_hosts);

  sigset_t stop_signals = BlockStopSignals();
  RaiseDescriptorLimit();

  auto watch = StoreWatch::Start(o.store, std::chrono::milliseconds(o.poll_ms));
  if (!watch.ok()) return Fail(watch.status());

  std::unique_ptr<httplib::Server> server;
  if (!o.tls_cert.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(o.tls_cert.c_str(), o.tls_key.c_str());
    if (!tls->is_valid()) {
      return Fail(Status::Usage("cannot load --tls-cert/--tls-key (PEM certificate and key)"));
    }
    server = std::move(tls);
  } else {
    server = std::make_unique<httplib::Server>();
    if (!IsLoopback(address->host)) {
      fmt::print(stderr,
                 "cairn-serve: warning: serving {} without TLS: tokens and data cross the "
                 "network in clear text (--tls-cert/--tls-key)\n",
                 address->host);
    }
  }
  size_t threads = o.threads;
  server->new_task_queue = [threads] { return new ConnectionPool(threads); };
  // Timeouts on every socket: a client that stops sending or reading is dropped.
  server->set_read_timeout(5, 0);
  server->set_write_timeout(5, 0);
  server->set_keep_alive_timeout(5);
  server->set_keep_alive_max_count(100);
  server->set_payload_max_length(64 * 1024);
  InstallApi(*server, **watch, api);
  // cpp-httplib listens with a backlog of 5: when a promote wakes hundreds of following
  // hosts at once, their connections overflowed the accept queue and waited for SYN
  // retransmits or a read timeout (bench/follow_bench.sh: 53 of 200 hosts had not switched
  // 30 s after a promote). The listening socket is caught as it is made, and listen(2) is
  // called again after the bind with the kernel's maximum (net.core.somaxconn).
  // SO_REUSEADDR replaces httplib's SO_REUSEPORT, which would let a second server share the
  // port instead of failing with "in use".
  int listen_fd = -1;
  server->set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = sock;
  });

  int port = address->port;
  if (port == 0) {
    port = server->bind_to_any_port(address->host);
    if (port < 0) return Fail(Status::IO("cannot listen on " + o.listen));
  } else if (!server->bind_to_port(address->host, port)) {
    return Fail(Status::IO(fmt::format("cannot listen on {} (in use?)", o.listen)));
  }
  if (listen_fd < 0 || ::listen(listen_fd, SOMAXCONN) != 0) {
    return Fail(Status::IO(fmt::format("cannot listen on {}: {}", o.listen,
                                       listen_fd < 0 ? "no socket" : std::strerror(errno))));
  }
  if (address->port == 0) api.allowed_hosts = AllowedHosts({address->host, port}, o.allow_hosts);
  bool v6 = address->host.find(':') != std::string::npos;
  fmt::print(
      "cairn-serve: listening on {}://{}:{} (store {}{})\n", o.tls_cert.empty() ? "http" : "https",
      v6 ? "[" + address->host + "]" : address->host, port, o.store,
      api.tokens
          ? fmt::format(", {} token{}", api.tokens->size(), api.tokens->size() == 1 ? "" : "s")
          : ", no tokens");
  std::fflush(stdout);

  std::atomic<bool> signalled{false};
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    signalled = true;
    (*watch)->Stop();
    server->stop();
  });
  server->listen_after_bind();
  // listen returned: stopped by a signal, or the socket failed and the stopper still waits.
  if (!signalled) pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  fmt::print(stderr, "cairn-serve: stopped\n");
  return 0;
}

}  // namespace
}  // namespace cairn::serve

namespace {
// cairn-serve follow DEPLOYMENT --into DIR --from URL [--token-file F] [--keep K] [--json]
int FollowMain(int argc, char** argv, const std::string& shown) {
  cairn::serve::HttpFollowOptions o;
  CLI::App app{
      "cairn-serve follow: keep DIR/current at what is live on a deployment of a remote "
      "cairn serve. Usually started as 'cairn checkout DEPLOYMENT --into DIR --follow "
      "--from URL'.",
      shown};
  app.add_option("deployment", o.deployment, "Deployment")->required();
  app.add_option("--into", o.dir, "Checkout directory")->required();
  app.add_option("--from", o.url, "http://HOST:PORT of a cairn serve")->required();
  app.add_option("--token-file", o.token_file,
                 "File holding this host's token (receipts need one)");
  app.add_option("--keep", o.keep, "Versions to keep in DIR/.versions (default 5)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--watch-seconds", o.watch_seconds, "One long-poll's timeout (default 30)")
      ->check(CLI::Range(1, 300));
  app.add_flag("--json", o.json, "One JSON line per switch");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : cairn::serve::kExitUsage;
  }
  return cairn::serve::RunHttpFollow(o);
}
}  // namespace

int main(int argc, char** argv) {
  // Run by cairn, argv[0] names the cairn command ("cairn serve"): help and usage say so.
  std::string shown = argc > 0 && std::string_view(argv[0]).starts_with("cairn ") ? argv[0] : "";
  if (argc > 1 && std::string_view(argv[1]) == "follow") {
    try {
      return FollowMain(argc - 1, argv + 1, shown.empty() ? "cairn-serve follow" : shown);
    } catch (const std::exception& e) {
      fmt::print(stderr, "cairn: internal error: {}\n", e.what());
      return cairn::serve::kExitFailure;
    }
  }
  using cairn::serve::ServeOptions;
  ServeOptions o;
  CLI::App app{
      "cairn-serve: the store's read-only JSON API, long-poll and receipts over HTTP "
      "(docs/serve.md). Usually started as 'cairn serve'.",
      shown.empty() ? "cairn-serve" : shown};
  app.add_option("--store", o.store, "Store directory")->required();
  app.add_option("--listen", o.listen,
                 "HOST:PORT to listen on (default 127.0.0.1:8417; port 0: any free port)");
  app.add_option("--token-file", o.token_file,
                 "Token file (docs/serve.md): every request then needs a token");
  app.add_option("--tls-cert", o.tls_cert, "PEM certificate: serve HTTPS");
  app.add_option("--tls-key", o.tls_key, "PEM private key of --tls-cert");
  app.add_option("--allow-host", o.allow_hosts,
                 "Another Host header value that names this server (a DNS name behind which it is "
                 "reached; repeat)");
  app.add_option("--threads", o.threads,
                 "Connection threads (default 1200; more than the watchers)")
      ->check(CLI::Range(4, 20000));
  app.add_option("--receipt-window", o.receipt_window,
                 "Hosts count as serving when they reported within this window (default 24h)");
  app.add_option("--poll-ms", o.poll_ms, "How often to look for moves (default 200 ms)")
      ->check(CLI::Range(10, 5000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : cairn::serve::kExitUsage;
  }
  try {
    return cairn::serve::RunServe(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "cairn-serve: internal error: {}\n", e.what());
    return cairn::serve::kExitFailure;
  }
}
