// cairn compare REV1 REV2 --eval NAME [--margin D] [--alpha A] [--json] — a read-only preview
// of the paired non-inferiority rule: REV1 is the baseline (what is live), REV2 the candidate.
#include <cairn/non_inferiority.h>
#include <cairn/policy_eval.h>
#include <cairn/revision.h>
#include <fmt/format.h>

#include <algorithm>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct CompareOptions {
  std::string baseline;
  std::string candidate;
  std::string eval;
  std::string margin;
  std::string alpha = "0.05";
  bool json = false;
};

// One paired case, in billionths of each side's mean of K scores.
struct CaseRow {
  std::string id;
  int64_t live = 0;
  int64_t candidate = 0;
  int64_t diff() const { return candidate - live; }
};

// The ten cases that got worse most (ties by case id), from the paired sample.
std::vector<CaseRow> WorstCases(const EvalComparison& c) {
  std::vector<CaseRow> rows;
  int64_t kl = c.live_cases.k, kc = c.candidate_cases.k;
  size_t i = 0;
  for (const auto& lc : c.live_cases.cases) {
    while (i < c.candidate_cases.cases.size() && c.candidate_cases.cases[i].id < lc.id) ++i;
    const EvalCase& cc = c.candidate_cases.cases.at(i);
    rows.push_back({lc.id, lc.Sum() / kl, cc.Sum() / kc});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const CaseRow& a, const CaseRow& b) { return a.diff() < b.diff(); });
  std::erase_if(rows, [](const CaseRow& r) { return r.diff() >= 0; });
  if (rows.size() > 10) rows.resize(10);
  return rows;
}

std::string Plain(int64_t v) {
  std::string s = FormatSigned(v, 3);
  return s[0] == '+' ? s.substr(1) : s;
}

int RunCompare(const CompareOptions& o, const Context& ctx) {
  Status name = ValidateEvalName(o.eval);
  if (!name.ok()) return ReportError(name.WithContext("--eval"));
  NonInferiorRule rule;
  rule.margin = Score::FromBillionths(0);
  if (!o.margin.empty()) {
    auto m = Score::Parse(o.margin, "--margin");
    if (!m.ok()) return ReportError(m.status());
    if (m->billionths() == 0) return ReportError(Status::Usage("--margin: D must be above 0"));
    rule.margin = *m;
  }
  auto alpha = ParseAlpha(o.alpha, "--alpha");
  if (!alpha.ok()) return ReportError(alpha.status());
  rule.alpha = *alpha;
  auto store = ctx.OpenForRead();
  if (!store.ok()) return ReportError(store.status());
  auto base = ResolveRevision(**store, o.baseline);
  if (!base.ok()) return ReportError(base.status().WithContext("REV1"));
  auto cand = ResolveRevision(**store, o.candidate);
  if (!cand.ok()) return ReportError(cand.status().WithContext("REV2"));
  auto c = CompareEvals(**store, *base, *cand, o.eval, rule);
  if (!c.ok()) return ReportError(c.status());
  const BoundTest& t = c->test;
  bool verdict = !o.margin.empty();
  std::vector<CaseRow> worst = WorstCases(*c);
  if (o.json) {
    Json j = t.Fields();
    Json fields{{"eval", o.eval},
                {"baseline", base->Hex()},
                {"candidate", cand->Hex()},
                {"baseline_mean", c->live_cases.Mean().ToString()},
                {"candidate_mean", c->candidate_cases.Mean().ToString()},
                {"stats", j},
                {"detectable_drop", t.detectable ? FormatBillionths9(*t.detectable) : ""},
                {"cases_needed", t.cases_needed && verdict ? Json(*t.cases_needed) : Json()},
                {"verdict", verdict ? Json(VerdictName(t.verdict)) : Json()}};
    Json rows = Json::array();
    for (const auto& r : worst) {
      rows.push_back({{"case", r.id},
                      {"baseline", FormatBillionths9(r.live)},
                      {"candidate", FormatBillionths9(r.candidate)},
                      {"diff", FormatBillionths9(r.diff())}});
    }
    fields["worst"] = rows;
    PrintJson(fields);
  } else {
    Print("{} on {} paired cases{} (dataset {}, judge {})\n", o.eval, t.n,
          t.g != 0 ? fmt::format(" in {} clusters", t.g) : "",
          c->candidate.statement.dataset->Hex().substr(0, 12),
          c->candidate.statement.judge_digest->Hex().substr(0, 12));
    Print("  {:<10} {:<14} {:>7}\n", "", "snapshot", "mean");
    Print("  {:<10} {:<14} {:>7}\n", "baseline", base->Short(),
          Plain(c->live_cases.Mean().billionths()));
    Print("  {:<10} {:<14} {:>7}\n", "candidate", cand->Short(),
          Plain(c->candidate_cases.Mean().billionths()));
    std::string conf = Score::FromBillionths(Score::kOne - rule.alpha).ToString().substr(2);
    Print("  {:<10} {:<14} {:>7}   sd {}, one-sided {}% bounds LB {}, UB {} (t {}, df {})\n",
          "difference", "", FormatSigned(t.mean, 3), Plain(t.sd),
          conf.size() == 1 ? conf + "0" : conf, FormatSigned(t.lb, 3), FormatSigned(t.ub, 3),
          Plain(t.t_micros * 1000), t.df);
    if (t.detectable) {
      Print("smallest drop {} cases detect at 80% power: {}\n", t.n, Plain(*t.detectable));
    }
    if (verdict) {
      if (t.cases_needed) {
        Print("cases needed for margin {} at 80% power: about {} (an estimate)\n",
              rule.margin.ToString(), *t.cases_needed);
      }
      Print("verdict at margin {}: {}{}\n", rule.margin.ToString(), VerdictName(t.verdict),
            t.why_inconclusive.empty() ? "" : " (" + t.why_inconclusive + ")");
    }
    if (!worst.empty()) {
      Print("cases that got worse most:\n  {:<32} {:>8} {:>9} {:>7}\n", "case", "baseline",
            "candidate", "diff");
      for (const auto& r : worst) {
        Print("  {:<32} {:>8} {:>9} {:>7}\n", r.id, Plain(r.live), Plain(r.candidate),
              FormatSigned(r.diff(), 3));
      }
    }
  }
  return verdict && t.verdict != Verdict::kPass ? kExitGateBlocked : kExitOk;
}

}  // namespace

void RegisterCompare(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CompareOptions>();
  auto* cmd = app.add_subcommand(
      "compare", "Paired per-case comparison of two snapshots on one eval (read-only preview)");
  cmd->add_option("rev1", o->baseline, "Baseline snapshot (e.g. prod: what is live)")->required();
  cmd->add_option("rev2", o->candidate, "Candidate snapshot")->required();
  cmd->add_option("--eval", o->eval, "Eval name, e.g. golden-v4")->required();
  cmd->add_option("--margin", o->margin,
                  "Non-inferiority margin D: print the verdict (exit 7 unless pass)");
  cmd->add_option("--alpha", o->alpha, "One-sided alpha: 0.10, 0.05 (default), 0.025 or 0.01");
  cmd->add_flag("--json", o->json, "Print as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunCompare(*o, ctx); });
}

}  // namespace cairn::cli
