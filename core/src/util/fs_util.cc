#include "util/fs_util.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace cairn {

Status ErrnoStatus(const std::string& op, const std::string& path, int errno_value) {
  std::string msg = fmt::format("{} {}: {}", op, path, std::strerror(errno_value));
  if (errno_value == ENOENT) return Status::NotFound(msg);
  if (errno_value == EEXIST) return Status::Conflict(msg);
  return Status::IO(msg);
}

Status FsyncDir(Env& env, const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory", dir, errno);
  int rc = env.Fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync directory", dir, err);
  return Status::OK();
}

Status MakeDir(Env& env, const std::string& path, bool exist_ok, unsigned mode) {
  if (env.MkdirAt(AT_FDCWD, path.c_str(), mode) == 0) return Status::OK();
  int err = errno;
  if (err == EEXIST && exist_ok) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::OK();
  }
  if (err == EEXIST) return Status::Conflict(fmt::format("{} already exists", path));
  return ErrnoStatus("create directory", path, err);
}

Status WriteNewFile(Env& env, const std::string& path, std::string_view data, unsigned mode) {
  int fd = env.OpenAt(AT_FDCWD, path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                      mode);
  if (fd < 0) return ErrnoStatus("create", path, errno);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = env.Write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus("write", path, err);
    }
    off += static_cast<size_t>(n);
  }
  if (env.Fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("fsync", path, err);
  }
  if (::close(fd) != 0) return ErrnoStatus("close", path, errno);
  return Status::OK();
}

void RemoveTreeQuietly(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);  // remove_all does not follow symlinks
}

std::string ParentDir(const std::string& path) {
  std::filesystem::path p(path);
  auto parent = p.parent_path();
  return parent.empty() ? "." : parent.string();
}

Result<Digest> HashFd(int fd, const std::string& op, const std::string& path) {
  Sha256 sha;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(op, path, errno);
    if (n == 0) return sha.Finish();
    sha.Update(buf, static_cast<size_t>(n));
  }
}

}  // namespace cairn
