// cairn receipts DEPLOYMENT [--at T] [--receipt-window D] [--json] — what hosts actually
// served at T (now by default), from the receipts cairn-serve recorded (docs/serve.md).
#include <cairn/clock.h>
#include <cairn/deployment.h>
#include <cairn/policy.h>
#include <cairn/receipts.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct ReceiptsOptions {
  std::string deployment;
  std::string at;
  std::string receipt_window = "24h";
  bool json = false;
};

int RunReceipts(const ReceiptsOptions& o, const Context& ctx) {
  auto name = DeploymentName::Parse(o.deployment);
  if (!name.ok()) return ReportError(name.status().WithContext("DEPLOYMENT"));
  int64_t at = SystemClock().NowMicros();
  if (!o.at.empty()) {
    auto t = ParseTime(o.at);
    if (!t.ok()) return ReportError(t.status().WithContext("--at"));
    at = *t;
  }
  auto window = ParseDuration(o.receipt_window, "--receipt-window");
  if (!window.ok()) return ReportError(window.status());
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  Event live;  // the event that made what was live at `at` live
  if (o.at.empty()) {
    auto d = GetDeployment(**store, *name);
    if (!d.ok()) return ReportError(d.status());
    live = d->last;
  } else {
    auto e = LiveAt(**store, *name, at);
    if (!e.ok()) return ReportError(e.status());
    live = *e;
  }
  auto receipts = ReadReceipts((*store)->path());
  if (!receipts.ok()) return ReportError(receipts.status());
  auto hosts = HostsServing(*receipts, name->view(), at, *window);
  if (o.json) {
    Json j = ReceiptsJson(name->view(), at, hosts);
    j["live"] = live.to.Hex();
    PrintJson(j);
    return kExitOk;
  }
  ServingSummary s = SummarizeServing(hosts, live.to);
  Print("{} at {}: {} live; served by {} of {} host{} that reported within {}\n", o.deployment,
        FormatTime(at), live.to.Short(), s.on_live, s.hosts, s.hosts == 1 ? "" : "s",
        FormatDuration(*window));
  for (const auto& h : hosts) {
    Print("  {:<24} {}{}  since {}  last report {}\n", h.host, h.snapshot.Short(),
          h.snapshot == live.to ? " (live)" : "       ", ShortTime(h.since_micros),
          ShortTime(h.reported_micros));
  }
  return kExitOk;
}

}  // namespace

void RegisterReceipts(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ReceiptsOptions>();
  auto* cmd = app.add_subcommand(
      "receipts", "What serving hosts reported they loaded for a deployment (now or at --at)");
  cmd->add_option("deployment", o->deployment, "Deployment")->required();
  cmd->add_option("--at", o->at, "RFC 3339 time or 'YYYY-MM-DD HH:MM[:SS]' (UTC); default now");
  cmd->add_option(
      "--receipt-window", o->receipt_window,
      "Hosts count when they reported within this window before the time (default 24h)");
  cmd->add_flag("--json", o->json, "Print as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunReceipts(*o, ctx); });
}

}  // namespace cairn::cli
