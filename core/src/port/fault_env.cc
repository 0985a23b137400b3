#include "port/fault_env.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <rocksdb/file_system.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace cairn {

struct FaultEnv::State {
  mutable std::mutex mu;
  unsigned kinds = 0;
  uint64_t fail_at = 0;  // 0: never
  int error = 0;
  uint64_t seen = 0;
  bool fired = false;
  std::string first_failure;

  // Counts one operation; returns the errno it must fail with, or 0 to let it through.
  int Check(FaultKind kind, std::string_view what) {
    std::lock_guard lock(mu);
    if ((kinds & kind) == 0) return 0;
    ++seen;
    if (fail_at == 0 || seen < fail_at) return 0;
    if (!fired) first_failure = std::string(what);
    fired = true;
    return error;
  }
};

namespace {

rocksdb::IOStatus Injected(int error, std::string_view what) {
  std::string msg = fmt::format("{}: {} (injected)", what, std::strerror(error));
  if (error == ENOSPC) return rocksdb::IOStatus::NoSpace(msg);
  return rocksdb::IOStatus::IOError(msg);
}

using State = FaultEnv::State;

class FaultFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultFile(std::unique_ptr<rocksdb::FSWritableFile> f, std::string name,
            std::shared_ptr<State> state)
      : FSWritableFileOwnerWrapper(std::move(f)),
        name_(std::move(name)),
        state_(std::move(state)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    if (int e = state_->Check(kFaultWrite, What("write"))) return Injected(e, What("write"));
    return FSWritableFileOwnerWrapper::Append(data, o, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* dbg) override {
    if (int e = state_->Check(kFaultWrite, What("write"))) return Injected(e, What("write"));
    return FSWritableFileOwnerWrapper::Append(data, o, v, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t off,
                                     const rocksdb::IOOptions& o,
                                     rocksdb::IODebugContext* dbg) override {
    if (int e = state_->Check(kFaultWrite, What("write"))) return Injected(e, What("write"));
    return FSWritableFileOwnerWrapper::PositionedAppend(data, off, o, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t off,
                                     const rocksdb::IOOptions& o,
                                     const rocksdb::DataVerificationInfo& v,
                                     rocksdb::IODebugContext* dbg) override {
    if (int e = state_->Check(kFaultWrite, What("write"))) return Injected(e, What("write"));
    return FSWritableFileOwnerWrapper::PositionedAppend(data, off, o, v, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (int e = state_->Check(kFaultSync, What("fsync"))) return Injected(e, What("fsync"));
    return FSWritableFileOwnerWrapper::Sync(o, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (int e = state_->Check(kFaultSync, What("fsync"))) return Injected(e, What("fsync"));
    return FSWritableFileOwnerWrapper::Fsync(o, dbg);
  }
  rocksdb::IOStatus RangeSync(uint64_t off, uint64_t n, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override {
    if (int e = state_->Check(kFaultSync, What("fsync"))) return Injected(e, What("fsync"));
    return FSWritableFileOwnerWrapper::RangeSync(off, n, o, dbg);
  }

 private:
  std::string What(std::string_view op) const { return fmt::format("{} {}", op, name_); }
  std::string name_;
  std::shared_ptr<State> state_;
};

class FaultDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDirectory(std::unique_ptr<rocksdb::FSDirectory> d, std::string name,
                 std::shared_ptr<State> state)
      : FSDirectoryWrapper(std::move(d)), name_(std::move(name)), state_(std::move(state)) {}
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (int e = state_->Check(kFaultSync, "fsync directory " + name_)) {
      return Injected(e, "fsync directory " + name_);
    }
    return FSDirectoryWrapper::Fsync(o, dbg);
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg,
                                        const rocksdb::DirFsyncOptions& d) override {
    if (int e = state_->Check(kFaultSync, "fsync directory " + name_)) {
      return Injected(e, "fsync directory " + name_);
    }
    return FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, d);
  }

 private:
  std::string name_;
  std::shared_ptr<State> state_;
};

class FaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> base, std::shared_ptr<State> state)
      : FileSystemWrapper(std::move(base)), state_(std::move(state)) {}
  const char* Name() const override { return "CairnFaultInjection"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    return Wrap(name, target()->NewWritableFile(name, o, result, dbg), result);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    return Wrap(name, target()->ReopenWritableFile(name, o, result, dbg), result);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    return Wrap(name, target()->ReuseWritableFile(name, old, o, result, dbg), result);
  }
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewDirectory(name, o, result, dbg);
    if (s.ok()) *result = std::make_unique<FaultDirectory>(std::move(*result), name, state_);
    return s;
  }
  rocksdb::IOStatus CreateDir(const std::string& name, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override {
    if (int e = state_->Check(kFaultCreate, "mkdir " + name)) return Injected(e, "mkdir " + name);
    return target()->CreateDir(name, o, dbg);
  }
  rocksdb::IOStatus CreateDirIfMissing(const std::string& name, const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
    if (int e = state_->Check(kFaultCreate, "mkdir " + name)) return Injected(e, "mkdir " + name);
    return target()->CreateDirIfMissing(name, o, dbg);
  }
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (int e = state_->Check(kFaultRename, "rename " + from)) return Injected(e, "rename " + from);
    return target()->RenameFile(from, to, o, dbg);
  }
  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to,
                             const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (int e = state_->Check(kFaultRename, "link " + from)) return Injected(e, "link " + from);
    return target()->LinkFile(from, to, o, dbg);
  }

 private:
  rocksdb::IOStatus Wrap(const std::string& name, rocksdb::IOStatus opened,
                         std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (!opened.ok()) return opened;
    if (int e = state_->Check(kFaultCreate, "create " + name)) {
      result->reset();
      return Injected(e, "create " + name);
    }
    *result = std::make_unique<FaultFile>(std::move(*result), name, state_);
    return opened;
  }
  std::shared_ptr<State> state_;
};

std::string FdName(int fd) {
  char buf[4096];
  std::string link = fmt::format("/proc/self/fd/{}", fd);
  ssize_t n = ::readlink(link.c_str(), buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : fmt::format("fd {}", fd);
}

}  // namespace

FaultEnv::FaultEnv(Env& base) : base_(base), state_(std::make_shared<State>()) {}
FaultEnv::~FaultEnv() = default;

void FaultEnv::FailFrom(uint64_t k, int error, unsigned kinds) {
  std::lock_guard lock(state_->mu);
  state_->kinds = kinds;
  state_->fail_at = k;
  state_->error = error;
  state_->seen = 0;
  state_->fired = false;
  state_->first_failure.clear();
}
void FaultEnv::Count(unsigned kinds) { FailFrom(0, 0, kinds); }
void FaultEnv::Disarm() {
  std::lock_guard lock(state_->mu);
  state_->fail_at = 0;
}
uint64_t FaultEnv::operations() const {
  std::lock_guard lock(state_->mu);
  return state_->seen;
}
bool FaultEnv::fired() const {
  std::lock_guard lock(state_->mu);
  return state_->fired;
}
std::string FaultEnv::first_failure() const {
  std::lock_guard lock(state_->mu);
  return state_->first_failure;
}

namespace {
template <typename T>
T Fail(int error) {
  errno = error;
  return static_cast<T>(-1);
}
}  // namespace

int FaultEnv::OpenAt(int dirfd, const char* path, int flags, mode_t mode) {
  if ((flags & O_CREAT) != 0) {
    if (int e = state_->Check(kFaultCreate, fmt::format("create {}", path))) return Fail<int>(e);
  }
  return base_.OpenAt(dirfd, path, flags, mode);
}
ssize_t FaultEnv::Write(int fd, const void* data, size_t n) {
  if (int e = state_->Check(kFaultWrite, "write " + FdName(fd))) return Fail<ssize_t>(e);
  return base_.Write(fd, data, n);
}
ssize_t FaultEnv::PWrite(int fd, const void* data, size_t n, off_t offset) {
  if (int e = state_->Check(kFaultWrite, "write " + FdName(fd))) return Fail<ssize_t>(e);
  return base_.PWrite(fd, data, n, offset);
}
int FaultEnv::Fsync(int fd, bool data_only) {
  if (int e = state_->Check(kFaultSync, "fsync " + FdName(fd))) return Fail<int>(e);
  return base_.Fsync(fd, data_only);
}
int FaultEnv::MkdirAt(int dirfd, const char* path, mode_t mode) {
  if (int e = state_->Check(kFaultCreate, fmt::format("mkdir {}", path))) return Fail<int>(e);
  return base_.MkdirAt(dirfd, path, mode);
}
int FaultEnv::RenameAt(int from_dir, const char* from, int to_dir, const char* to) {
  if (int e = state_->Check(kFaultRename, fmt::format("rename {}", from))) return Fail<int>(e);
  return base_.RenameAt(from_dir, from, to_dir, to);
}
int FaultEnv::SymlinkAt(const char* target, int dirfd, const char* path) {
  if (int e = state_->Check(kFaultCreate, fmt::format("symlink {}", path))) return Fail<int>(e);
  return base_.SymlinkAt(target, dirfd, path);
}
std::shared_ptr<rocksdb::FileSystem> FaultEnv::WrapRocksFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base) {
  return std::make_shared<FaultFileSystem>(base_.WrapRocksFileSystem(std::move(base)), state_);
}

}  // namespace cairn
