// Promotion through the gates (cairn/gates.h).
#include "cairn/gates.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "cairn/trust.h"
#include "store/store_internal.h"

namespace cairn {

const char* GateKindName(GateKind kind) {
  return kind == GateKind::kPromotion ? "promotion" : "rollback";
}

Json HookContext(HookStage stage, const Event& event, bool moved, GateKind gate) {
  Json j = {{"hook", HookStageName(stage)},
            {"deployment", event.deployment},
            {"action", ActionName(event.action)},
            {"gate", GateKindName(gate)},
            {"from", event.from ? Json(event.from->Hex()) : Json(nullptr)},
            {"to", event.to.Hex()},
            {"actor", event.actor},
            {"reason", event.reason},
            {"forced", event.forced},
            {"checks", ChecksJson(event.checks)}};
  if (moved) j["event"] = event.ToJson();
  return j;
}

namespace {

// The CAIRN_* variables a hook gets besides the JSON on stdin, so that shell hooks need no
// JSON parser (docs/hooks.md).
std::map<std::string, std::string> HookEnv(const Event& event, bool moved, GateKind gate) {
  std::map<std::string, std::string> env = {
      {"CAIRN_DEPLOYMENT", event.deployment}, {"CAIRN_ACTION", ActionName(event.action)},
      {"CAIRN_GATE", GateKindName(gate)},     {"CAIRN_FROM", event.from ? event.from->Hex() : ""},
      {"CAIRN_TO", event.to.Hex()},           {"CAIRN_ACTOR", event.actor},
      {"CAIRN_REASON", event.reason},
  };
  if (moved) {
    env["CAIRN_EVENT_SEQ"] = std::to_string(event.seq);
    env["CAIRN_EVENT_HASH"] = event.hash.ToString();
  }
  // A NUL cannot travel in the environment; the JSON on stdin has the exact text.
  for (auto& [k, v] : env) std::replace(v.begin(), v.end(), '\0', ' ');
  return env;
}

// Hooks live beside the store's database, wherever it really is: a --store directory whose
// database is a symlink to another store's runs that store's hooks (looked up beside the
// path given, it ran none). Falls back to the path given if the database cannot be resolved.
std::string HooksRoot(const Store& store) {
  std::error_code ec;
  auto real = std::filesystem::canonical(
      std::filesystem::path(store.path()) / StoreInternal::db(store).schema().db_dir(), ec);
  if (ec) return store.path();
  return real.parent_path().string();
}

std::string FirstFailure(const std::vector<HookRun>& runs, HookStage stage) {
  for (const auto& r : runs) {
    if (r.ok()) continue;
    std::string err = r.PrintableErr();
    return fmt::format("{} hook {} refused the move ({}){}", HookStageName(stage), r.name,
                       r.Outcome(), err.empty() ? "" : ":\n" + err);
  }
  return "";
}

// Runs the post hooks of `stage` for a move that is done; their failures are reported in
// `report`, never returned: the move stands.
void RunPostHooks(Store& store, HookStage stage, GateKind gate, const Event& event,
                  const GateOptions& gates, GateReport* report) {
  if (!gates.run_hooks) return;
  auto runs = RunHooks(HooksRoot(store), stage, HookContext(stage, event, true, gate),
                       HookEnv(event, true, gate), gates.hooks);
  if (runs.ok()) {
    report->post_hooks = std::move(*runs);
    return;
  }
  // The hooks could not even start (unreadable directory, no processes left): say so as a
  // failed run, since the move itself is done.
  HookRun failed;
  failed.name = fmt::format("({} hooks)", HookStageName(stage));
  failed.err = runs.status().message();
  report->post_hooks.push_back(std::move(failed));
}

// Runs the gate hooks of `stages` in order for the planned move (with its checks), appending
// each run to `report->pre_hooks` and its record to `records`; the first failure blocks.
Status RunGateHooks(Store& store, std::initializer_list<HookStage> stages, GateKind gate,
                    const Event& planned, const std::vector<PolicyCheck>& checks,
                    const GateOptions& gates, GateReport* report,
                    std::vector<HookRecord>* records) {
  Event with_checks = planned;
  with_checks.checks = checks;
  HookOptions h = gates.hooks;
  h.stop_at_first_failure = true;
  for (HookStage stage : stages) {
    CAIRN_ASSIGN_OR_RETURN(
        std::vector<HookRun> runs,
        RunHooks(HooksRoot(store), stage, HookContext(stage, with_checks, false, gate),
                 HookEnv(with_checks, false, gate), h));
    std::string failure = FirstFailure(runs, stage);
    for (auto& r : runs) {
      if (r.ok() && r.digest) {
        records->push_back(HookRecord{HookStageName(stage), r.name, *r.digest, r.exit_code});
      }
      report->pre_hooks.push_back(std::move(r));
    }
    if (!failure.empty()) {
      report->blocked = true;
      return Status::GateBlocked(failure + "\nnothing changed");
    }
  }
  return Status::OK();
}

}  // namespace

namespace {

// require-signed-moves: the planned move is signed by a trusted key holding the role (the
// signer was checked trusted when the move was planned). Never overridable, not even by a
// forced rollback: it is what makes every move attributable to a key.
Result<PolicyCheck> SignedMoveCheck(const Store& store, const Policy& policy,
                                    const Event& planned) {
  PolicyCheck c;
  c.rule = std::string(kRuleRequireSignedMoves);
  c.subject = "role " + policy.require_signed_moves;
  if (!planned.signed_by) {
    c.detail = fmt::format("the {} is not signed: sign it with --key (a key with role {})",
                           ActionName(planned.action), policy.require_signed_moves);
    return c;
  }
  CAIRN_ASSIGN_OR_RETURN(TrustState trust, TrustState::Load(store));
  auto roles = trust.RolesOf(planned.signed_by->key_id);
  c.passed = std::find(roles.begin(), roles.end(), policy.require_signed_moves) != roles.end();
  c.detail =
      fmt::format("signed by {} ({}){}", planned.signed_by->name, planned.signed_by->key_id.Short(),
                  c.passed ? "" : ", which lacks role " + policy.require_signed_moves);
  return c;
}

// A failed check that does not block: marked in the event, its rule listed once in the report.
void MarkOverridden(PolicyCheck& c, GateReport* report) {
  c.overridden = true;
  if (std::find(report->overridden.begin(), report->overridden.end(), c.rule) ==
      report->overridden.end()) {
    report->overridden.push_back(c.rule);
  }
}

// Marks failed checks whose rule is overridden; returns the blocking message for the rest
// ("" when nothing blocks).
Result<std::string> ApplyOverrides(const Policy& policy, const GateOptions& gates,
                                   GateReport* report) {
  for (const auto& rule : gates.overrides) {
    CAIRN_RETURN_IF_ERROR(ValidateRuleName(rule).WithContext("--override"));
    if (policy.no_overrides) {
      return Status::Usage(fmt::format(
          "--override {}: the policy of {} forbids overrides (--no-overrides); nothing changed",
          rule, policy.deployment));
    }
  }
  std::string blocking;
  size_t failed = 0;
  for (auto& c : report->checks) {
    if (c.passed) continue;
    if (std::find(gates.overrides.begin(), gates.overrides.end(), c.rule) !=
        gates.overrides.end()) {
      MarkOverridden(c, report);
      continue;
    }
    ++failed;
    blocking += fmt::format("\n  {} {}: {}", c.rule, c.subject, c.detail);
  }
  if (failed == 0) return std::string();
  return fmt::format("{} of {} policy check{} of {} failed:{}", failed, report->checks.size(),
                     report->checks.size() == 1 ? "" : "s", policy.deployment, blocking);
}

}  // namespace

// Atomicity: the gate runs inside Promote, after its own checks and before its one synced
// batch, while the writer lock is held; a refusal returns before anything is written.
Result<Event> PromoteThroughGates(Store& store, const DeploymentName& deployment,
                                  const SnapshotId& snapshot, const MoveOptions& move,
                                  const GateOptions& gates, GateReport* report) {
  GateReport local;
  if (report == nullptr) report = &local;
  MoveOptions gated = move;
  gated.gate = [&](const Event& planned) -> Result<GateVerdict> {
    CAIRN_ASSIGN_OR_RETURN(std::optional<Policy> policy, GetPolicy(store, deployment));
    if (policy && !policy->empty()) {
      report->has_policy = true;
      CAIRN_ASSIGN_OR_RETURN(
          report->checks,
          EvaluatePolicy(store, *policy, planned.to, planned.from, store.clock().NowMicros()));
      if (!policy->require_signed_moves.empty()) {
        CAIRN_ASSIGN_OR_RETURN(PolicyCheck signed_move, SignedMoveCheck(store, *policy, planned));
        report->checks.push_back(std::move(signed_move));
      }
      CAIRN_ASSIGN_OR_RETURN(std::string blocking, ApplyOverrides(*policy, gates, report));
      if (!blocking.empty()) {
        report->blocked = true;
        return Status::GateBlocked(blocking + "\nnothing changed");
      }
    } else if (!gates.overrides.empty()) {
      return Status::Usage(
          fmt::format("--override: {} has no policy to override", planned.deployment));
    }
    GateVerdict verdict;
    verdict.checks = report->checks;
    if (!gates.run_hooks) return verdict;
    verdict.records_hooks = true;
    CAIRN_RETURN_IF_ERROR(RunGateHooks(store, {HookStage::kPrePromote}, GateKind::kPromotion,
                                       planned, report->checks, gates, report, &verdict.hooks));
    return verdict;
  };
  CAIRN_ASSIGN_OR_RETURN(Event event, Promote(store, deployment, snapshot, gated));
  RunPostHooks(store, HookStage::kPostPromote, GateKind::kPromotion, event, gates, report);
  return event;
}

namespace {

// The failing checks as the lines of a refusal ("" when none fails).
std::string FailingChecks(const std::vector<PolicyCheck>& checks, size_t* failed) {
  std::string lines;
  *failed = 0;
  for (const auto& c : checks) {
    if (c.passed) continue;
    ++*failed;
    lines += fmt::format("\n  {} {}: {}", c.rule, c.subject, c.detail);
  }
  return lines;
}

}  // namespace

// A rollback is gated by what it is. A walk back to a snapshot that was live here and was not
// rolled back from here checks only the signature rules (incident speed) and runs the
// pre-rollback hooks. Anything else — never live here, rolled back from here, or failing the
// signature rules — is a promotion in effect: every rule, the pre-promote and then the
// pre-rollback hooks; --force overrides failing checks (not hooks, not require-signed-moves),
// each marked in the event, and is refused where the policy says no_overrides.
Result<Event> RollbackThroughGates(Store& store, const DeploymentName& deployment,
                                   const RollbackOptions& rollback, const GateOptions& gates,
                                   GateReport* report) {
  GateReport local;
  if (report == nullptr) report = &local;
  GateKind kind = GateKind::kRollback;
  RollbackOptions gated = rollback;
  gated.move.gate = [&](const Event& planned) -> Result<GateVerdict> {
    CAIRN_ASSIGN_OR_RETURN(std::optional<Policy> policy, GetPolicy(store, deployment));
    // Why this rollback is gated as a promotion ("" while it is a plain walk back).
    CAIRN_ASSIGN_OR_RETURN(std::string why,
                           WhyNotAWalkBack(store, deployment, planned.to, planned.top));
    if (!why.empty()) kind = GateKind::kPromotion;
    GateVerdict verdict;
    if (policy && !policy->empty()) {
      report->has_policy = true;
      size_t failed = 0;
      if (kind == GateKind::kRollback) {
        CAIRN_ASSIGN_OR_RETURN(report->checks, EvaluateSignatureRules(store, *policy, planned.to));
        FailingChecks(report->checks, &failed);
        if (failed > 0) {
          kind = GateKind::kPromotion;
          why = fmt::format(
              "{} no longer meets the signature rules of {} (was a signer's key "
              "revoked?)",
              planned.to.Short(), planned.deployment);
        }
      }
      if (kind == GateKind::kPromotion) {
        CAIRN_ASSIGN_OR_RETURN(
            report->checks,
            EvaluatePolicy(store, *policy, planned.to, planned.from, store.clock().NowMicros()));
      }
      if (!policy->require_signed_moves.empty()) {
        CAIRN_ASSIGN_OR_RETURN(PolicyCheck signed_move, SignedMoveCheck(store, *policy, planned));
        bool passed = signed_move.passed;
        report->checks.push_back(std::move(signed_move));
        if (!passed) {
          report->blocked = true;
          return Status::GateBlocked(fmt::format(
              "the policy of {} requires signed moves: {}\nnothing changed (--force does not "
              "lift this rule)",
              planned.deployment, report->checks.back().detail));
        }
      }
      std::string failing = FailingChecks(report->checks, &failed);
      if (failed > 0) {
        std::string head = fmt::format(
            "{}: a rollback to it passes every gate of a promotion, and {} of {} policy check{} "
            "of {} failed:{}",
            why, failed, report->checks.size(), report->checks.size() == 1 ? "" : "s",
            planned.deployment, failing);
        if (!rollback.force) {
          report->blocked = true;
          return Status::GateBlocked(fmt::format(
              "{}\n{}; nothing changed", head,
              policy->no_overrides
                  ? "the policy forbids overrides (--no-overrides), so not even --force lifts them"
                  : "use --force to override them (each override is recorded in the event)"));
        }
        if (policy->no_overrides) {
          report->blocked = true;
          return Status::GateBlocked(
              fmt::format("{}\n--force cannot lift them: the policy of {} forbids overrides "
                          "(--no-overrides); nothing changed",
                          head, planned.deployment));
        }
        for (auto& c : report->checks) {
          if (!c.passed) MarkOverridden(c, report);
        }
        verdict.forced = true;
      }
    }
    verdict.checks = report->checks;
    if (!gates.run_hooks) return verdict;
    verdict.records_hooks = true;
    if (kind == GateKind::kPromotion) {
      CAIRN_RETURN_IF_ERROR(RunGateHooks(store, {HookStage::kPrePromote, HookStage::kPreRollback},
                                         kind, planned, report->checks, gates, report,
                                         &verdict.hooks));
    } else {
      CAIRN_RETURN_IF_ERROR(RunGateHooks(store, {HookStage::kPreRollback}, kind, planned,
                                         report->checks, gates, report, &verdict.hooks));
    }
    return verdict;
  };
  CAIRN_ASSIGN_OR_RETURN(Event event, Rollback(store, deployment, gated));
  report->gated_as_promotion = kind == GateKind::kPromotion;
  RunPostHooks(store, HookStage::kPostRollback, kind, event, gates, report);
  return event;
}

}  // namespace cairn
