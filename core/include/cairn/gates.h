// Gates: promotion only through them. A gated promote evaluates the deployment's policy
// (policy.h), runs the store's pre-promote hooks, and only then moves the pointer; post hooks
// run after the move is durable. A gated rollback skips eval and soak rules (incident speed)
// and runs post-rollback hooks.
//
// Everything before the move happens while the store's writer lock is held, so what was
// checked is what is moved. A blocked move changes nothing in the store. Post hooks report
// failures but never undo a move. Functions need a Store opened read-write.
#pragma once

#include <string>
#include <vector>

#include "cairn/deployment.h"
#include "cairn/hooks.h"
#include "cairn/policy.h"
#include "cairn/policy_eval.h"
#include "cairn/store.h"

namespace cairn {

struct GateOptions {
  bool run_hooks = true;
  HookOptions hooks;  // timeout and output bound for each hook
  // Rule ids whose failure does not block (`--override RULE`, an emergency); refused when
  // the policy says no_overrides. The checks they cover are stored with overridden = true.
  std::vector<std::string> overrides;
};

// What the gates did, filled in as far as they got — also when the move is blocked.
struct GateReport {
  bool has_policy = false;              // the deployment has a policy
  std::vector<PolicyCheck> checks;      // every check evaluated, as stored in the event
  std::vector<std::string> overridden;  // rule ids that failed and were overridden
  std::vector<HookRun> pre_hooks;       // pre-promote hooks that ran
  std::vector<HookRun> post_hooks;      // post-promote / post-rollback hooks that ran
  bool blocked = false;
};

// Promote through the gates: every policy rule is evaluated (all of them, so the report
// shows every number), then the pre-promote hooks run with the checks in their context.
// Errors: those of Promote; kUsage (an override the policy forbids, or an unknown rule);
// kGateBlocked (a check failed and was not overridden, or a pre-promote hook failed; the
// message says which) — nothing changed then.
Result<Event> PromoteThroughGates(Store& store, const DeploymentName& deployment,
                                  const SnapshotId& snapshot, const MoveOptions& move,
                                  const GateOptions& gates, GateReport* report);

// Rollback, then post-rollback hooks. Eval and soak rules are skipped (incident speed), but
// a target whose signatures no longer meet the policy's require-signatures rules (a signer
// was revoked) is refused with kGateBlocked unless `rollback.force`; forced, the failing
// checks are stored as overridden. Errors: those of Rollback, kGateBlocked.
Result<Event> RollbackThroughGates(Store& store, const DeploymentName& deployment,
                                   const RollbackOptions& rollback, const GateOptions& gates,
                                   GateReport* report);

// The JSON a hook reads on stdin: {"hook", "deployment", "action", "from", "to", "actor",
// "reason", "forced", "checks"} and, after the move, "event" (docs/hooks.md).
Json HookContext(HookStage stage, const Event& event, bool moved);

}  // namespace cairn
