// cairn checkout REV|DEPLOYMENT --into DIR [--keep K] [--follow [--interval MS]] [--json]
// cairn checkout DEPLOYMENT --into DIR --follow --from http://HOST:PORT [--token-file F]
//   (a host with no store: runs `cairn-serve follow`, which holds the HTTP client)
#include <cairn/checkout.h>
#include <cairn/clock.h>
#include <cairn/deployment.h>
#include <cairn/remote.h>
#include <cairn/revision.h>
#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <cstdio>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct CheckoutCliOptions {
  std::string rev;
  std::string into;
  uint32_t keep = 5;
  bool follow = false;
  bool verify = false;
  int interval_ms = 500;
  int timeout_s = 5;
  bool json = false;
  std::string from;        // --from URL: follow a cairn serve instead of a store
  std::string token_file;  // --token-file: this host's token for --from
};

// Set by SIGINT/SIGTERM while following; the only state a signal handler may touch.
std::atomic<bool> g_stop_following{false};

extern "C" void StopFollowing(int) { g_stop_following.store(true); }

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = StopFollowing;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

Json ResultJson(const CheckoutResult& r, const std::string& dir) {
  Json removed = Json::array();
  for (const auto& id : r.removed) removed.push_back(id.Hex());
  return {{"id", r.id.Hex()},
          {"dir", dir},
          {"version_path", r.version_path},
          {"written", r.written},
          {"rewritten", r.rewrite_reason.empty() ? Json(nullptr) : Json(r.rewrite_reason)},
          {"switched", r.switched},
          {"previous", r.previous ? Json(r.previous->Hex()) : Json(nullptr)},
          {"files", r.files},
          {"bytes", r.bytes},
          {"removed", removed}};
}

void WarnRewrite(const CheckoutResult& r) {
  if (r.rewrite_reason.empty()) return;
  PrintErr("cairn: warning: {} was not what cairn wrote ({}); wrote it again\n", r.version_path,
           r.rewrite_reason);
}

void PrintResult(const CheckoutResult& r, const std::string& dir) {
  WarnRewrite(r);
  if (r.written) {
    Print("Wrote {} into {} ({} files, {})\n", r.id.Short(), r.version_path, r.files,
          HumanBytes(r.bytes));
  } else {
    Print("Reused {} ({} files, {})\n", r.version_path, r.files, HumanBytes(r.bytes));
  }
  if (r.switched) {
    Print("{}/current -> .versions/{} (was {})\n", dir, r.id.Short(),
          r.previous ? r.previous->Short() : "nothing");
  } else {
    Print("{}/current already points to {}\n", dir, r.id.Short());
  }
  for (const auto& id : r.removed) Print("removed old version {}\n", id.Short());
}

int RunFollow(const CheckoutCliOptions& o, const Context& ctx) {
  auto name = DeploymentName::Parse(o.rev);
  if (!name.ok()) {
    return ReportError(Status::Usage(fmt::format("--follow needs a deployment name, not \"{}\": {}",
                                                 o.rev, name.status().message())));
  }
  auto store_path = ctx.StorePath();
  if (!store_path.ok()) return ReportError(store_path.status());
  InstallStopHandlers();
  FollowOptions f;
  f.checkout.keep = o.keep;
  f.checkout.verify = o.verify;
  f.interval = std::chrono::milliseconds(o.interval_ms);
  f.stop = [] { return g_stop_following.load(); };
  f.on_switch = [&](const CheckoutResult& r) {
    WarnRewrite(r);
    if (o.json) {
      Json j = ResultJson(r, o.into);
      j["deployment"] = o.rev;
      j["time"] = FormatTime(SystemClock().NowMicros());
      fmt::print("{}\n", j.dump());  // JSON: its own escaping
    } else {
      Print("{} {}: {}/current -> {} (was {})\n", FormatTime(SystemClock().NowMicros()), o.rev,
            o.into, r.id.Short(), r.previous ? r.previous->Short() : "nothing");
    }
    std::fflush(stdout);
  };
  // A store whose deployment moves through an upstream pulls it at each look, as a brief
  // writer: it waits at most 200 ms for the lock (another writer is busy: the next look
  // tries again) and at most --timeout for the remote.
  f.refresh = [&]() -> Status {
    {
      // A look that finds the upstream where it was pulled last takes no lock at all.
      StoreOpenOptions read;
      read.read_only = true;
      auto store = Store::Open(*store_path, read);
      if (!store.ok()) return store.status();
      auto moved = UpstreamMoved(**store, *name, TransferFor(o.timeout_s, false));
      if (!moved.ok()) return moved.status();
      if (!*moved) return Status::OK();
    }
    StoreOpenOptions open;
    open.read_only = false;
    open.lock_timeout = std::chrono::milliseconds(200);
    auto store = Store::Open(*store_path, open);
    if (!store.ok()) return store.status();
    auto upstream = UpstreamOf(**store, *name);
    if (!upstream.ok()) return upstream.status();
    if (!*upstream) return (*store)->Close();
    PullOptions pull;
    pull.deployments = {*name};
    pull.transfer = TransferFor(o.timeout_s, false);
    auto report = Pull(**store, **upstream, pull);
    Status closed = (*store)->Close();
    if (!report.ok()) return report.status();
    return closed;
  };
  std::string last_error;
  f.on_error = [&](const Status& s) {
    if (s.message() == last_error) return;  // said once until something changes
    last_error = s.message();
    PrintErr("cairn: warning: {} (keeping the current version; trying again every {} ms)\n",
             s.message(), o.interval_ms);
  };
  Status s = FollowDeployment(*store_path, *name, o.into, f);
  if (!s.ok()) return ReportError(s);
  return kExitOk;
}

// --from: cairn-serve follows over HTTP; this process is replaced by it.
int RunFollowFrom(const CheckoutCliOptions& o) {
  std::vector<std::string> args = {"follow", o.rev,  "--into", o.into,
                                   "--from", o.from, "--keep", std::to_string(o.keep)};
  if (!o.token_file.empty()) args.insert(args.end(), {"--token-file", o.token_file});
  if (o.json) args.push_back("--json");
  return ExecHelper("cairn-serve", "cairn checkout", args);
}

int RunCheckout(const CheckoutCliOptions& o, const Context& ctx) {
  if (o.follow && !o.from.empty()) return RunFollowFrom(o);
  if (o.follow) return RunFollow(o, ctx);
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto id = ResolveRevision(**store, o.rev);
  if (!id.ok()) return ReportError(id.status());
  CheckoutOptions options;
  options.keep = o.keep;
  options.verify = o.verify;
  auto result = Checkout(**store, *id, o.into, options);
  if (!result.ok()) return ReportError(result.status());
  if (o.json) {
    WarnRewrite(*result);
    PrintJson(ResultJson(*result, o.into));
  } else {
    PrintResult(*result, o.into);
  }
  return kExitOk;
}

}  // namespace

void RegisterCheckout(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CheckoutCliOptions>();
  auto* cmd = app.add_subcommand(
      "checkout",
      "Write a snapshot into DIR/.versions/<id> and switch DIR/current to it atomically");
  cmd->add_option("rev", o->rev, "Snapshot or deployment: id, prefix, NAME, NAME@{N}, NAME@TIME")
      ->required();
  cmd->add_option("--into", o->into, "Checkout directory (created if missing)")->required();
  cmd->add_option("--keep", o->keep,
                  "Versions to keep in DIR/.versions (default 5; current is never removed)")
      ->check(CLI::Range(1, 1000));
  cmd->add_flag("--verify", o->verify,
                "Reusing a version already in DIR, re-read every file against its digest (by "
                "default each file's inode, size and times are checked against the seal)");
  auto* follow =
      cmd->add_flag("--follow", o->follow,
                    "Keep DIR/current at what is live on the deployment until interrupted");
  cmd->add_option("--interval", o->interval_ms,
                  "With --follow: look every MS milliseconds (default 500)")
      ->check(CLI::Range(10, 3600000))
      ->needs(follow);
  cmd->add_option("--timeout", o->timeout_s,
                  "With --follow on a deployment that has an upstream: seconds each pull from it "
                  "may take (default 5)")
      ->check(CLI::Range(1, 3600))
      ->needs(follow);
  auto* from = cmd->add_option("--from", o->from,
                               "With --follow: follow a 'cairn serve' at http://HOST:PORT instead "
                               "of a store (for a host with no store)")
                   ->needs(follow);
  cmd->add_option("--token-file", o->token_file,
                  "With --from: file holding this host's token (reads, and receipts after each "
                  "switch)")
      ->needs(from);
  cmd->add_flag("--json", o->json, "Print the result as JSON (one line per switch with --follow)");
  cmd->callback([o, &ctx] { ctx.exit_code = RunCheckout(*o, ctx); });
}

}  // namespace cairn::cli
