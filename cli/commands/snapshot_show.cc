// cairn snapshot show REV [--json]   (also: cairn show REV)
#include <cairn/attestation.h>
#include <cairn/clock.h>
#include <cairn/revision.h>
#include <cairn/signature.h>
#include <cairn/snapshot.h>
#include <cairn/views.h>
#include <fmt/format.h>

#include <map>

#include "commands.h"
#include "output.h"
#include "release_source.h"

namespace cairn::cli {
namespace {

struct ShowOptions {
  std::string rev;
  bool json = false;
};

std::string Join(const Json& list, const char* sep = ", ") {
  std::string out;
  if (!list.is_array()) return out;
  for (const auto& v : list) out += (out.empty() ? "" : sep) + v.get<std::string>();
  return out;
}

// One short phrase of the component's facts.
std::string Summary(const Component& c) {
  const Json& f = c.facts;
  switch (c.kind) {
    case ComponentKind::kPrompt:
      return f.contains("variables") && !f["variables"].empty()
                 ? "variables: " + Join(f["variables"])
                 : "";
    case ComponentKind::kModel: {
      std::string pin = f.value("pinned", false)
                            ? "pinned " + f.value("revision", f.value("digest", ""))
                            : "NOT pinned";
      return fmt::format("{}/{} ({})", f.value("provider", "?"), f.value("model", "?"), pin);
    }
    case ComponentKind::kTool: {
      std::string params;
      std::set<std::string> required;
      if (f.contains("required")) {
        for (const auto& r : f["required"]) required.insert(r.get<std::string>());
      }
      if (f.contains("parameters")) {
        for (const auto& p : f["parameters"]) {
          std::string name = p.get<std::string>();
          params += (params.empty() ? "" : ", ") + name + (required.contains(name) ? "*" : "");
        }
      }
      std::string dialect = f.value("dialect", "cairn");
      return fmt::format("{}({}){}", f.value("name", "?"), params,
                         dialect == "cairn" ? "" : " [" + dialect + "]");
    }
    case ComponentKind::kKnowledge:
      return fmt::format("{} documents, embedding {}", f.value("documents", 0),
                         f.value("embedding_model", "?"));
    case ComponentKind::kConfig:
      return "";
  }
  return "";
}

// "golden-v3 = 0.87  n=1200  dataset 3f2a9c0d11e4  valid  sha256:52eb7feb… ci (ci)  at … by …"
std::string AttestationLine(const AttestationCheck& c) {
  const EvalStatement& s = c.attestation.statement;
  std::string who;
  for (const auto& n : c.names) who += (who.empty() ? "" : ", ") + n.name;
  if (who.empty()) who = "(no trusted name)";
  std::string line = fmt::format("{} = {}", s.eval, s.score.ToString());
  if (s.n) line += fmt::format("  n={}", *s.n);
  if (s.dataset) line += fmt::format("  dataset {}", s.dataset->Hex().substr(0, 12));
  line += fmt::format("  {}  {}  {}  at {} by {}", SignatureStatusName(c.status),
                      c.attestation.key_id.Short(), who, ShortTime(s.time_micros), s.actor);
  if (!s.judge.empty()) line += fmt::format("\n             judge: {}", s.judge);
  if (s.report) line += fmt::format("\n             report: {}", s.report->ToString());
  if (!c.detail.empty()) line += fmt::format("\n             {}", c.detail);
  return line;
}

void PrintHuman(const SnapshotView& view) {
  const Snapshot& s = view.snapshot;
  const std::vector<SnapshotId>& same = view.same_content_as;
  const std::vector<SignatureCheck>& signatures = view.signatures;
  const std::vector<AttestationCheck>& attestations = view.attestations;
  Print("snapshot {}\n", s.id.Hex());
  Print("app:      {}\n", s.app);
  Print("author:   {}\n", s.author);
  Print("created:  {}\n", FormatTime(s.created_micros));
  if (s.parent) Print("parent:   {}\n", s.parent->Hex());
  if (std::string git = GitSourceLine(s.source); !git.empty()) {
    Print("source:   {}\n", git);
    Print("          (git directory {})\n", s.source.value("path", "?"));
  } else if (s.source.is_object()) {
    Print("source:   {} {}\n", s.source.value("type", "?"), s.source.value("path", ""));
  }
  Print("content:  {}\n", s.content.ToString());
  if (!same.empty()) {
    std::string ids;
    for (const auto& id : same) ids += (ids.empty() ? "" : ", ") + id.Short();
    Print("          identical content to {}\n", ids);
  }
  for (const auto& [k, v] : s.labels) Print("label:    {}={}\n", k, v);
  if (!s.description.empty()) Print("about:    {}\n", s.description);
  Print("\n    {}\n\n", Block{Indented(s.message, "    ")});
  if (!signatures.empty()) {
    Print("signatures ({}, {} valid signer{}):\n", signatures.size(), CountValidSigners(signatures),
          CountValidSigners(signatures) == 1 ? "" : "s");
    for (const auto& c : signatures) Print("  {}\n", SignatureCheckLine(c));
    Print("\n");
  } else {
    Print("signatures: none\n\n");
  }
  if (!attestations.empty()) {
    Print("attestations ({}):\n", attestations.size());
    for (const auto& c : attestations) Print("  {}\n", AttestationLine(c));
    Print("\n");
  }

  // Knowledge documents are folded into one line per knowledge base.
  std::map<std::string, std::pair<size_t, uint64_t>> documents;
  size_t width = 0;
  for (const auto& c : s.components) width = std::max(width, c.path.size());
  width = std::min<size_t>(width, 48);
  Print("components ({}, {}):\n", s.components.size(), HumanBytes(s.TotalSize()));
  for (const auto& c : s.components) {
    if (c.facts.contains("knowledge_base")) {
      auto& d = documents[c.facts["knowledge_base"].get<std::string>()];
      ++d.first;
      d.second += c.size;
      continue;
    }
    Print("  {:<9}  {:<{}}  {:>9}  {}  {}\n", KindName(c.kind), c.path, width, HumanBytes(c.size),
          c.digest.Hex().substr(0, 12), Summary(c));
  }
  for (const auto& [kb, d] : documents) {
    Print("  {:<9}  {:<{}}  {:>9}  {} document files\n", "knowledge", "knowledge/" + kb + "/",
          width, HumanBytes(d.second), d.first);
  }
}

int RunShow(const ShowOptions& o, const Context& ctx) {
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto id = ResolveRevision(**store, o.rev);
  if (!id.ok()) return ReportError(id.status());
  auto view = LoadSnapshotView(**store, *id);
  if (!view.ok()) return ReportError(view.status());
  if (o.json) {
    PrintJson(SnapshotViewJson(*view));
  } else {
    PrintHuman(*view);
  }
  return kExitOk;
}

CLI::App* AddShow(CLI::App& parent, const char* name, Context& ctx) {
  auto o = std::make_shared<ShowOptions>();
  auto* cmd = parent.add_subcommand(
      name, "Show a snapshot: metadata, signatures, attestations and components");
  cmd->add_option("rev", o->rev, "Snapshot id or unique prefix (>= 8 hex digits)")->required();
  cmd->add_flag("--json", o->json, "Print the manifest and id as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunShow(*o, ctx); });
  return cmd;
}

}  // namespace

void RegisterSnapshotShow(CLI::App& group, Context& ctx) { AddShow(group, "show", ctx); }
void RegisterShow(CLI::App& app, Context& ctx) { AddShow(app, "show", ctx); }

}  // namespace cairn::cli
