// cairn sign REV --key KEYFILE [--json]
#include <cairn/revision.h>
#include <cairn/signature.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct SignCmdOptions {
  std::string rev;
  std::string key;
  bool json = false;
};

int RunSign(const SignCmdOptions& o, const Context& ctx) {
  auto key = ctx.SigningKey(o.key);
  if (!key.ok()) return ReportError(key.status());
  if (!*key) {
    return ReportError(Status::Usage("name the signing key with --key FILE (or set CAIRN_KEY)"));
  }
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  auto id = ResolveRevision(**store, o.rev);
  if (!id.ok()) return ReportError(id.status());
  auto result = SignSnapshot(**store, *id, **key, {ctx.Actor()});
  if (!result.ok()) return ReportError(result.status());
  const SnapshotSignature& s = result->signature;
  if (o.json) {
    PrintJson({{"snapshot", id->Hex()},
               {"key_id", s.key_id.ToString()},
               {"sig", s.signature.Hex()},
               {"already_signed", result->already_signed},
               {"key_trusted", result->key_trust == KeyTrust::kTrusted}});
    return kExitOk;
  }
  if (result->already_signed) {
    Print("{} was already signed by key {} (at {}): nothing changed\n", id->Short(),
          s.key_id.ToString(), ShortTime(s.time_micros));
  } else {
    Print("signed {} with key {}\n", id->Short(), s.key_id.ToString());
  }
  if (result->key_trust == KeyTrust::kUnknown) {
    PrintErr(
        "cairn: note: key {} is not in the trust list: this signature counts as "
        "'unknown key' until 'cairn trust add NAME PUBKEY_FILE --role ROLE'\n",
        s.key_id.Short());
  }
  return kExitOk;
}

}  // namespace

void RegisterSign(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<SignCmdOptions>();
  auto* cmd = app.add_subcommand("sign", "Add your detached signature to a snapshot");
  cmd->add_option("rev", o->rev, "Snapshot: id, prefix, deployment, NAME@{N}, NAME@TIME")
      ->required();
  cmd->add_option("--key", o->key, "Private key PEM file (default: $CAIRN_KEY)");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunSign(*o, ctx); });
}

}  // namespace cairn::cli
