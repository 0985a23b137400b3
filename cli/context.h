// What every command shares: the global options and how to open the store.
#pragma once

#include <cairn/signing.h>
#include <cairn/store.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cairn::cli {

struct GlobalOptions {
  std::string store;            // --store DIR (the store directory itself)
  std::string actor;            // --actor NAME
  int lock_timeout_ms = 10000;  // --lock-timeout MS
  bool no_progress = false;     // --no-progress
};

class Context {
 public:
  GlobalOptions global;
  int exit_code = 0;  // set by the command that ran

  // The store directory (from --store, CAIRN_STORE or the working directory).
  Result<std::string> StorePath() const;
  // Opens the store read-only: never waits on a writer.
  Result<std::unique_ptr<Store>> OpenForRead() const;
  // Opens the store for writing, waiting for the writer lock up to --lock-timeout.
  Result<std::unique_ptr<Store>> OpenForWrite() const;
  // --actor, else $CAIRN_ACTOR, else user@host.
  std::string Actor() const;
  // The actor's signing key: the PEM file `key_flag` (a command's --key) if not empty, else
  // $CAIRN_KEY if set, else none.
  Result<std::optional<PrivateKey>> SigningKey(const std::string& key_flag) const;
  // The root keys approving a trust or policy change: each PEM file of a repeated --key
  // (no $CAIRN_KEY fallback: approving a change of trust is never ambient).
  Result<std::vector<PrivateKey>> RootKeys(const std::vector<std::string>& paths) const;
  // The keys as core takes them (the vector must outlive the pointers).
  static std::vector<const PrivateKey*> KeyPointers(const std::vector<PrivateKey>& keys);
};

}  // namespace cairn::cli
