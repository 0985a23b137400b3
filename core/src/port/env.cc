#include "port/env.h"

#include <fcntl.h>
#include <rocksdb/file_system.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace cairn {
namespace {
class PosixEnv final : public Env {
 public:
  bool is_default() const override { return true; }
};
}  // namespace

Env& Env::Default() {
  static PosixEnv env;
  return env;
}

int Env::OpenAt(int dirfd, const char* path, int flags, mode_t mode) {
  return ::openat(dirfd, path, flags, mode);
}
ssize_t Env::Write(int fd, const void* data, size_t n) { return ::write(fd, data, n); }
ssize_t Env::PWrite(int fd, const void* data, size_t n, off_t offset) {
  return ::pwrite(fd, data, n, offset);
}
int Env::Fsync(int fd, bool data_only) { return data_only ? ::fdatasync(fd) : ::fsync(fd); }
int Env::MkdirAt(int dirfd, const char* path, mode_t mode) { return ::mkdirat(dirfd, path, mode); }
int Env::RenameAt(int from_dir, const char* from, int to_dir, const char* to) {
  return ::renameat(from_dir, from, to_dir, to);
}
int Env::SymlinkAt(const char* target, int dirfd, const char* path) {
  return ::symlinkat(target, dirfd, path);
}
std::shared_ptr<rocksdb::FileSystem> Env::WrapRocksFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base) {
  return base;
}

}  // namespace cairn
