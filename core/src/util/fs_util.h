// Small POSIX helpers for durable file-system changes, reporting errors as Status. The
// changes go through `env` (port/env.h), so tests can make them fail.
#pragma once

#include <string>

#include "cairn/digest.h"
#include "cairn/status.h"
#include "port/env.h"

namespace cairn {

// fsync(2) of a directory, so a rename or create inside it survives a crash.
Status FsyncDir(Env& env, const std::string& dir);
// mkdir(2) with `mode`; an existing directory is fine when `exist_ok`.
Status MakeDir(Env& env, const std::string& path, bool exist_ok, unsigned mode = 0755);
// Writes `data` to a new file `path` (must not exist) and fsyncs it.
Status WriteNewFile(Env& env, const std::string& path, std::string_view data, unsigned mode = 0644);
// "<op> <path>: <strerror(errno_value)>": kNotFound for ENOENT, kConflict for EEXIST, else kIO.
Status ErrnoStatus(const std::string& op, const std::string& path, int errno_value);

// SHA-256 of everything left to read from `fd` (not closed); a read error is
// ErrnoStatus(op, path, errno).
Result<Digest> HashFd(int fd, const std::string& op, const std::string& path);
// Removes a directory tree without following symlinks; best effort, for cleanup only.
void RemoveTreeQuietly(const std::string& path);
// The parent directory of `path` ("." when it has none).
std::string ParentDir(const std::string& path);

}  // namespace cairn
