// Store: a cairn store on disk — a directory holding one RocksDB database and hooks/.
//
// A Store object owns the database handle; pass it explicitly. Open it read-only for
// reading (never waits on writers, sees what was durable when it opened) or read-write
// (one writer process at a time; the open waits for the lock up to a bound, then fails
// with kBusy). One Store may be used by several threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cairn/clock.h"
#include "cairn/status.h"

namespace cairn {

class Env;  // the file-system seam (core/src/port/env.h)

// Version of the on-disk format this build writes (docs/format.md). It reads format 1 as
// it is and upgrades it to this one at the first write (docs/format.md, "Upgrading").
inline constexpr int kStoreFormatVersion = 2;
// Name of the store directory found by walking up from the working directory.
inline constexpr const char* kStoreDirName = ".cairn";

struct StoreOpenOptions {
  bool read_only = true;
  // How long a writer waits for another writer to finish (`--lock-timeout`).
  std::chrono::milliseconds lock_timeout{10000};
  // Told once, with a human sentence, when the open starts waiting for the lock.
  std::function<void(const std::string&)> on_wait;
  // Told, with a human sentence, when a read-write open upgraded the store's format.
  std::function<void(const std::string&)> on_upgrade;
  // Where time comes from; nullptr means SystemClock().
  const Clock* clock = nullptr;
  // true (the default): every write that promises durability — a snapshot, a promotion, a
  // rollback — is synced before it returns. false is for bulk loads only (importing or
  // generating a long history, e.g. bench/build_history.cc): writes are not synced one by
  // one, and Close() flushes everything to table files and syncs it. A crash before Close()
  // returns can lose any write made since the open. The cairn CLI never sets it.
  bool sync_each_write = true;
  // The file system every write goes through; nullptr: the real one. Tests pass a FaultEnv
  // to make writes fail.
  Env* env = nullptr;
};

class Store {
 public:
  // Creates a new, empty store in directory `path` (created if missing; must be empty if
  // it exists). Writes the format version, creates hooks/, fsyncs.
  static Result<std::unique_ptr<Store>> Init(const std::string& path, Env* env = nullptr);

  // Opens the store at `path` (the store directory itself). A read-write open of a format-1
  // store first upgrades it to the current format (one rename; a crash leaves format 1
  // intact or the new format complete); a read-only open reads format 1 as it is.
  static Result<std::unique_ptr<Store>> Open(const std::string& path,
                                             const StoreOpenOptions& options);

  // Finds the store directory: `explicit_path` if not empty, else `env_value`
  // ($CAIRN_STORE) if not null/empty, else the nearest ".cairn" walking up from `cwd`.
  // kNotFound with advice on how to create one when there is none.
  static Result<std::string> Locate(const std::string& explicit_path, const char* env_value,
                                    const std::string& cwd);

  // The generation of the store's acknowledgement record (`db2/ACKED`, docs/format.md),
  // which grows with every write cairn acknowledges: a reader that polls it learns that the
  // store changed without reopening the database (reads 128 bytes, takes no lock). 0 for a
  // store without the record (format 1, or never written).
  static Result<uint64_t> WriteGeneration(const std::string& path);

  // Closes the store if Close() was not called; an error is then lost.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Closes the database and reports whether everything written is durable — after a bulk
  // load (sync_each_write = false) this is the step that makes it so. Call nothing else
  // afterwards.
  [[nodiscard]] Status Close();

  const std::string& path() const;
  bool read_only() const;
  // The on-disk format of the open database (1 only for a read-only open of an old store).
  int format_version() const;
  const Clock& clock() const;
  // The file system its writes go through (never null).
  Env& env() const;

 private:
  friend class StoreInternal;
  struct Rep;
  explicit Store(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace cairn
