// cairn snapshot create|list|show — the snapshot command group.
#include "commands.h"

namespace cairn::cli {

void RegisterSnapshotCreate(CLI::App& group, Context& ctx);
void RegisterSnapshotList(CLI::App& group, Context& ctx);
void RegisterSnapshotShow(CLI::App& group, Context& ctx);

void RegisterSnapshot(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("snapshot", "Create, list and show snapshots");
  group->require_subcommand(1);
  RegisterSnapshotCreate(*group, ctx);
  RegisterSnapshotList(*group, ctx);
  RegisterSnapshotShow(*group, ctx);
}

}  // namespace cairn::cli
