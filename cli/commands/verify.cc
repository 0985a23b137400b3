// cairn verify REV [--deep] [--json]
#include <cairn/revision.h>
#include <cairn/signature.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct VerifyCmdOptions {
  std::string rev;
  bool deep = false;
  bool json = false;
};

// The exit code of a verification (docs/cli.md, "cairn verify"): integrity failure (5) for a
// bad signature or a damaged object; gate blocked (7) when nothing is wrong but no trusted
// key vouches for the snapshot; 0 with at least one valid signature.
int VerdictCode(const SnapshotVerification& v) {
  if (v.any_bad() || !v.object_problems.empty()) return kExitIntegrity;
  if (v.valid_signers() == 0) return kExitGateBlocked;
  return kExitOk;
}

const char* VerdictName(int code) {
  switch (code) {
    case kExitOk:
      return "verified";
    case kExitGateBlocked:
      return "untrusted";
    default:
      return "BAD";
  }
}

int RunVerify(const VerifyCmdOptions& o, const Context& ctx) {
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto id = ResolveRevision(**store, o.rev);
  if (!id.ok()) return ReportError(id.status());
  TerminalProgress progress(!ctx.global.no_progress && !o.json);
  VerifyOptions options;
  options.deep = o.deep;
  options.progress = &progress;
  auto v = VerifySnapshot(**store, *id, options);
  progress.Finish();
  if (!v.ok()) return ReportError(v.status());
  int code = VerdictCode(*v);
  if (o.json) {
    Json sigs = Json::array();
    for (const auto& c : v->signatures) sigs.push_back(SignatureCheckJson(c));
    Json out = {{"id", id->Hex()},
                {"verdict", VerdictName(code)},
                {"valid_signers", v->valid_signers()},
                {"signatures", sigs}};
    if (o.deep) {
      out["objects_checked"] = v->objects_checked;
      out["object_problems"] = v->object_problems;
    }
    PrintJson(out);
    return code;
  }
  Print("snapshot {}\n", id->Hex());
  if (v->signatures.empty()) Print("  no signatures\n");
  for (const auto& c : v->signatures) Print("  {}\n", SignatureCheckLine(c));
  if (o.deep) {
    for (const auto& p : v->object_problems) Print("  object: {}\n", p);
    Print("objects: {} re-read and re-hashed, {}\n", v->objects_checked,
          v->object_problems.empty() ? "all intact"
                                     : fmt::format("{} damaged", v->object_problems.size()));
  }
  size_t signers = v->valid_signers();
  Print("{}: {} valid signer{}\n", VerdictName(code), signers, signers == 1 ? "" : "s");
  return code;
}

}  // namespace

void RegisterVerify(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<VerifyCmdOptions>();
  auto* cmd = app.add_subcommand(
      "verify", "Check a snapshot's signatures against the trust list (exit 5 bad, 7 untrusted)");
  cmd->add_option("rev", o->rev, "Snapshot: id, prefix, deployment, NAME@{N}, NAME@TIME")
      ->required();
  cmd->add_flag("--deep", o->deep, "Also re-read and re-hash every object of the snapshot");
  cmd->add_flag("--json", o->json, "Print as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunVerify(*o, ctx); });
}

}  // namespace cairn::cli
