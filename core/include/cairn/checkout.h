// Checkout: a snapshot as plain, read-only files for serving hosts, switched atomically.
//
// A checkout directory DIR holds
//   DIR/.versions/<id>/...          one complete tree per snapshot checked out (read-only)
//   DIR/.versions/<id>.seal         what cairn wrote there: paths, sizes, digests, identities
//   DIR/current -> .versions/<id>   the live tree, replaced with one rename(2)
//   DIR/.versions/.lock             held (flock) by a checkout while it changes DIR
// A `.versions/<id>` directory exists only once its tree is complete and durable (it is
// written under a temporary name, synced, then renamed into place), so a reader that
// resolves `current` once — opens it as a directory, or reads the link — sees one whole
// version, never a mix and never a missing `current` (after the first checkout). A version
// already there is reused only if it is exactly what its seal (written last) says and the
// seal is exactly the snapshot; anything else — a file edited, added or removed, a planted
// directory, a version from before seals — is written again, in place, and reported.
//
// Safety: every change is made relative to a descriptor of DIR with O_NOFOLLOW and
// O_EXCL; no symlink inside DIR is followed (a planted one is refused or replaced, never
// written through), and nothing is written outside DIR. Several processes may check out
// into one DIR; they take turns on the lock. Functions only read the store.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/deployment_name.h"
#include "cairn/digest.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"

namespace cairn {

struct CheckoutOptions {
  // Versions kept in DIR/.versions after the switch, newest first (the one `current`
  // points to is never deleted). At least 1.
  uint32_t keep = 5;
  // How long to wait for another checkout into the same DIR (then kBusy).
  std::chrono::milliseconds lock_timeout{10000};
  // Reuse also re-reads every file of an existing version against its digest (the default
  // check compares each file's inode, size, mtime and ctime with the seal's).
  bool verify = false;
};

struct CheckoutResult {
  SnapshotId id;
  std::string version_path;  // DIR/.versions/<id>
  bool written = false;      // false: the version was already in DIR
  // Set when a version already in DIR did not match its seal and was written again: why
  // ("prompts/system.md was changed after it was written", "it has no seal ...").
  std::string rewrite_reason;
  bool switched = false;               // false: `current` already pointed to it
  std::optional<SnapshotId> previous;  // what `current` pointed to before, if cairn's
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::vector<SnapshotId> removed;  // versions deleted to keep `keep`
};

// Writes snapshot `id` into DIR/.versions/<id>/ (unless already there) and points
// DIR/current at it. DIR is created if missing (its parent must exist); an existing DIR
// must be empty or a checkout directory.
// Durability: every file and directory is fsynced before the version is renamed into place, and
// each rename is followed by an fsync of its directory; a crash leaves `current` at the
// old version or the new one, plus at most a `.versions/.tmp-*` that the next checkout
// removes.
// Errors: kNotFound (no such snapshot), kConflict (DIR is not a checkout directory, or a
// path in it is not what cairn wrote — e.g. a planted symlink), kBusy (lock),
// kCorruption (stored bytes do not match), kIO.
Result<CheckoutResult> Checkout(const Store& store, const SnapshotId& id, const std::string& dir,
                                const CheckoutOptions& options = {});

// Where a checkout reads the bytes of components: the store, or — for a host that follows a
// deployment over HTTP and has no store — objects it fetched. Stream may be called from
// several threads at once (components are written in parallel).
class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  // Passes the bytes of object `digest` to `sink` in order. Every piece is verified against
  // `digest` before it is passed on; kCorruption when the bytes do not match, kNotFound when
  // the object cannot be had. A failing sink stops the stream and its Status is returned.
  virtual Status Stream(const Digest& digest,
                        const std::function<Status(std::string_view)>& sink) const = 0;
};

// Checkout (above) of a snapshot that is not read from a store: `snapshot` must already be
// verified by the caller (its id is the SHA-256 of its canonical manifest,
// SnapshotFromManifest), its objects come from `source`. Same layout, atomicity, durability
// and errors as Checkout.
Result<CheckoutResult> CheckoutFromSource(const Snapshot& snapshot, const ObjectSource& source,
                                          const std::string& dir,
                                          const CheckoutOptions& options = {});

// The version DIR/current points to; nullopt when there is no `current` (or it is a
// symlink cairn did not write). kConflict when `current` is not a symlink.
Result<std::optional<SnapshotId>> CurrentCheckout(const std::string& dir);

struct FollowOptions {
  CheckoutOptions checkout;
  // Time between two looks at the deployment; a move is followed within one interval.
  std::chrono::milliseconds interval{500};
  // Polled at least every 50 ms; following ends when it returns true.
  std::function<bool()> stop;
  // Told after every switch (and after the first checkout).
  std::function<void(const CheckoutResult&)> on_switch;
  // Told when one look fails (store unreadable, disk full, ...); following goes on and
  // tries again one interval later, keeping the version that is live in DIR.
  std::function<void(const Status&)> on_error;
  // Called before every look (team mode: a pull of the deployment from its upstream, as a
  // brief writer). An error goes to on_error and the look goes on with what the store has.
  std::function<Status()> refresh;
};

// Keeps DIR/current at what is live on `deployment`: looks every `interval` (opening the
// store at `store_path` read-only each time, so it never waits on writers and sees every
// committed move) and checks out on change. Returns OK when `stop` says so; fails at once
// only if the deployment does not exist when following starts.
Status FollowDeployment(const std::string& store_path, const DeploymentName& deployment,
                        const std::string& dir, const FollowOptions& options);

}  // namespace cairn
