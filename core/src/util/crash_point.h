// Named crash points: `CAIRN_CRASH_AT=<point>[:N]` in the environment stops the process with
// SIGKILL — as kill -9 or a power cut would — the Nth time (default: the first) it reaches
// the point of that name. Tests crash every step of every write path this way and then
// check that the store opens, fsck and audit verify pass, and nothing acknowledged is lost
// (tests/e2e/crash_point_test.cc). Every point is listed in kCrashPoints, so a test can
// walk them all and a misspelt name is refused at start-up.
//
// Compiled in when CAIRN_CRASH_POINTS is defined (the CMake option of that name, ON unless
// a release build turns it off): reaching a point then costs a comparison; the environment
// is read once per process. Without it, CAIRN_CRASH_POINT compiles to nothing.
#pragma once

#include <string_view>

namespace cairn::crash_point {

// Every point, where it is, and what a crash there leaves.
inline constexpr std::string_view kCrashPoints[] = {
    // port/rocks.cc, Db::Write of a synced batch: before RocksDB writes it (nothing of the
    // batch is written), after the synced write but before the acknowledgement record
    // (written, not acknowledged: present or absent after the crash, never torn), and after
    // the acknowledgement (done; the command dies before it says so).
    "db.write.before",
    "db.write.unacknowledged",
    "db.write.acknowledged",
    // ingest/ingest.cc: a snapshot's objects are stored, its record is not (the objects are
    // unreferenced until gc).
    "ingest.objects-stored",
    // checkout/checkout.cc: a version's tree is written and fsynced under its temporary
    // name; it is in place but its seal is not; `current` points at it but older versions
    // are not pruned yet.
    "checkout.tree-written",
    "checkout.version-in-place",
    "checkout.current-switched",
    // store/migrate.cc: the format-2 copy is complete and verified but not in place; it is
    // in place but the format-1 database is not renamed aside yet.
    "migrate.copied",
    "migrate.switched",
    // store/recover.cc: the copy is complete and checked under its temporary name, not yet
    // renamed to DIR/.cairn (no store is there; the next recover starts again).
    "recover.copied",
    // deploy/deployment.cc, team mode: the remote accepted the move, this store has not
    // written it (the next pull takes it from the remote).
    "publish.pushed",
    // remote/transfer.cc: a pull's objects are stored, its records are not (nothing
    // imported; the objects are unreferenced until the next pull or gc).
    "pull.objects-stored",
    // store/gc.cc: the deleted snapshots' records and stale stat-cache entries are gone, their
    // objects are not (unreferenced: the next gc removes them); then the objects are gone
    // too, the compaction that returns their space has not run.
    "gc.records-deleted",
    "gc.objects-deleted",
};

// Stops the process if the environment names `name` and this is the Nth time it is reached.
void Reach(std::string_view name);

}  // namespace cairn::crash_point

#ifdef CAIRN_CRASH_POINTS
#define CAIRN_CRASH_POINT(name) ::cairn::crash_point::Reach(name)
#else
#define CAIRN_CRASH_POINT(name) ((void)0)
#endif
