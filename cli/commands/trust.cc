// cairn trust init --root PUBKEY... --threshold K --key PRIVATE... · trust add NAME PUBKEY_FILE
// --role ROLE... · trust list · trust revoke NAME · trust log
#include <cairn/clock.h>
#include <cairn/remote.h>
#include <cairn/trust.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

std::string JoinRoles(const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ",") + r;
  return out;
}

Json EntryJson(const TrustEntry& e) {
  Json j = {{"name", e.name},
            {"key_id", e.key_id.ToString()},
            {"public_key", e.public_key.Hex()},
            {"roles", e.roles},
            {"status", e.revoked() ? "revoked" : "trusted"},
            {"added", FormatTime(e.added.time_micros)},
            {"added_by", e.added.actor},
            {"added_event", e.added.seq}};
  if (e.revoked()) {
    j["revoked"] = {{"time", FormatTime(e.revocation->time_micros)},
                    {"by", e.revocation->actor},
                    {"as", e.revocation->name},
                    {"reason", e.revocation->reason},
                    {"event", e.revocation->seq}};
  }
  return j;
}

// The options of a change: actor, reason, the root keys (loaded by the caller) and, when the
// store's trust chain is shared (team mode), the publisher it goes through first (owned by
// `publisher`).
Result<TrustChangeOptions> ChangeOptions(const Context& ctx, Store& store,
                                         const std::string& reason,
                                         const std::vector<PrivateKey>& keys,
                                         std::unique_ptr<ChainPublisher>* publisher) {
  CAIRN_ASSIGN_OR_RETURN(*publisher,
                         NewChainPublisher(store, TransferFor(30, !ctx.global.no_progress)));
  return TrustChangeOptions{ctx.Actor(), reason, {}, Context::KeyPointers(keys), publisher->get()};
}

// " (approved by 2 root keys)" for a signed change; "" otherwise.
std::string Approval(const std::vector<ChangeSignature>& signatures) {
  if (signatures.empty()) return "";
  return fmt::format(", approved by {} root key{}", signatures.size(),
                     signatures.size() == 1 ? "" : "s");
}

struct TrustInitOptions {
  std::vector<std::string> root_files;
  uint32_t threshold = 0;
  std::vector<std::string> keys;
  std::string reason;
  bool json = false;
};

int RunTrustInit(const TrustInitOptions& o, const Context& ctx) {
  RootSpec spec;
  for (const auto& file : o.root_files) {
    auto key = PublicKey::Load(file);
    if (!key.ok()) return ReportError(key.status().WithContext("--root"));
    spec.keys.push_back(*key);
  }
  spec.threshold = o.threshold;
  auto keys = ctx.RootKeys(o.keys);
  if (!keys.ok()) return ReportError(keys.status());
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  std::unique_ptr<ChainPublisher> publisher;
  auto change = ChangeOptions(ctx, **store, o.reason, *keys, &publisher);
  if (!change.ok()) return ReportError(change.status());
  auto event = InitRoot(**store, spec, *change);
  if (!event.ok()) return ReportError(event.status());
  if (o.json) {
    PrintJson(event->ToJson());
    return kExitOk;
  }
  Print(
      "root of trust: {} of {} keys must approve every trust and policy change (trust event "
      "#{}{})\n",
      event->root->threshold, event->root->keys.size(), event->seq, Approval(event->signatures));
  for (const auto& k : event->root->keys) Print("  root key {}\n", k.id().ToString());
  Print("pin it for auditors: cairn audit verify");
  for (const auto& k : event->root->keys) Print(" --root {}", k.id().ToString());
  Print("\n");
  return kExitOk;
}

struct TrustAddOptions {
  std::string name;
  std::string pubkey_file;
  std::vector<std::string> roles;
  std::string reason;
  std::vector<std::string> keys;
  bool json = false;
};

int RunTrustAdd(const TrustAddOptions& o, const Context& ctx) {
  auto key = PublicKey::Load(o.pubkey_file);
  if (!key.ok()) return ReportError(key.status());
  auto keys = ctx.RootKeys(o.keys);
  if (!keys.ok()) return ReportError(keys.status());
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  std::unique_ptr<ChainPublisher> publisher;
  auto change = ChangeOptions(ctx, **store, o.reason, *keys, &publisher);
  if (!change.ok()) return ReportError(change.status());
  auto event = AddTrust(**store, o.name, *key, o.roles, *change);
  if (!event.ok()) return ReportError(event.status());
  if (o.json) {
    PrintJson(event->ToJson());
  } else {
    Print("trusted \"{}\": key {} with role{} {} (trust event #{}{})\n", o.name,
          event->key_id.ToString(), event->roles.size() == 1 ? "" : "s", JoinRoles(event->roles),
          event->seq, Approval(event->signatures));
  }
  return kExitOk;
}

struct TrustRevokeOptions {
  std::string name;
  std::string reason;
  std::string compromised_since;
  std::vector<std::string> keys;
  bool json = false;
};

int RunTrustRevoke(const TrustRevokeOptions& o, const Context& ctx) {
  std::optional<int64_t> since;
  if (!o.compromised_since.empty()) {
    auto t = ParseTime(o.compromised_since);
    if (!t.ok()) return ReportError(t.status().WithContext("--compromised-since"));
    since = *t;
  }
  auto keys = ctx.RootKeys(o.keys);
  if (!keys.ok()) return ReportError(keys.status());
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  std::unique_ptr<ChainPublisher> publisher;
  auto change = ChangeOptions(ctx, **store, o.reason, *keys, &publisher);
  if (!change.ok()) return ReportError(change.status());
  change->compromised_since = since;
  auto event = RevokeTrust(**store, o.name, *change);
  if (!event.ok()) return ReportError(event.status());
  if (o.json) {
    PrintJson(event->ToJson());
    return kExitOk;
  }
  Print("revoked key {} of \"{}\" (trust event #{}{})\n", event->key_id.ToString(), o.name,
        event->seq, Approval(event->signatures));
  auto state = TrustState::Load(**store);
  if (state.ok()) {
    for (const TrustEntry* e : state->EntriesFor(event->key_id)) {
      if (e->name != o.name) Print("  also revoked: \"{}\" (same key)\n", e->name);
    }
  }
  return kExitOk;
}

struct TrustListOptions {
  bool json = false;
};

int RunTrustList(const TrustListOptions& o, const Context& ctx) {
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto state = TrustState::Load(**store);
  if (!state.ok()) return ReportError(state.status());
  const auto& root = state->root();
  if (o.json) {
    Json out = Json::array();
    if (root) {
      for (const auto& k : root->spec.keys) {
        out.push_back({{"name", nullptr},
                       {"key_id", k.id().ToString()},
                       {"public_key", k.Hex()},
                       {"roles", {"root"}},
                       {"status", "root"},
                       {"threshold", root->spec.threshold},
                       {"added", FormatTime(root->time_micros)},
                       {"added_event", root->seq}});
      }
    }
    for (const auto& e : state->entries()) out.push_back(EntryJson(e));
    PrintJson(out);
    return kExitOk;
  }
  size_t width = 6;
  for (const auto& e : state->entries()) width = std::max(width, e.name.size());
  if (root) {
    for (const auto& k : root->spec.keys) {
      Print("{:<{}}  {}  {:<20}  {} of {} approve changes (trust event #{})\n", "(root)", width,
            k.id().Short(), "root", root->spec.threshold, root->spec.keys.size(), root->seq);
    }
  } else {
    Print("unrooted: trust and policy changes need no signature (see 'cairn trust init')\n");
  }
  if (state->entries().empty()) {
    Print("no trusted keys (add one with 'cairn trust add NAME PUBKEY_FILE --role ROLE')\n");
    return kExitOk;
  }
  for (const auto& e : state->entries()) {
    std::string status = e.revoked()
                             ? fmt::format("REVOKED {} ({})", ShortTime(e.revocation->time_micros),
                                           e.revocation->reason)
                             : "trusted";
    Print("{:<{}}  {}  {:<20}  {}\n", e.name, width, e.key_id.Short(), JoinRoles(e.roles), status);
  }
  return kExitOk;
}

int RunTrustLog(const TrustListOptions& o, const Context& ctx) {
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto events = ReadTrustEvents(**store);
  if (!events.ok()) return ReportError(events.status());
  if (o.json) {
    Json out = Json::array();
    for (const auto& e : *events) out.push_back(e.ToJson());
    PrintJson(out);
    return kExitOk;
  }
  for (const auto& e : *events) {
    std::string approval =
        e.signatures.empty() ? "" : fmt::format("  ({} root signatures)", e.signatures.size());
    if (e.root) {
      Print("#{:<4} {}  {:<6}  {} of {} keys  {}  \"{}\"{}\n", e.seq, ShortTime(e.time_micros),
            TrustActionName(e.action), e.root->threshold, e.root->keys.size(), e.actor, e.reason,
            approval);
      continue;
    }
    Print("#{:<4} {}  {:<6}  {}  {}  {}  {}  \"{}\"{}\n", e.seq, ShortTime(e.time_micros),
          TrustActionName(e.action), e.name, e.key_id.Short(), JoinRoles(e.roles), e.actor,
          e.reason, approval);
  }
  return kExitOk;
}

}  // namespace

void RegisterTrust(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("trust", "Which keys the store trusts, with which roles");
  group->require_subcommand(1);

  auto init = std::make_shared<TrustInitOptions>();
  auto* cmd = group->add_subcommand(
      "init", "Make (or rotate) the root of trust: K of these keys approve every change after");
  cmd->add_option("--root", init->root_files, "A root public key PEM file (repeat for each)")
      ->required();
  cmd->add_option("--threshold", init->threshold, "How many root keys must approve a change")
      ->required()
      ->check(CLI::Range(1, 16));
  cmd->add_option("--key", init->keys,
                  "A root private key PEM approving this (repeat; a rotation needs the current "
                  "root's too)")
      ->required();
  cmd->add_option("--reason", init->reason, "Why (recorded in the trust chain)")->required();
  cmd->add_flag("--json", init->json, "Print the trust event as JSON");
  cmd->callback([init, &ctx] { ctx.exit_code = RunTrustInit(*init, ctx); });

  auto add = std::make_shared<TrustAddOptions>();
  cmd = group->add_subcommand("add", "Trust a public key under a new name (audited)");
  cmd->add_option("name", add->name, "Name of the signer (never reused)")->required();
  cmd->add_option("pubkey_file", add->pubkey_file, "PEM public key file (NAME.pub.pem)")
      ->required();
  cmd->add_option("--role", add->roles, "Role the key vouches as (repeatable): release, ci, ...")
      ->required();
  cmd->add_option("--reason", add->reason, "Why (recorded in the trust chain)");
  cmd->add_option("--key", add->keys,
                  "A root private key PEM approving this (rooted stores; repeat)");
  cmd->add_flag("--json", add->json, "Print the trust event as JSON");
  cmd->callback([add, &ctx] { ctx.exit_code = RunTrustAdd(*add, ctx); });

  auto list = std::make_shared<TrustListOptions>();
  cmd = group->add_subcommand("list", "Every trusted name: key id, roles, status");
  cmd->add_flag("--json", list->json, "Print as JSON");
  cmd->callback([list, &ctx] { ctx.exit_code = RunTrustList(*list, ctx); });

  auto revoke = std::make_shared<TrustRevokeOptions>();
  cmd = group->add_subcommand("revoke", "Revoke the key of NAME, under every name (audited)");
  cmd->add_option("name", revoke->name, "Trusted name whose key to revoke")->required();
  cmd->add_option("--reason", revoke->reason, "Why (recorded in the trust chain)")->required();
  cmd->add_option("--compromised-since", revoke->compromised_since,
                  "TIME the key was in other hands from: audit flags every move it signed since");
  cmd->add_option("--key", revoke->keys,
                  "A root private key PEM approving this (rooted stores; repeat)");
  cmd->add_flag("--json", revoke->json, "Print the trust event as JSON");
  cmd->callback([revoke, &ctx] { ctx.exit_code = RunTrustRevoke(*revoke, ctx); });

  auto log = std::make_shared<TrustListOptions>();
  cmd = group->add_subcommand("log", "Every change of the trust list, oldest first");
  cmd->add_flag("--json", log->json, "Print full events as JSON");
  cmd->callback([log, &ctx] { ctx.exit_code = RunTrustLog(*log, ctx); });
}

}  // namespace cairn::cli
