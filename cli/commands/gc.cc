// cairn gc [--dry-run] [--grace DUR] [--receipt-window DUR] [--yes] [--json] — delete the
// snapshots nothing keeps (never live, no valid evidence by a trusted key, arrived before the
// grace period, not an app's newest, not reported served) and the objects only they named.
#include <cairn/gc.h>
#include <cairn/policy.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct GcCommandOptions {
  bool dry_run = false;
  std::string grace = "14d";
  std::string receipt_window = "24h";
  bool yes = false;
  bool json = false;
};

// "0" (with --yes) or a duration as --soak takes it.
Result<int64_t> ParseGrace(const GcCommandOptions& o) {
  if (o.grace == "0") {
    if (!o.yes) {
      return Status::Usage(
          "--grace 0 deletes even a snapshot created a moment ago that nothing else keeps; "
          "add --yes to confirm");
    }
    return int64_t{0};
  }
  return ParseDuration(o.grace, "--grace");
}

Json ReportJson(const GcReport& r, int64_t grace) {
  Json deleted = Json::array();
  for (const GcSnapshot& s : r.deleted) {
    deleted.push_back(
        {{"id", s.id.Hex()},
         {"app", s.app},
         {"message", s.message},
         {"created", FormatTime(s.created_micros)},
         {"arrived", s.arrived_micros ? Json(FormatTime(*s.arrived_micros)) : Json(nullptr)}});
  }
  Json kept = {{"total", r.kept}};
  for (size_t i = 0; i < kGcKeepReasons; ++i) {
    kept[GcKeepReasonName(static_cast<GcKeepReason>(i))] = r.kept_by[i];
  }
  return {{"dry_run", r.dry_run},
          {"grace_seconds", grace / 1000000},
          {"snapshots", deleted},
          {"objects", r.objects},
          {"object_bytes", r.object_bytes},
          {"unreferenced_objects", r.unreferenced_objects},
          {"signatures", r.signatures},
          {"attestations", r.attestations},
          {"stat_cache_entries", r.stat_cache_entries},
          {"arrival_recorded", r.arrival_recorded},
          {"kept", kept},
          {"disk_bytes_before", r.disk_bytes_before},
          {"disk_bytes_after", r.disk_bytes_after}};
}

void PrintReport(const GcReport& r, int64_t grace) {
  const char* verb = r.dry_run ? "would delete" : "deleted";
  Print("{} {} snapshot{}, {} object{} ({} stored", verb, r.deleted.size(),
        r.deleted.size() == 1 ? "" : "s", r.objects, r.objects == 1 ? "" : "s",
        HumanBytes(r.object_bytes));
  if (r.unreferenced_objects > 0) {
    Print("; {} left by interrupted snapshots or pulls", r.unreferenced_objects);
  }
  Print("), {} signature{}, {} attestation{}, {} stat-cache entr{}\n", r.signatures,
        r.signatures == 1 ? "" : "s", r.attestations, r.attestations == 1 ? "" : "s",
        r.stat_cache_entries, r.stat_cache_entries == 1 ? "y" : "ies");
  for (const GcSnapshot& s : r.deleted) {
    Print("  {}  {}  created {}  {}\n", s.id.Short(), s.app, ShortTime(s.created_micros),
          s.message);
  }
  const uint64_t* k = r.kept_by;
  Print(
      "kept {} snapshot{}: {} ever live, {} with evidence by a trusted key, {} recent (arrived "
      "within {}), {} newest of an app, {} reported served by a host\n",
      r.kept, r.kept == 1 ? "" : "s", k[0], k[1], k[2], FormatDuration(grace), k[3], k[4]);
  if (r.arrival_recorded > 0) {
    Print("{} snapshot{} had no recorded arrival time: {} now, so their grace period starts {}\n",
          r.arrival_recorded, r.arrival_recorded == 1 ? "" : "s",
          r.dry_run ? "gc would record it" : "recorded", r.dry_run ? "at the next gc" : "today");
  }
  if (r.dry_run) {
    Print("store database: {} (nothing deleted: --dry-run)\n", HumanBytes(r.disk_bytes_before));
  } else {
    uint64_t freed =
        r.disk_bytes_before > r.disk_bytes_after ? r.disk_bytes_before - r.disk_bytes_after : 0;
    Print("store database: {} -> {} ({} reclaimed)\n", HumanBytes(r.disk_bytes_before),
          HumanBytes(r.disk_bytes_after), HumanBytes(freed));
  }
}

int RunGc(const GcCommandOptions& o, const Context& ctx) {
  auto grace = ParseGrace(o);
  if (!grace.ok()) return ReportError(grace.status());
  auto window = ParseDuration(o.receipt_window, "--receipt-window");
  if (!window.ok()) return ReportError(window.status());
  auto store = o.dry_run ? ctx.OpenForRead() : ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  TerminalProgress progress(!ctx.global.no_progress && !o.json);
  GcOptions options;
  options.grace_micros = *grace;
  options.receipt_window_micros = *window;
  options.dry_run = o.dry_run;
  options.progress = &progress;
  auto report = CollectGarbage(**store, options);
  progress.Finish();
  if (!report.ok()) return ReportError(report.status());
  Status closed = (*store)->Close();
  if (!closed.ok()) return ReportError(closed);
  if (o.json) {
    PrintJson(ReportJson(*report, *grace));
  } else {
    PrintReport(*report, *grace);
  }
  return kExitOk;
}

}  // namespace

void RegisterGc(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<GcCommandOptions>();
  auto* cmd = app.add_subcommand(
      "gc",
      "Delete snapshots that were never live, carry no trusted evidence and are older than the "
      "grace period, with the objects only they used");
  cmd->add_flag("--dry-run", o->dry_run, "Print what would be deleted; delete nothing");
  cmd->add_option("--grace", o->grace,
                  "Keep snapshots that arrived in this store within this long (default 14d; "
                  "0 needs --yes)");
  cmd->add_option("--receipt-window", o->receipt_window,
                  "Keep snapshots a serving host reported within this long (default 24h)");
  cmd->add_flag("--yes", o->yes, "Confirm --grace 0");
  cmd->add_flag("--json", o->json, "Print the report as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunGc(*o, ctx); });
}

}  // namespace cairn::cli
