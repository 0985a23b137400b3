#include "follow.h"

#include <cairn/access_tokens.h>
#include <cairn/checkout.h>
#include <cairn/clock.h>
#include <cairn/deployment_name.h>
#include <cairn/snapshot.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "stop_signals.h"

namespace cairn::serve {
namespace {

constexpr int kExitUsage = 2;
constexpr size_t kMaxErrorBody = 64 * 1024;  // of an error answer, for its message

std::string PercentEncoded(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// One HTTP conversation with the server: a fresh client (httplib clients are not shared
// between threads), the token when there is one.
class Remote {
 public:
  Remote(std::string url, std::string token) : url_(std::move(url)), token_(std::move(token)) {}

  std::unique_ptr<httplib::Client> Client(int read_seconds) const {
    auto c = std::make_unique<httplib::Client>(url_);
    c->set_connection_timeout(5, 0);
    c->set_read_timeout(read_seconds, 0);
    c->set_write_timeout(5, 0);
    return c;
  }
  httplib::Headers Headers() const {
    httplib::Headers h;
    if (!token_.empty()) h.emplace("Authorization", "Bearer " + token_);
    return h;
  }
  // The body of a 200 answer to GET `path`; kNotFound for 404, kUnreachable when no answer
  // came, kIO for the rest.
  Result<std::string> Get(const std::string& path, int read_seconds = 30) const {
    auto res = Client(read_seconds)->Get(path, Headers());
    return Body(res, path);
  }
  // GET `path`, the body of a 200 answer handed to `receive` piece by piece as it arrives
  // (never held whole). Errors as Get; an answer cut short after its first bytes is kIO.
  Status Download(const std::string& path, int read_seconds,
                  const std::function<Status(std::string_view)>& receive) const {
    int http = 0;
    uint64_t received = 0;
    std::string error_body;
    Status failed;
    auto res = Client(read_seconds)
                   ->Get(
                       path, Headers(),
                       [&](const httplib::Response& r) {
                         http = r.status;
                         return true;
                       },
                       [&](const char* data, size_t n) {
                         if (http != 200) {
                           error_body.append(data, std::min(n, kMaxErrorBody - error_body.size()));
                           return error_body.size() < kMaxErrorBody;
                         }
                         received += n;
                         failed = receive(std::string_view(data, n));
                         return failed.ok();
                       });
    CAIRN_RETURN_IF_ERROR(failed);
    if (!res && received > 0) {
      return Status::IO(
          fmt::format("GET {}: the answer was cut short after {} bytes", path, received));
    }
    if (res && http != 200) return ErrorFor(path, http, error_body);
    return Body(res, path).status();
  }
  static Result<std::string> Body(const httplib::Result& res, const std::string& path) {
    if (!res) {
      return Status::Unreachable(
          fmt::format("cannot reach the server ({})", httplib::to_string(res.error())));
    }
    if (res->status == 200) return res->body;
    return ErrorFor(path, res->status, res->body);
  }
  static Status ErrorFor(const std::string& path, int http, const std::string& body) {
    std::string message = fmt::format("GET {}: HTTP {}", path, http);
    Json j = Json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      message += ": " + j["message"].get<std::string>();
    }
    return http == 404 ? Status::NotFound(message) : Status::IO(message);
  }
  const std::string& token() const { return token_; }

 private:
  std::string url_;
  std::string token_;
};

// An object as it is downloaded: hashed as it arrives, held in memory up to kInMemory bytes
// and beyond that in an unlinked temporary file in `dir`, so that memory stays bounded
// whatever the object's size. Replay() hands the bytes on once they are known to be right.
class Download {
 public:
  static constexpr size_t kInMemory = 8 << 20;
  explicit Download(std::string dir) : dir_(std::move(dir)) {}
  ~Download() {
    if (fd_ >= 0) ::close(fd_);
  }
  Download(const Download&) = delete;
  Download& operator=(const Download&) = delete;

  Status Append(std::string_view data) {
    hash_.Update(data);
    if (fd_ < 0 && buffer_.size() + data.size() <= kInMemory) {
      buffer_.append(data);
      return Status::OK();
    }
    if (fd_ < 0) {
      CAIRN_RETURN_IF_ERROR(Spill());
    }
    return WriteAll(data);
  }
  Digest Finish() { return hash_.Finish(); }
  Status Replay(const std::function<Status(std::string_view)>& sink) const {
    if (fd_ < 0) return sink(buffer_);
    std::string piece(1 << 20, '\0');
    for (off_t at = 0;;) {
      ssize_t n = ::pread(fd_, piece.data(), piece.size(), at);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        return Status::IO(
            fmt::format("reading back a download in {}: {}", dir_, std::strerror(errno)));
      if (n == 0) return Status::OK();
      CAIRN_RETURN_IF_ERROR(sink(std::string_view(piece.data(), static_cast<size_t>(n))));
      at += n;
    }
  }

 private:
  // Moves the bytes so far into a temporary file nobody else can open: O_TMPFILE, or a
  // fresh name unlinked at once where the file system lacks it.
  Status Spill() {
    fd_ = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      std::string name = fmt::format("{}/.cairn-download-{}-{}", dir_, ::getpid(),
                                     reinterpret_cast<uintptr_t>(this));
      fd_ = ::open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd_ >= 0) ::unlink(name.c_str());
    }
    if (fd_ < 0) {
      return Status::IO(fmt::format("cannot make a temporary file in {} for a download: {}", dir_,
                                    std::strerror(errno)));
    }
    std::string held = std::move(buffer_);
    buffer_ = std::string();
    return WriteAll(held);
  }
  Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return Status::IO(
            fmt::format("writing a download into {}: {}", dir_, std::strerror(errno)));
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::OK();
  }

  std::string dir_;
  Sha256 hash_;
  std::string buffer_;
  int fd_ = -1;
};

// Objects for a checkout: the file of the same digest in the version DIR/current holds, when
// it still hashes to it; otherwise fetched from the server (any size: large objects pass
// through a temporary file in `spill_dir`). Each is verified whole before a byte is passed
// on.
class FetchingSource : public ObjectSource {
 public:
  FetchingSource(const Remote& remote, std::map<Digest, std::string> local, std::string spill_dir)
      : remote_(remote), local_(std::move(local)), spill_dir_(std::move(spill_dir)) {}

  Status Stream(const Digest& digest,
                const std::function<Status(std::string_view)>& sink) const override {
    if (auto it = local_.find(digest); it != local_.end()) {
      auto bytes = ReadLocal(it->second);
      if (bytes && Digest::Of(*bytes) == digest) {
        reused_ += 1;
        return sink(*bytes);
      }
    }
    std::string path = "/v1/objects/" + digest.ToString();
    Download download(spill_dir_);
    CAIRN_RETURN_IF_ERROR(
        remote_.Download(path, 60, [&](std::string_view data) { return download.Append(data); }));
    if (download.Finish() != digest) {
      return Status::Corruption(fmt::format("{} from the server does not match its digest", path));
    }
    fetched_ += 1;
    return download.Replay(sink);
  }
  uint64_t fetched() const { return fetched_; }
  uint64_t reused() const { return reused_; }

 private:
  static std::optional<std::string> ReadLocal(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    if (n < 0) return std::nullopt;
    return out;
  }

  const Remote& remote_;
  std::map<Digest, std::string> local_;
  std::string spill_dir_;
  mutable std::atomic<uint64_t> fetched_{0};
  mutable std::atomic<uint64_t> reused_{0};
};

std::atomic<bool> g_stop{false};
std::mutex g_client_mu;
httplib::Client* g_watch_client = nullptr;  // the long-poll in flight, stopped by a signal

class Follower {
 public:
  Follower(const HttpFollowOptions& o, const DeploymentName& name, std::string token)
      : o_(o), name_(name), remote_(o.url, std::move(token)) {}

  // Fetches and verifies snapshot `id`, checks it out into DIR, reports the receipt.
  Status SwitchTo(const SnapshotId& id) {
    CAIRN_ASSIGN_OR_RETURN(std::string manifest,
                           remote_.Get("/v1/snapshots/" + id.Hex() + "/manifest"));
    if (Digest::Of(manifest).Hex() != id.Hex()) {
      return Status::Corruption("the manifest the server sent for " + id.Hex() +
                                " does not hash to that id");
    }
    CAIRN_ASSIGN_OR_RETURN(Snapshot snapshot, SnapshotFromManifest(id, manifest));
    // Large downloads wait in DIR (created here if this is the host's first checkout), on
    // the file system the version is written to.
    std::error_code ec;
    std::filesystem::create_directories(o_.dir, ec);
    FetchingSource source(remote_, LocalFiles(), o_.dir);
    CheckoutOptions options;
    options.keep = o_.keep;
    CAIRN_ASSIGN_OR_RETURN(CheckoutResult result,
                           CheckoutFromSource(snapshot, source, o_.dir, options));
    current_ = snapshot;
    Report(result, source);
    if (result.switched || !reported_) SendReceipt(id);
    return Status::OK();
  }

  // The long-poll: the newest event if newer than `after_`, nullopt at the timeout.
  Result<std::optional<SnapshotId>> Watch() {
    std::string path = fmt::format("/v1/deployments/{}/watch?after={}&timeout={}",
                                   PercentEncoded(name_.view()), after_, o_.watch_seconds);
    auto client = remote_.Client(o_.watch_seconds + 10);
    {
      std::lock_guard<std::mutex> lock(g_client_mu);
      g_watch_client = client.get();
    }
    auto res = client->Get(path, remote_.Headers());
    {
      std::lock_guard<std::mutex> lock(g_client_mu);
      g_watch_client = nullptr;
    }
    if (res && res->status == 204) return std::optional<SnapshotId>();
    CAIRN_ASSIGN_OR_RETURN(std::string body, Remote::Body(res, path));
    Json event = Json::parse(body, nullptr, false);
    if (!event.is_object() || !event.contains("seq") || !event["seq"].is_number_unsigned() ||
        !event.contains("to") || !event["to"].is_string()) {
      return Status::IO("the server's watch answer is not an event");
    }
    CAIRN_ASSIGN_OR_RETURN(SnapshotId to, SnapshotId::Parse(event["to"].get<std::string>()));
    pending_seq_ = event["seq"].get<uint64_t>();
    return std::optional<SnapshotId>(to);
  }

  int Run() {
    std::string last_error;
    auto backoff = std::chrono::milliseconds(500);
    while (!g_stop) {
      Status s = Step();
      if (s.ok()) {
        if (!last_error.empty()) {
          fmt::print(stderr, "cairn: {} reachable again\n", o_.url);
          last_error.clear();
        }
        backoff = std::chrono::milliseconds(500);
        continue;
      }
      if (g_stop) break;
      if (s.code() == Code::kNotFound && !started_) {
        fmt::print(stderr, "cairn: not_found: {}\n", s.message());
        return 3;
      }
      // Said once until something changes. An outage is one thing, whatever the transport
      // calls each failed attempt (a read cut off, then connections refused).
      std::string what = s.code() == Code::kUnreachable ? "unreachable" : s.message();
      if (what != last_error) {
        last_error = what;
        fmt::print(stderr, "cairn: warning: {} (keeping the current version; retrying)\n",
                   s.message());
      }
      for (auto waited = std::chrono::milliseconds(0); waited < backoff && !g_stop;
           waited += std::chrono::milliseconds(50)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
    }
    return 0;
  }

 private:
  Status Step() {
    CAIRN_ASSIGN_OR_RETURN(auto to, Watch());
    started_ = true;
    if (!to) return Status::OK();
    auto current = CurrentCheckout(o_.dir);  // kNotFound: DIR is not there yet
    if (!current.ok() && current.status().code() != Code::kNotFound) return current.status();
    bool there = current.ok() && *current && **current == *to;
    if (!there || !current_ || current_->id != *to) {
      CAIRN_RETURN_IF_ERROR(SwitchTo(*to));
    }
    after_ = pending_seq_;  // only once DIR is at it: a failed switch is retried
    return Status::OK();
  }

  // digest -> file of the version DIR/current holds (when this process checked it out).
  std::map<Digest, std::string> LocalFiles() const {
    std::map<Digest, std::string> files;
    if (!current_) return files;
    for (const auto& c : current_->components) {
      files.emplace(c.digest, o_.dir + "/.versions/" + current_->id.Hex() + "/" + c.path);
    }
    return files;
  }

  void Report(const CheckoutResult& r, const FetchingSource& source) {
    std::string now = FormatTime(SystemClock().NowMicros());
    if (o_.json) {
      Json j = {{"deployment", name_.view()},
                {"time", now},
                {"id", r.id.Hex()},
                {"dir", o_.dir},
                {"switched", r.switched},
                {"previous", r.previous ? Json(r.previous->Hex()) : Json(nullptr)},
                {"objects_fetched", source.fetched()},
                {"objects_reused", source.reused()}};
      fmt::print("{}\n", j.dump());
    } else if (r.switched) {
      fmt::print("{} {}: {}/current -> {} (was {}; {} objects fetched, {} reused)\n", now,
                 name_.view(), o_.dir, r.id.Short(), r.previous ? r.previous->Short() : "nothing",
                 source.fetched(), source.reused());
    }
    std::fflush(stdout);
  }

  void SendReceipt(const SnapshotId& id) {
    if (remote_.token().empty()) return;
    Json body = {{"deployment", name_.view()},
                 {"snapshot", id.Hex()},
                 {"loaded_at", FormatTime(SystemClock().NowMicros())}};
    auto res = remote_.Client(10)->Post("/v1/receipts", remote_.Headers(), body.dump(),
                                        "application/json");
    Status s = Remote::Body(res, "/v1/receipts").status();
    if (s.ok()) {
      reported_ = true;
    } else {
      fmt::print(stderr, "cairn: warning: receipt not recorded: {}\n", s.message());
    }
  }

  const HttpFollowOptions& o_;
  DeploymentName name_;
  Remote remote_;
  uint64_t after_ = 0;
  uint64_t pending_seq_ = 0;
  bool started_ = false;
  bool reported_ = false;
  std::optional<Snapshot> current_;
};

}  // namespace

int RunHttpFollow(const HttpFollowOptions& o) {
  auto name = DeploymentName::Parse(o.deployment);
  if (!name.ok()) {
    fmt::print(stderr, "cairn: usage: --follow needs a deployment name: {}\n",
               name.status().message());
    return kExitUsage;
  }
  if (!o.url.starts_with("http://") && !o.url.starts_with("https://")) {
    fmt::print(stderr, "cairn: usage: --from takes http://HOST:PORT or https://HOST:PORT\n");
    return kExitUsage;
  }
  std::string token;
  if (!o.token_file.empty()) {
    auto t = ReadClientToken(o.token_file);
    if (!t.ok()) {
      fmt::print(stderr, "cairn: {}: {}\n", CodeName(t.status().code()), t.status().message());
      return t.status().code() == Code::kUsage ? kExitUsage : 3;
    }
    token = *t;
  }
  sigset_t stop_signals = BlockStopSignals();
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    g_stop = true;
    std::lock_guard<std::mutex> lock(g_client_mu);
    if (g_watch_client != nullptr) g_watch_client->stop();
  });
  stopper.detach();  // ends with the process
  Follower follower(o, *name, token);
  return follower.Run();
}

}  // namespace cairn::serve
