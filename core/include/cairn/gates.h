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
#include "cairn/store.h"

namespace cairn {

struct GateOptions {
  bool run_hooks = true;
  HookOptions hooks;  // timeout and output bound for each hook
};

// What the gates did, filled in as far as they got — also when the move is blocked.
struct GateReport {
  Json checks = Json::array();     // policy checks, as stored in the event
  std::vector<HookRun> pre_hooks;  // pre-promote hooks that ran
  std::vector<HookRun> post_hooks;  // post-promote / post-rollback hooks that ran
  bool blocked = false;
};

// Promote through the gates. Errors: those of Promote, and kGateBlocked (a pre-promote hook
// failed; the message names it and carries its stderr) — nothing changed then.
Result<Event> PromoteThroughGates(Store& store, const std::string& deployment,
                                  const SnapshotId& snapshot, const MoveOptions& move,
                                  const GateOptions& gates, GateReport* report);

// Rollback, then post-rollback hooks. Errors: those of Rollback.
Result<Event> RollbackThroughGates(Store& store, const std::string& deployment,
                                   const RollbackOptions& rollback, const GateOptions& gates,
                                   GateReport* report);

// The JSON a hook reads on stdin: {"hook", "deployment", "action", "from", "to", "actor",
// "reason", "forced", "checks"} and, after the move, "event" (docs/hooks.md).
Json HookContext(HookStage stage, const Event& event, bool moved);

}  // namespace cairn
