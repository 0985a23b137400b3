// cairn remote add NAME URL · remote list [--json] · remote remove NAME · remote check NAME
#include <cairn/remote.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct RemoteOptions {
  std::string name;
  std::string url;
  int timeout_s = 30;
  bool json = false;
};

int RunAdd(const RemoteOptions& o, const Context& ctx) {
  // Checked before the store is opened: a bad name or URL changes nothing.
  if (Status s = ValidateRemoteName(o.name); !s.ok()) return ReportError(s);
  if (Status s = ValidateRemoteUrl(o.url); !s.ok()) return ReportError(s);
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  if (Status s = AddRemote(**store, o.name, o.url); !s.ok()) return ReportError(s);
  Print("remote {}: {}\n", o.name, o.url);
  return kExitOk;
}

int RunRemove(const RemoteOptions& o, const Context& ctx) {
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  if (Status s = RemoveRemote(**store, o.name); !s.ok()) return ReportError(s);
  Print("removed remote {} (deployments that moved through it now move locally)\n", o.name);
  return kExitOk;
}

int RunList(const RemoteOptions& o, const Context& ctx) {
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto remotes = ListRemotes(**store);
  if (!remotes.ok()) return ReportError(remotes.status());
  if (o.json) {
    Json list = Json::array();
    for (const auto& r : *remotes) {
      list.push_back({{"name", r.name}, {"url", r.url}, {"upstream_of", r.upstream_of}});
    }
    PrintJson(list);
    return kExitOk;
  }
  for (const auto& r : *remotes) {
    std::string of;
    for (const auto& d : r.upstream_of) of += (of.empty() ? "" : ", ") + d;
    Print("{}\t{}{}\n", r.name, r.url, of.empty() ? "" : "\tupstream of " + of);
  }
  return kExitOk;
}

int RunCheck(const RemoteOptions& o, const Context& ctx) {
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  auto check = CheckRemote(**store, o.name, TransferFor(o.timeout_s, !ctx.global.no_progress));
  if (!check.ok()) return ReportError(check.status());
  if (o.json) {
    PrintJson({{"remote", o.name},
               {"refs", check->refs},
               {"probe_pushed", check->probe_pushed},
               {"probe_visible", check->probe_visible},
               {"probe_deleted", check->probe_deleted}});
    return kExitOk;
  }
  Print(
      "{}: accepts and shows refs/cairn/* (a probe ref was pushed, seen and deleted); {} "
      "ref(s) under refs/cairn/\n",
      o.name, check->refs);
  return kExitOk;
}

}  // namespace

void RegisterRemote(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("remote", "Git servers this store shares deployments through");
  cmd->require_subcommand(1);
  auto add_o = std::make_shared<RemoteOptions>();
  auto* add = cmd->add_subcommand("add", "Add a remote: git://HOST[:PORT]/PATH or file:///PATH");
  add->add_option("name", add_o->name, "Its name (e.g. origin)")->required();
  add->add_option("url", add_o->url, "Its URL (no credentials: they are never stored)")->required();
  add->callback([add_o, &ctx] { ctx.exit_code = RunAdd(*add_o, ctx); });

  auto list_o = std::make_shared<RemoteOptions>();
  auto* list = cmd->add_subcommand("list", "List remotes and the deployments moving through each");
  list->add_flag("--json", list_o->json, "Print JSON");
  list->callback([list_o, &ctx] { ctx.exit_code = RunList(*list_o, ctx); });

  auto rm_o = std::make_shared<RemoteOptions>();
  auto* rm = cmd->add_subcommand("remove", "Remove a remote (its deployments then move locally)");
  rm->add_option("name", rm_o->name, "The remote")->required();
  rm->callback([rm_o, &ctx] { ctx.exit_code = RunRemove(*rm_o, ctx); });

  auto check_o = std::make_shared<RemoteOptions>();
  auto* check = cmd->add_subcommand(
      "check", "Push and delete a probe ref: does the server take refs/cairn/*?");
  check->add_option("name", check_o->name, "The remote")->required();
  check->add_option("--timeout", check_o->timeout_s, "Seconds the whole exchange may take")
      ->check(CLI::Range(1, 3600));
  check->add_flag("--json", check_o->json, "Print JSON");
  check->callback([check_o, &ctx] { ctx.exit_code = RunCheck(*check_o, ctx); });
}

}  // namespace cairn::cli
