#include "api.h"

#include <cairn/clock.h>
#include <cairn/diff.h>
#include <cairn/object.h>
#include <cairn/receipts.h>
#include <cairn/revision.h>
#include <cairn/views.h>
#include <fmt/format.h>
#include <httplib.h>

#include <charconv>
#include <string_view>
#include <vector>

#include "request_parsing.h"

namespace cairn::serve {
namespace {

constexpr uint64_t kDefaultLogLimit = 100;
constexpr uint64_t kMaxLogLimit = 1000;
constexpr uint64_t kDefaultWatchSeconds = 30;

int HttpCodeFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kUsage:
    case Code::kInvalidInput:
      return 400;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
    case Code::kMoved:
    case Code::kGateBlocked:
      return 409;
    case Code::kBusy:
      return 503;
    case Code::kUnreachable:
      return 502;
    case Code::kRefused:
      return 403;
    case Code::kCorruption:
    case Code::kIO:
    case Code::kInternal:
      break;
  }
  return 500;
}

void SendJson(httplib::Response& res, int http, const Json& body) {
  res.status = http;
  res.set_content(body.dump(2, ' ', false, Json::error_handler_t::replace) + "\n",
                  "application/json");
}

void SendError(httplib::Response& res, int http, std::string_view error, std::string_view message) {
  SendJson(res, http, {{"error", error}, {"message", message}});
}

void SendStatus(httplib::Response& res, const Status& status) {
  SendError(res, HttpCodeFor(status.code()), CodeName(status.code()), status.message());
}

Result<uint64_t> ParseCount(const httplib::Request& req, const char* name, uint64_t fallback,
                            uint64_t max) {
  if (!req.has_param(name)) return fallback;
  return ParseCountText(name, req.get_param_value(name), max);
}

Result<std::optional<int64_t>> ParseOptionalTime(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::optional<int64_t>();
  auto t = ParseTime(req.get_param_value(name));
  if (!t.ok()) return t.status().WithContext(name);
  return std::optional<int64_t>(*t);
}

class Api {
 public:
  Api(StoreWatch& watch, const ApiOptions& options) : watch_(watch), options_(options) {}

  // Everything but POST /v1/receipts is answered here, before httplib reads a body.
  httplib::Server::HandlerResponse PreRoute(const httplib::Request& req, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    if (!HostAllowed(req)) {
      SendError(res, 421, "misdirected",
                "the Host header does not name this server (see cairn serve --allow-host)");
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    const TokenGrant* grant = nullptr;
    if (options_.tokens) {
      grant = options_.tokens->Find(BearerToken(req));
      if (grant == nullptr) {
        res.set_header("WWW-Authenticate", "Bearer");
        SendError(res, 401, "unauthorized", "this server needs a token (Authorization: Bearer)");
        res.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (req.method == "POST" && req.path == "/v1/receipts") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      res.set_header("Connection", "close");
      SendError(res, 405, "method", "only GET (and POST /v1/receipts) are served");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (grant != nullptr && !grant->read) {
      SendError(res, 403, "forbidden", "this token has no read scope");
      return httplib::Server::HandlerResponse::Handled;
    }
    auto segments = PathSegments(req.target);
    if (!segments.ok()) {
      SendStatus(res, segments.status());
    } else {
      Get(*segments, req, res);
    }
    return httplib::Server::HandlerResponse::Handled;
  }

  void PostReceipt(const httplib::Request& req, httplib::Response& res) {
    const TokenGrant* grant = options_.tokens ? options_.tokens->Find(BearerToken(req)) : nullptr;
    if (grant == nullptr || !grant->receipt) {
      SendError(res, 403, "forbidden",
                options_.tokens ? "this token has no receipt scope"
                                : "receipts need a token file (cairn serve --token-file)");
      return;
    }
    auto receipt = ParseReceipt(req.body, grant->host);
    if (!receipt.ok()) return SendStatus(res, receipt.status());
    Status s = AppendReceipt(watch_.path(), *receipt);
    if (!s.ok()) return SendStatus(res, s);
    SendJson(res, 200, ReceiptJson(*receipt));
  }

 private:
  static std::string BearerToken(const httplib::Request& req) {
    std::string value = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (!std::string_view(value).starts_with(kBearer)) return "";
    return value.substr(kBearer.size());
  }

  bool HostAllowed(const httplib::Request& req) const {
    if (req.get_header_value_count("Host") != 1) return false;
    return options_.allowed_hosts.contains(req.get_header_value("Host"));
  }

  void Get(const std::vector<std::string>& seg, const httplib::Request& req,
           httplib::Response& res) {
    if (seg.size() < 2 || seg[0] != "v1") return NotFound(res);
    auto store = watch_.store();
    const std::string& what = seg[1];
    if (what == "status" && seg.size() == 2) return Status_(*store, res);
    if (what == "deployments" && seg.size() >= 3 && seg.size() <= 4) {
      auto name = DeploymentName::Parse(seg[2]);
      if (!name.ok()) return SendStatus(res, name.status());
      if (seg.size() == 3) return Deployment_(*store, *name, res);
      if (seg[3] == "log") return Log(*store, *name, req, res);
      if (seg[3] == "live") return Live(*store, *name, req, res);
      if (seg[3] == "watch") return Watch(*name, req, res);
      if (seg[3] == "receipts") return Receipts(*name, req, res);
    }
    if (what == "snapshots" && seg.size() == 2) return Snapshots(*store, req, res);
    if (what == "snapshots" && seg.size() == 3) return Snapshot_(*store, seg[2], res);
    if (what == "snapshots" && seg.size() == 4 && seg[3] == "manifest") {
      return Manifest(*store, seg[2], res);
    }
    if (what == "diff" && seg.size() == 2) return Diff(*store, req, res);
    if (what == "objects" && seg.size() == 3) return Object(store, seg[2], res);
    if (what == "audit" && seg.size() == 2) return Audit(*store, req, res);
    NotFound(res);
  }

  static void NotFound(httplib::Response& res) {
    SendError(res, 404, "not_found", "no such resource (docs/serve.md lists the API)");
  }

  void Status_(const Store& store, httplib::Response& res) {
    auto list = ListDeployments(store);
    if (!list.ok()) return SendStatus(res, list.status());
    SendJson(res, 200, StatusJson(*list));
  }

  void Deployment_(const Store& store, const DeploymentName& name, httplib::Response& res) {
    auto d = GetDeployment(store, name);
    if (!d.ok()) return SendStatus(res, d.status());
    SendJson(res, 200, DeploymentJson(*d));
  }

  // Oldest first, at most `limit` events; older pages through ?before=<first seq shown>
  // (X-Cairn-Next-Before names it while older events exist).
  void Log(const Store& store, const DeploymentName& name, const httplib::Request& req,
           httplib::Response& res) {
    auto limit = ParseCount(req, "limit", kDefaultLogLimit, kMaxLogLimit);
    if (!limit.ok()) return SendStatus(res, limit.status());
    auto before = ParseCount(req, "before", UINT64_MAX, UINT64_MAX);
    if (!before.ok()) return SendStatus(res, before.status());
    auto since = ParseOptionalTime(req, "since");
    if (!since.ok()) return SendStatus(res, since.status());
    auto until = ParseOptionalTime(req, "until");
    if (!until.ok()) return SendStatus(res, until.status());
    std::vector<Event> page;
    bool older = false;
    if (!*since && !*until) {
      auto d = GetDeployment(store, name);
      if (!d.ok()) return SendStatus(res, d.status());
      uint64_t hi = std::min(d->last.seq, *before == 0 ? 0 : *before - 1);
      uint64_t lo = hi >= *limit ? hi - *limit + 1 : 1;
      for (uint64_t seq = lo; seq <= hi && *limit > 0; ++seq) {
        auto e = GetEvent(store, name, seq);
        if (!e.ok()) return SendStatus(res, e.status());
        page.push_back(std::move(*e));
      }
      older = !page.empty() && page.front().seq > 1;
    } else {
      auto events = ReadEvents(store, name, *since, *until);
      if (!events.ok()) return SendStatus(res, events.status());
      std::vector<Event>& all = *events;
      size_t end = 0;
      while (end < all.size() && all[end].seq < *before) ++end;
      size_t begin = end >= *limit ? end - *limit : 0;
      older = begin > 0;
      page.assign(std::make_move_iterator(all.begin() + static_cast<ptrdiff_t>(begin)),
                  std::make_move_iterator(all.begin() + static_cast<ptrdiff_t>(end)));
    }
    if (older) res.set_header("X-Cairn-Next-Before", std::to_string(page.front().seq));
    SendJson(res, 200, EventsJson(page));
  }

  void Live(const Store& store, const DeploymentName& name, const httplib::Request& req,
            httplib::Response& res) {
    if (!req.has_param("at")) return SendError(res, 400, "usage", "live needs ?at=TIME");
    auto at = ParseTime(req.get_param_value("at"));
    if (!at.ok()) return SendStatus(res, at.status().WithContext("at"));
    auto event = LiveAt(store, name, *at);
    if (!event.ok()) return SendStatus(res, event.status());
    SendJson(res, 200, LiveJson(name.view(), *at, *event));
  }

  void Watch(const DeploymentName& name, const httplib::Request& req, httplib::Response& res) {
    auto after = ParseCount(req, "after", 0, UINT64_MAX);
    if (!after.ok()) return SendStatus(res, after.status());
    auto timeout = ParseCount(req, "timeout", kDefaultWatchSeconds,
                              static_cast<uint64_t>(options_.max_watch.count()));
    if (!timeout.ok()) return SendStatus(res, timeout.status());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(*timeout);
    auto event = watch_.WaitForEvent(name.str(), *after, deadline);
    if (!event.ok()) return SendStatus(res, event.status());
    if (!*event) {
      res.status = 204;
      return;
    }
    SendJson(res, 200, (*event)->ToJson());
  }

  void Receipts(const DeploymentName& name, const httplib::Request& req, httplib::Response& res) {
    auto at = ParseOptionalTime(req, "at");
    if (!at.ok()) return SendStatus(res, at.status());
    auto receipts = ReadReceipts(watch_.path());
    if (!receipts.ok()) return SendStatus(res, receipts.status());
    int64_t when = at->value_or(SystemClock().NowMicros());
    SendJson(
        res, 200,
        ReceiptsJson(name.view(), when,
                     HostsServing(*receipts, name.view(), when, options_.receipt_window_micros)));
  }

  void Snapshots(const Store& store, const httplib::Request& req, httplib::Response& res) {
    auto list = ListSnapshots(store, req.get_param_value("app"));
    if (!list.ok()) return SendStatus(res, list.status());
    std::reverse(list->begin(), list->end());
    SendJson(res, 200, SnapshotListJson(*list));
  }

  void Snapshot_(const Store& store, const std::string& rev, httplib::Response& res) {
    auto id = ResolveRevision(store, rev);
    if (!id.ok()) return SendStatus(res, id.status());
    auto view = LoadSnapshotView(store, *id);
    if (!view.ok()) return SendStatus(res, view.status());
    SendJson(res, 200, SnapshotViewJson(*view));
  }

  // The canonical manifest bytes, whose SHA-256 is the id: what a follower verifies.
  void Manifest(const Store& store, const std::string& rev, httplib::Response& res) {
    auto id = SnapshotId::Parse(rev);
    if (!id.ok()) return SendStatus(res, id.status());
    auto snapshot = LoadSnapshot(store, *id);
    if (!snapshot.ok()) return SendStatus(res, snapshot.status());
    auto bytes = CanonicalManifest(*snapshot);
    if (!bytes.ok()) return SendStatus(res, bytes.status());
    res.set_content(*bytes, "application/json");
  }

  void Diff(const Store& store, const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("from") || !req.has_param("to")) {
      return SendError(res, 400, "usage", "diff needs ?from=REV&to=REV");
    }
    Snapshot snapshots[2];
    const char* names[2] = {"from", "to"};
    for (int i = 0; i < 2; ++i) {
      auto id = ResolveRevision(store, req.get_param_value(names[i]));
      if (!id.ok()) return SendStatus(res, id.status().WithContext(names[i]));
      auto s = LoadSnapshot(store, *id);
      if (!s.ok()) return SendStatus(res, s.status());
      snapshots[i] = std::move(*s);
    }
    auto diff = DiffSnapshots(store, snapshots[0], snapshots[1], DiffOptions{});
    if (!diff.ok()) return SendStatus(res, diff.status());
    SendJson(res, 200, DiffJson(*diff, snapshots[0], snapshots[1]));
  }

  // Up to kWholeObject bytes are read and verified whole, then sent. A larger object is
  // streamed (Content-Length first) as StreamObject verifies it, one 1 MiB chunk at a time,
  // the last held back until the whole digest is known: a damaged object cuts the
  // connection short, so a client never receives all the bytes of a wrong object.
  static constexpr uint64_t kWholeObject = 8ull << 20;
  void Object(const std::shared_ptr<const Store>& store, const std::string& text,
              httplib::Response& res) {
    auto digest = Digest::Parse(text, /*allow_bare=*/true);
    if (!digest.ok()) return SendStatus(res, digest.status());
    auto info = StatObject(*store, *digest);
    if (!info.ok()) return SendStatus(res, info.status());
    res.set_header("X-Cairn-Digest", digest->ToString());
    if (info->size <= kWholeObject) {
      // StreamObject, not ReadObject: the record was just stat'ed, ReadObject would again.
      std::string bytes;
      bytes.reserve(info->size);
      Status read = StreamObject(*store, *digest, [&](std::string_view piece) {
        bytes.append(piece);
        return Status::OK();
      });
      if (!read.ok()) return SendStatus(res, read);
      return res.set_content(std::move(bytes), "application/octet-stream");
    }
    // The provider runs after this handler returns: it holds the store it reads.
    res.set_content_provider(
        info->size, "application/octet-stream",
        [store, digest = *digest](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset != 0) return false;  // everything is written by the first call
          Status s = StreamObject(*store, digest, [&](std::string_view piece) {
            return sink.write(piece.data(), piece.size())
                       ? Status::OK()
                       : Status::IO("the client stopped reading");
          });
          if (!s.ok()) {
            fmt::print(stderr, "cairn-serve: objects/{}: {} (connection cut short)\n",
                       digest.ToString(), s.message());
          }
          return s.ok();
        });
  }

  void Audit(const Store& store, const httplib::Request& req, httplib::Response& res) {
    std::optional<DeploymentName> only;
    if (req.has_param("deployment")) {
      auto name = DeploymentName::Parse(req.get_param_value("deployment"));
      if (!name.ok()) return SendStatus(res, name.status());
      only = *name;
    }
    auto report = AuditVerify(store, only, {});
    if (!report.ok()) return SendStatus(res, report.status());
    SendJson(res, 200, AuditJson(*report));
  }

  // {deployment, snapshot, loaded_at[, host]}; the host is the token's.
  Result<Receipt> ParseReceipt(const std::string& body, const std::string& host) {
    CAIRN_ASSIGN_OR_RETURN(Receipt r, ParseReceiptBody(body, host));
    CAIRN_ASSIGN_OR_RETURN(auto name, DeploymentName::Parse(r.deployment));
    auto store = watch_.store();
    CAIRN_RETURN_IF_ERROR(GetDeployment(*store, name).status());
    CAIRN_ASSIGN_OR_RETURN(bool known, HasSnapshot(*store, r.snapshot));
    if (!known) return Status::NotFound("no snapshot " + r.snapshot.Hex() + " in this store");
    r.received_micros = SystemClock().NowMicros();
    return r;
  }

  StoreWatch& watch_;
  const ApiOptions& options_;
};

}  // namespace

void InstallApi(httplib::Server& server, StoreWatch& watch, const ApiOptions& options) {
  auto api = std::make_shared<Api>(watch, options);
  server.set_pre_routing_handler([api](const httplib::Request& req, httplib::Response& res) {
    return api->PreRoute(req, res);
  });
  server.Post("/v1/receipts", [api](const httplib::Request& req, httplib::Response& res) {
    api->PostReceipt(req, res);
  });
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      SendError(res, res.status, "http", fmt::format("HTTP error {}", res.status));
    }
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SendError(res, 500, "internal", "internal error");
      });
}

}  // namespace cairn::serve
