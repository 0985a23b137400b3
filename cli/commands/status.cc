// cairn status [--json] — every deployment: live snapshot, since when, by whom, how.
#include <cairn/clock.h>
#include <cairn/deployment.h>
#include <cairn/policy.h>
#include <cairn/receipts.h>
#include <cairn/views.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct StatusOptions {
  bool json = false;
  std::string receipt_window = "24h";
};

// "  served by 11 of 12 hosts; host-7 on 09056b8df5e0 since 14:03" (at most three hosts
// named); "" when no host reported within the window.
std::string ServedBy(const std::vector<HostServing>& hosts, const SnapshotId& live) {
  ServingSummary s = SummarizeServing(hosts, live);
  if (s.hosts == 0) return "";
  std::string out =
      fmt::format("  served by {} of {} host{}", s.on_live, s.hosts, s.hosts == 1 ? "" : "s");
  for (size_t i = 0; i < s.elsewhere.size() && i < 3; ++i) {
    const HostServing& h = s.elsewhere[i];
    out += fmt::format("{} {} on {} since {}", i == 0 ? ";" : ",", h.host, h.snapshot.Short(),
                       ShortTime(h.since_micros));
  }
  if (s.elsewhere.size() > 3) out += fmt::format(" and {} more", s.elsewhere.size() - 3);
  return out;
}

int RunStatus(const StatusOptions& o, const Context& ctx) {
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto list = ListDeployments(**store);
  if (!list.ok()) return ReportError(list.status());
  auto window = ParseDuration(o.receipt_window, "--receipt-window");
  if (!window.ok()) return ReportError(window.status());
  if (o.json) {
    PrintJson(StatusJson(*list));
    return kExitOk;
  }
  if (list->empty()) {
    Print("no deployments yet (create one with 'cairn promote REV --to NAME --reason TEXT')\n");
    return kExitOk;
  }
  auto receipts = ReadReceipts((*store)->path());
  if (!receipts.ok()) return ReportError(receipts.status());
  int64_t now = SystemClock().NowMicros();
  for (const auto& d : *list) {
    Print("{:<20} {}  since {}  by {}  ({} #{}: \"{}\"){}{}\n", d.name, d.live.Short(),
          ShortTime(d.last.time_micros), d.last.actor, ActionName(d.last.action), d.last.seq,
          d.last.reason, EventMarkers(d.last),
          ServedBy(HostsServing(*receipts, d.name.view(), now, *window), d.live));
  }
  return kExitOk;
}

}  // namespace

void RegisterStatus(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<StatusOptions>();
  auto* cmd = app.add_subcommand("status", "What is live on every deployment, since when, by whom");
  cmd->add_flag("--json", o->json, "Print as JSON");
  cmd->add_option("--receipt-window", o->receipt_window,
                  "Hosts count as serving when they reported within this window (default 24h)");
  cmd->callback([o, &ctx] { ctx.exit_code = RunStatus(*o, ctx); });
}

}  // namespace cairn::cli
