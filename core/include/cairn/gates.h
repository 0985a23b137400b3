// Gates: no move around them. A gated promote evaluates the deployment's policy (policy.h),
// runs the store's pre-promote hooks, and only then moves the pointer; post hooks run after
// the move is durable. A gated rollback is judged by what it is (docs/rollback.md): a walk
// back checks signatures and runs pre-rollback hooks; any other rollback passes every gate of
// a promotion. Every gated move records its checks and the gate hooks that ran in its event.
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
  std::vector<HookRun> pre_hooks;       // gate hooks that ran (pre-promote, pre-rollback)
  std::vector<HookRun> post_hooks;      // post-promote / post-rollback hooks that ran
  bool blocked = false;
  // A rollback that was judged as a promotion (not a plain walk back): set once it is done.
  bool gated_as_promotion = false;
};

// How a move was gated, as hooks see it ("gate" in their JSON, CAIRN_GATE): "promotion"
// (every rule; pre-promote hooks) or "rollback" (a walk back: signature rules only).
enum class GateKind { kPromotion, kRollback };
const char* GateKindName(GateKind kind);

// Promote through the gates: every policy rule is evaluated (all of them, so the report
// shows every number), then the pre-promote hooks run with the checks in their context.
// Errors: those of Promote; kUsage (an override the policy forbids, or an unknown rule);
// kGateBlocked (a check failed and was not overridden, or a pre-promote hook failed; the
// message says which) — nothing changed then.
Result<Event> PromoteThroughGates(Store& store, const DeploymentName& deployment,
                                  const SnapshotId& snapshot, const MoveOptions& move,
                                  const GateOptions& gates, GateReport* report);

// Rollback through the gates, then post-rollback hooks. A walk back to a snapshot that was
// live here and not rolled back from here checks the signature rules and require-signed-moves
// (eval and soak are skipped: incident speed) and runs the pre-rollback hooks. A target never
// live here or rolled back from here (Rollback needs `force` for those), or one failing the
// signature rules, is judged as a promotion: every rule, then pre-promote and pre-rollback
// hooks. Failing checks block unless `rollback.force`; forced, they are stored as overridden
// and the event is marked forced — refused (kGateBlocked) where the policy says no_overrides.
// Neither require-signed-moves nor a failing hook is ever lifted by force.
// Errors: those of Rollback, kGateBlocked.
Result<Event> RollbackThroughGates(Store& store, const DeploymentName& deployment,
                                   const RollbackOptions& rollback, const GateOptions& gates,
                                   GateReport* report);

// The JSON a hook reads on stdin: {"hook", "deployment", "action", "gate", "from", "to",
// "actor", "reason", "forced", "checks"} and, after the move, "event" (docs/hooks.md).
Json HookContext(HookStage stage, const Event& event, bool moved, GateKind gate);

}  // namespace cairn
