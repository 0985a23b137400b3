// FaultEnv: an Env over the real file system that makes operations fail on demand, for
// tests of every write path against a failing disk (ENOSPC, EIO, EROFS). It counts, in one
// sequence, the operations of the chosen kinds made by cairn itself (through the Env) and
// by RocksDB (through the FileSystem it wraps), and from the k-th one on fails each of them
// with the chosen errno — the real call is not made. The fault is sticky: a full disk stays
// full and a failed fsync stays failed, so no caller can retry its way into a success.
//
// Thread-safe. The FileSystem it gives RocksDB shares its state, so it may outlive the Env
// only as long as no operation is made through it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "port/env.h"

namespace cairn {

enum FaultKind : unsigned {
  kFaultWrite = 1,   // write, pwrite, RocksDB Append / PositionedAppend
  kFaultSync = 2,    // fsync, fdatasync (files and directories), RocksDB Sync / RangeSync
  kFaultRename = 4,  // rename, RocksDB RenameFile / LinkFile
  kFaultCreate = 8,  // open with O_CREAT, mkdir, symlink, RocksDB new files and directories
  kFaultAll = 15,
};

class FaultEnv final : public Env {
 public:
  struct State;
  explicit FaultEnv(Env& base = Env::Default());
  ~FaultEnv() override;

  // From the k-th counted operation (1-based, counting from now) of the given kinds on,
  // every such operation fails with `error`. Resets the count.
  void FailFrom(uint64_t k, int error, unsigned kinds = kFaultAll);
  // Counts operations of `kinds` from now on without failing any.
  void Count(unsigned kinds = kFaultAll);
  // Stops failing (the disk was freed); the count goes on.
  void Disarm();
  // Operations of the armed kinds seen since FailFrom/Count, including failed ones.
  uint64_t operations() const;
  // True once an operation has failed.
  bool fired() const;
  // The first operation that failed ("fsync /tmp/x/db2/000012.log"), "" if none.
  std::string first_failure() const;

  int OpenAt(int dirfd, const char* path, int flags, mode_t mode) override;
  ssize_t Write(int fd, const void* data, size_t n) override;
  ssize_t PWrite(int fd, const void* data, size_t n, off_t offset) override;
  int Fsync(int fd, bool data_only) override;
  int MkdirAt(int dirfd, const char* path, mode_t mode) override;
  int RenameAt(int from_dir, const char* from, int to_dir, const char* to) override;
  int SymlinkAt(const char* target, int dirfd, const char* path) override;
  std::shared_ptr<rocksdb::FileSystem> WrapRocksFileSystem(
      std::shared_ptr<rocksdb::FileSystem> base) override;

 private:
  Env& base_;
  std::shared_ptr<State> state_;
};

}  // namespace cairn
