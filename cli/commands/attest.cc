// cairn attest REV --eval NAME (--score X [--n N] | --cases FILE.jsonl --judge-model M
//                  --judge-prompt FILE) [--dataset FILE|DIGEST] [--judge TEXT]
//                  [--report FILE] [--key KEYFILE] [--json]
#include <cairn/attestation.h>
#include <cairn/revision.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct AttestCmdOptions {
  std::string rev;
  std::string eval;
  std::string score;
  uint64_t n = 0;
  bool has_n = false;
  std::string dataset;
  std::string judge;
  std::string report;
  std::string cases;
  std::string judge_model;
  std::string judge_prompt;
  std::string key;
  bool json = false;
};

int RunAttest(const AttestCmdOptions& o, const Context& ctx) {
  // Everything the user typed is checked before the store is opened for writing.
  if (o.score.empty() && o.cases.empty()) {
    return ReportError(Status::Usage("give --score X, or per-case results with --cases FILE"));
  }
  if (o.cases.empty() != (o.judge_model.empty() && o.judge_prompt.empty()) ||
      (!o.cases.empty() && (o.judge_model.empty() || o.judge_prompt.empty()))) {
    return ReportError(Status::Usage(
        "--cases, --judge-model and --judge-prompt go together: per-case results name their "
        "judge"));
  }
  auto score = Score::Parse(o.score.empty() ? "0" : o.score, "--score");
  if (!score.ok()) return ReportError(score.status());
  Status name = ValidateEvalName(o.eval);
  if (!name.ok()) return ReportError(name.WithContext("--eval"));
  auto key = ctx.SigningKey(o.key);
  if (!key.ok()) return ReportError(key.status());
  if (!*key) {
    return ReportError(Status::Usage("name the signing key with --key FILE (or set CAIRN_KEY)"));
  }
  EvalStatement statement;
  statement.eval = o.eval;
  statement.score = *score;
  if (o.has_n) statement.n = o.n;
  statement.judge = o.judge.empty() ? o.judge_model : o.judge;
  if (!o.dataset.empty()) {
    auto d = DatasetDigest(o.dataset);
    if (!d.ok()) return ReportError(d.status());
    statement.dataset = *d;
  }
  AttestOptions options;
  options.actor = ctx.Actor();
  if (!o.cases.empty()) {
    auto cases = ReadReportFile(o.cases);
    if (!cases.ok()) return ReportError(cases.status().WithContext("--cases"));
    auto prompt = ReadReportFile(o.judge_prompt);
    if (!prompt.ok()) return ReportError(prompt.status().WithContext("--judge-prompt"));
    auto judge = JudgeDigest(o.judge_model, *prompt);
    if (!judge.ok()) return ReportError(judge.status());
    statement.judge_digest = *judge;
    options.cases = std::move(*cases);
    if (!o.score.empty()) options.claimed_score = o.score;
  }
  if (!o.report.empty()) {
    auto report = ReadReportFile(o.report);
    if (!report.ok()) return ReportError(report.status());
    options.report = std::move(*report);
  }
  auto store = ctx.OpenForWrite();
  if (!store.ok()) return ReportError(store.status());
  auto id = ResolveRevision(**store, o.rev);
  if (!id.ok()) return ReportError(id.status());
  statement.snapshot = *id;
  auto a = Attest(**store, std::move(statement), **key, options);
  if (!a.ok()) return ReportError(a.status());
  if (o.json) {
    PrintJson({{"id", a->id.ToString()},
               {"statement", a->statement.ToJson()},
               {"key_id", a->key_id.ToString()},
               {"sig", a->signature.Hex()}});
    return kExitOk;
  }
  const EvalStatement& s = a->statement;
  Print("attested {}: eval {} = {}{}{}{} (attestation {}, key {})\n", id->Short(), s.eval,
        s.score.ToString(), s.n ? fmt::format(" over {} cases", *s.n) : "",
        s.cases ? fmt::format(" (per-case results {}, judge {})", s.cases->Hex().substr(0, 12),
                              s.judge_digest->Hex().substr(0, 12))
                : "",
        s.dataset ? fmt::format(", dataset {}", s.dataset->Hex().substr(0, 12)) : "",
        a->id.Hex().substr(0, 12), a->key_id.Short());
  return kExitOk;
}

}  // namespace

void RegisterAttest(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<AttestCmdOptions>();
  auto* cmd = app.add_subcommand("attest", "Record a signed eval result for a snapshot");
  cmd->add_option("rev", o->rev, "Snapshot: id, prefix, deployment, NAME@{N}, NAME@TIME")
      ->required();
  cmd->add_option("--eval", o->eval, "Eval name, e.g. golden-v3")->required();
  cmd->add_option("--score", o->score,
                  "Score in [0, 1], e.g. 0.87 (at most 9 decimals); with --cases, computed");
  cmd->add_option("--cases", o->cases,
                  "Per-case results, JSONL: {\"case\",\"cluster\",\"scores\",\"output\",\"error\"}"
                  " per line (needs --dataset, --judge-model, --judge-prompt)");
  cmd->add_option("--judge-model", o->judge_model, "The judge model, e.g. gpt-4o-2024-08-06");
  cmd->add_option("--judge-prompt", o->judge_prompt, "The judge's prompt file (hashed)");
  cmd->add_option_function<uint64_t>(
         "--n",
         [o](const uint64_t& n) {
           o->n = n;
           o->has_n = true;
         },
         "Number of cases scored")
      ->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  cmd->add_option("--dataset", o->dataset,
                  "Golden dataset: a file (hashed) or its digest sha256:<hex>");
  cmd->add_option("--judge", o->judge, "The judge: model and prompt");
  cmd->add_option("--report", o->report, "Report file, stored and linked (at most 64 MiB)");
  cmd->add_option("--key", o->key, "Private key PEM file (default: $CAIRN_KEY)");
  cmd->add_flag("--json", o->json, "Print the attestation as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunAttest(*o, ctx); });
}

}  // namespace cairn::cli
