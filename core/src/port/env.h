// Env: the file-system seam (leveldb's pattern). Every file cairn writes itself — the
// acknowledgement record, checkouts, keys, init's directories — goes through an Env, and
// every file RocksDB writes goes through the FileSystem the Env wraps around RocksDB's own.
// Production uses Env::Default(), a thin layer over POSIX; tests use a FaultEnv
// (port/fault_env.h) that makes the k-th write, fsync, rename or create fail on the real
// file system. Nothing is mocked: every call reaches the kernel unless a fault is due.
//
// Each method mirrors the POSIX call of the same name: the same arguments, the same return
// value, errno set on failure. An Env is safe to use from several threads at once.
#pragma once

#include <sys/types.h>

#include <memory>

namespace rocksdb {
class FileSystem;
}  // namespace rocksdb

namespace cairn {

class Env {
 public:
  virtual ~Env() = default;
  // The POSIX file system, process-wide (it holds no state).
  static Env& Default();

  virtual int OpenAt(int dirfd, const char* path, int flags, mode_t mode);
  virtual ssize_t Write(int fd, const void* data, size_t n);
  virtual ssize_t PWrite(int fd, const void* data, size_t n, off_t offset);
  // fsync(2); `data_only` makes it fdatasync(2).
  virtual int Fsync(int fd, bool data_only = false);
  virtual int MkdirAt(int dirfd, const char* path, mode_t mode);
  virtual int RenameAt(int from_dir, const char* from, int to_dir, const char* to);
  virtual int SymlinkAt(const char* target, int dirfd, const char* path);

  // The file system RocksDB is to use in place of `base` (RocksDB's own, or cairn's wrapper
  // of it): `base` itself unless this Env injects faults.
  virtual std::shared_ptr<rocksdb::FileSystem> WrapRocksFileSystem(
      std::shared_ptr<rocksdb::FileSystem> base);
  // True for Env::Default(): RocksDB can then use its process-wide Env objects.
  virtual bool is_default() const { return false; }
};

}  // namespace cairn
