// Checkout into a serving directory. Every file-system call here is relative to a
// directory descriptor and refuses to follow symlinks (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW),
// so a symlink planted inside DIR can neither redirect a write nor a delete.
#include "cairn/checkout.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <thread>

#include "cairn/canonical_json.h"
#include "cairn/deployment.h"
#include "cairn/digest.h"
#include "cairn/object.h"
#include "port/env.h"
#include "util/crash_point.h"
#include "util/fs_util.h"
#include "util/parallel.h"

namespace cairn {
namespace {

constexpr const char* kVersionsDir = ".versions";
constexpr const char* kCurrentLink = "current";
constexpr const char* kNewLink = ".current.new";
constexpr const char* kLockFile = ".lock";
constexpr const char* kTempPrefix = ".tmp-";
constexpr const char* kSealSuffix = ".seal";

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

std::string Join(const std::string& a, const std::string& b) { return a + "/" + b; }

// Opens `name` under `parent` as a directory without following a symlink. A symlink or a
// non-directory there is a conflict: cairn did not put it there.
Result<Fd> OpenDirAt(int parent, const std::string& name, const std::string& shown) {
  int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) return Fd(fd);
  int err = errno;
  if (err == ELOOP || err == ENOTDIR) {
    return Status::Conflict(fmt::format(
        "{} is not a directory cairn created (a symlink or a file); refusing to use it", shown));
  }
  return ErrnoStatus("open directory", shown, err);
}

// mkdirat that accepts an existing directory (checked by the following OpenDirAt).
Status MakeDirAt(Env& env, int parent, const std::string& name, const std::string& shown,
                 bool* created = nullptr) {
  if (env.MkdirAt(parent, name.c_str(), 0755) == 0) {
    if (created != nullptr) *created = true;
    return Status::OK();
  }
  if (errno == EEXIST) return Status::OK();
  return ErrnoStatus("create directory", shown, errno);
}

Status FsyncFd(Env& env, int fd, const std::string& shown) {
  if (env.Fsync(fd) != 0) return ErrnoStatus("fsync", shown, errno);
  return Status::OK();
}

bool IsVersionName(std::string_view name) {
  return name.size() == 64 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The names in a directory, without "." and "..".
Result<std::vector<std::string>> ListDir(int fd, const std::string& shown) {
  int dup_fd = ::dup(fd);
  if (dup_fd < 0) return ErrnoStatus("dup", shown, errno);
  DIR* d = ::fdopendir(dup_fd);
  if (d == nullptr) {
    int err = errno;
    ::close(dup_fd);
    return ErrnoStatus("read directory", shown, err);
  }
  ::rewinddir(d);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  ::closedir(d);
  return names;
}

// Removes the tree `name` under `parent` without following symlinks: a symlink is
// unlinked, never entered. Directories are made writable first (versions are read-only).
Status RemoveTreeAt(int parent, const std::string& name, const std::string& shown) {
  struct stat st {};
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::OK();
    return ErrnoStatus("stat", shown, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(parent, name.c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoStatus("remove", shown, errno);
    }
    return Status::OK();
  }
  CAIRN_ASSIGN_OR_RETURN(Fd fd, OpenDirAt(parent, name, shown));
  if (::fchmod(fd.get(), 0755) != 0) return ErrnoStatus("chmod", shown, errno);
  CAIRN_ASSIGN_OR_RETURN(auto entries, ListDir(fd.get(), shown));
  for (const auto& e : entries) {
    CAIRN_RETURN_IF_ERROR(RemoveTreeAt(fd.get(), e, Join(shown, e)));
  }
  if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return ErrnoStatus("remove directory", shown, errno);
  }
  return Status::OK();
}

// Splits a manifest path into segments, refusing anything that could leave the tree.
// Ingest already guarantees this; a store may still have been tampered with.
Result<std::vector<std::string>> PathSegments(const std::string& path) {
  std::vector<std::string> segs;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string seg = path.substr(start, slash - start);
    if (seg.empty() || seg == "." || seg == ".." || seg.find('\0') != std::string::npos) {
      return Status::Corruption(fmt::format(
          "component path \"{}\" is not a relative path inside the release; refusing to write it",
          path));
    }
    segs.push_back(std::move(seg));
    start = slash + 1;
  }
  return segs;
}

Status WriteAllFd(Env& env, int fd, std::string_view data, const std::string& shown) {
  while (!data.empty()) {
    ssize_t n = env.Write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write", shown, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// What a version's seal records of one file as it was written: any later write, truncate,
// chmod or replacement changes the inode or the change time (ctime cannot be set by hand).
struct FileIdentity {
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

FileIdentity IdentityOf(const struct stat& st) {
  auto ns = [](const struct timespec& t) {
    return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
  };
  return {static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size), ns(st.st_mtim),
          ns(st.st_ctim)};
}

// Writes one component below `root` (a fresh temporary tree): parent directories are
// created as needed and opened without following symlinks; the file is created O_EXCL,
// read-only, and filled from `source` (every piece verified before it is passed on). Its
// identity once durable goes to `identity`.
Status WriteComponent(const ObjectSource& source, Env& env, int root, const std::string& root_shown,
                      const Component& c, FileIdentity* identity) {
  CAIRN_ASSIGN_OR_RETURN(auto segs, PathSegments(c.path));
  Fd dir;
  int at = root;
  std::string shown = root_shown;
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    shown = Join(shown, segs[i]);
    CAIRN_RETURN_IF_ERROR(MakeDirAt(env, at, segs[i], shown));
    CAIRN_ASSIGN_OR_RETURN(dir, OpenDirAt(at, segs[i], shown));
    at = dir.get();
  }
  shown = Join(shown, segs.back());
  Fd file(env.OpenAt(at, segs.back().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     0444));
  if (file.get() < 0) return ErrnoStatus("create", shown, errno);
  Status s = source.Stream(
      c.digest, [&](std::string_view piece) { return WriteAllFd(env, file.get(), piece, shown); });
  if (!s.ok()) return s.WithContext(c.path);
  CAIRN_RETURN_IF_ERROR(FsyncFd(env, file.get(), shown));
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return ErrnoStatus("stat", shown, errno);
  *identity = IdentityOf(st);
  if (::close(file.release()) != 0) return ErrnoStatus("close", shown, errno);
  return Status::OK();
}

// Makes every directory of the tree read-only and durable (its entries fsynced), deepest
// first.
Status SealDirs(Env& env, int parent, const std::string& name, const std::string& shown) {
  CAIRN_ASSIGN_OR_RETURN(Fd fd, OpenDirAt(parent, name, shown));
  CAIRN_ASSIGN_OR_RETURN(auto names, ListDir(fd.get(), shown));
  for (const auto& n : names) {
    struct stat st {};
    if (::fstatat(fd.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus("stat", Join(shown, n), errno);
    }
    if (S_ISDIR(st.st_mode)) CAIRN_RETURN_IF_ERROR(SealDirs(env, fd.get(), n, Join(shown, n)));
  }
  if (::fchmod(fd.get(), 0555) != 0) return ErrnoStatus("chmod", shown, errno);
  return FsyncFd(env, fd.get(), shown);
}

// Holds DIR/.versions/.lock (flock) for the life of the object.
class CheckoutLock {
 public:
  static Result<CheckoutLock> Take(Env& env, int versions, const std::string& shown,
                                   std::chrono::milliseconds timeout) {
    Fd fd(env.OpenAt(versions, kLockFile, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
      if (errno == ELOOP) {
        return Status::Conflict(
            fmt::format("{} is a symlink cairn did not create; refusing to use it", shown));
      }
      return ErrnoStatus("open lock file", shown, errno);
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) return ErrnoStatus("lock", shown, errno);
      if (std::chrono::steady_clock::now() >= deadline) {
        return Status::Busy(fmt::format("another checkout holds {} (waited {} ms); try again",
                                        shown, timeout.count()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return CheckoutLock(std::move(fd));
  }

 private:
  explicit CheckoutLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;  // closing it releases the lock
};

// What `current` is: absent, a link to a cairn version, a foreign symlink, or (conflict)
// something else.
struct CurrentState {
  bool exists = false;
  std::optional<SnapshotId> id;
};

Result<CurrentState> ReadCurrent(int dir, const std::string& dir_shown) {
  std::string shown = Join(dir_shown, kCurrentLink);
  struct stat st {};
  if (::fstatat(dir, kCurrentLink, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return CurrentState{};
    return ErrnoStatus("stat", shown, errno);
  }
  if (!S_ISLNK(st.st_mode)) {
    return Status::Conflict(
        fmt::format("{} exists and is not a symlink; cairn will not replace it", shown));
  }
  char buf[256];
  ssize_t n = ::readlinkat(dir, kCurrentLink, buf, sizeof(buf));
  if (n < 0) return ErrnoStatus("read link", shown, errno);
  std::string_view target(buf, static_cast<size_t>(n));
  CurrentState state;
  state.exists = true;
  std::string_view prefix = ".versions/";
  if (target.substr(0, prefix.size()) == prefix && IsVersionName(target.substr(prefix.size()))) {
    auto id = SnapshotId::Parse(target.substr(prefix.size()));
    if (id.ok()) state.id = *id;
  }
  return state;
}

// Opens DIR (creating it if missing) and DIR/.versions. An existing DIR that holds
// anything but a checkout is refused, so a typo cannot scatter files into /etc.
Status OpenCheckoutDir(Env& env, const std::string& dir, Fd* dir_fd, Fd* versions_fd) {
  bool created_dir = false;
  if (env.MkdirAt(AT_FDCWD, dir.c_str(), 0755) == 0) {
    created_dir = true;
  } else if (errno != EEXIST) {
    return ErrnoStatus("create directory", dir, errno);
  }
  // DIR itself is the caller's choice and may be reached through a symlink.
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() < 0) return ErrnoStatus("open directory", dir, errno);
  if (created_dir) CAIRN_RETURN_IF_ERROR(FsyncDir(env, ParentDir(dir)));
  std::string versions_shown = Join(dir, kVersionsDir);
  struct stat st {};
  if (::fstatat(d.get(), kVersionsDir, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT) return ErrnoStatus("stat", versions_shown, errno);
    CAIRN_ASSIGN_OR_RETURN(auto names, ListDir(d.get(), dir));
    if (!names.empty()) {
      return Status::Conflict(fmt::format(
          "{} is not empty and is not a checkout directory (it has no {}); choose an empty "
          "or new directory",
          dir, kVersionsDir));
    }
    CAIRN_RETURN_IF_ERROR(MakeDirAt(env, d.get(), kVersionsDir, versions_shown));
    CAIRN_RETURN_IF_ERROR(FsyncFd(env, d.get(), dir));
  }
  CAIRN_ASSIGN_OR_RETURN(*versions_fd, OpenDirAt(d.get(), kVersionsDir, versions_shown));
  *dir_fd = std::move(d);
  return Status::OK();
}

// Removes what an interrupted checkout left: temporary trees and the temporary link.
Status RemoveLeftovers(int dir, const std::string& dir_shown, int versions,
                       const std::string& versions_shown) {
  CAIRN_ASSIGN_OR_RETURN(auto names, ListDir(versions, versions_shown));
  std::set<std::string> present(names.begin(), names.end());
  for (const auto& n : names) {
    if (n.rfind(kTempPrefix, 0) == 0) {
      CAIRN_RETURN_IF_ERROR(RemoveTreeAt(versions, n, Join(versions_shown, n)));
    }
    // A seal whose version is gone (an interrupted prune) seals nothing.
    std::string_view suffix = kSealSuffix;
    if (n.size() == 64 + suffix.size() && n.ends_with(suffix) &&
        IsVersionName(std::string_view(n).substr(0, 64)) && !present.contains(n.substr(0, 64))) {
      if (::unlinkat(versions, n.c_str(), 0) != 0 && errno != ENOENT) {
        return ErrnoStatus("remove", Join(versions_shown, n), errno);
      }
    }
  }
  struct stat st {};
  if (::fstatat(dir, kNewLink, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISLNK(st.st_mode)) {
      return Status::Conflict(
          fmt::format("{} is not a symlink cairn created; remove it", Join(dir_shown, kNewLink)));
    }
    if (::unlinkat(dir, kNewLink, 0) != 0) {
      return ErrnoStatus("remove", Join(dir_shown, kNewLink), errno);
    }
  }
  return Status::OK();
}

// ---- seals ----
//
// `.versions/<id>.seal` (docs/format.md, "Checkout directories") lists what a version holds
// — every file's path, size and digest from the manifest, and its identity as written — and
// is put in place last, after the tree. A version is reused only when its seal names it, its
// files are exactly the snapshot's, and the tree is exactly the sealed files, unchanged.

constexpr size_t kMaxSealBytes = 256u << 20;

std::string SealName(const std::string& hex) { return hex + kSealSuffix; }

Result<std::string> SealBytes(const Snapshot& snapshot, const std::vector<FileIdentity>& ids) {
  Json files = Json::array();
  for (size_t i = 0; i < snapshot.components.size(); ++i) {
    const Component& c = snapshot.components[i];
    files.push_back({{"path", c.path},
                     {"size", c.size},
                     {"digest", c.digest.ToString()},
                     {"ino", ids[i].ino},
                     {"mtime_ns", ids[i].mtime_ns},
                     {"ctime_ns", ids[i].ctime_ns}});
  }
  return CanonicalJson({{"seal", 1}, {"snapshot", snapshot.id.Hex()}, {"files", files}});
}

// Writes the seal under a temporary name (fsynced); the caller renames it into place.
Status WriteSealFile(Env& env, int versions, const std::string& name, const std::string& shown,
                     std::string_view bytes) {
  Fd fd(env.OpenAt(versions, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                   0444));
  if (fd.get() < 0) return ErrnoStatus("create", shown, errno);
  CAIRN_RETURN_IF_ERROR(WriteAllFd(env, fd.get(), bytes, shown));
  CAIRN_RETURN_IF_ERROR(FsyncFd(env, fd.get(), shown));
  if (::close(fd.release()) != 0) return ErrnoStatus("close", shown, errno);
  return Status::OK();
}

struct SealedFile {
  uint64_t size = 0;
  Digest digest;
  FileIdentity identity;
};

// The seal of version `hex`: path -> what was written. Why it cannot be trusted otherwise
// (kCorruption with the reason; absent, unreadable, not cairn's, another snapshot's).
Result<std::map<std::string, SealedFile>> ReadSeal(int versions, const std::string& hex) {
  std::string name = SealName(hex);
  Fd fd(::openat(versions, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      return Status::Corruption("it has no seal (written by an older cairn, or not by cairn)");
    }
    return Status::Corruption(fmt::format("its seal cannot be read ({})", std::strerror(errno)));
  }
  std::string bytes;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status::Corruption(fmt::format("its seal cannot be read ({})", std::strerror(errno)));
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
    if (bytes.size() > kMaxSealBytes) return Status::Corruption("its seal is too large");
  }
  auto json = ParseCanonicalJson(bytes, "seal");
  if (!json.ok()) return Status::Corruption("its seal is not cairn's: " + json.status().message());
  std::map<std::string, SealedFile> files;
  try {
    if (json->at("seal").get<int>() != 1 || json->at("snapshot").get<std::string>() != hex) {
      return Status::Corruption("its seal is for another snapshot or format");
    }
    for (const Json& f : json->at("files")) {
      auto digest = Digest::Parse(f.at("digest").get<std::string>());
      if (!digest.ok()) return Status::Corruption("its seal has a bad digest");
      SealedFile sealed{
          f.at("size").get<uint64_t>(), *digest,
          FileIdentity{f.at("ino").get<uint64_t>(), f.at("size").get<uint64_t>(),
                       f.at("mtime_ns").get<int64_t>(), f.at("ctime_ns").get<int64_t>()}};
      if (!files.emplace(f.at("path").get<std::string>(), sealed).second) {
        return Status::Corruption("its seal names a path twice");
      }
    }
  } catch (const Json::exception&) {
    return Status::Corruption("its seal is not cairn's (missing or mistyped fields)");
  }
  return files;
}

// Every entry under `fd` (relative path -> stat), not following symlinks. kCorruption on
// anything that is neither a regular file nor a directory.
Status WalkTree(int fd, const std::string& prefix, std::map<std::string, struct stat>* files,
                std::set<std::string>* dirs) {
  CAIRN_ASSIGN_OR_RETURN(auto names, ListDir(fd, prefix.empty() ? "." : prefix));
  for (const auto& n : names) {
    std::string rel = prefix.empty() ? n : prefix + "/" + n;
    struct stat st {};
    if (::fstatat(fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Status::Corruption(fmt::format("{} cannot be read ({})", rel, std::strerror(errno)));
    }
    if (S_ISREG(st.st_mode)) {
      files->emplace(rel, st);
    } else if (S_ISDIR(st.st_mode)) {
      dirs->insert(rel);
      Fd sub(::openat(fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub.get() < 0) {
        return Status::Corruption(
            fmt::format("{} cannot be opened ({})", rel, std::strerror(errno)));
      }
      CAIRN_RETURN_IF_ERROR(WalkTree(sub.get(), rel, files, dirs));
    } else {
      return Status::Corruption(fmt::format("{} is not a regular file or a directory", rel));
    }
  }
  return Status::OK();
}

Result<Digest> HashFileAt(int root, const std::string& rel) {
  Fd fd(::openat(root, rel.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  auto digest = fd.get() < 0 ? Result<Digest>(ErrnoStatus("read", rel, errno))
                             : HashFd(fd.get(), "read", rel);
  if (!digest.ok()) {
    return Status::Corruption(
        fmt::format("{} cannot be read ({})", rel, digest.status().message()));
  }
  return digest;
}

// OK when version `hex` holds exactly `snapshot` as cairn wrote it; kCorruption naming the
// first difference otherwise. `rehash` also re-reads every file against its digest.
Status VerifyVersion(int versions, const Snapshot& snapshot, const std::string& hex, bool rehash) {
  CAIRN_ASSIGN_OR_RETURN(auto sealed, ReadSeal(versions, hex));
  if (sealed.size() != snapshot.components.size()) {
    return Status::Corruption("its seal lists other files than the snapshot");
  }
  for (const Component& c : snapshot.components) {
    auto it = sealed.find(c.path);
    if (it == sealed.end() || it->second.size != c.size || it->second.digest != c.digest) {
      return Status::Corruption(fmt::format("its seal disagrees with the snapshot on {}", c.path));
    }
  }
  Fd root(::openat(versions, hex.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (root.get() < 0) {
    return Status::Corruption(fmt::format("it cannot be opened ({})", std::strerror(errno)));
  }
  std::map<std::string, struct stat> files;
  std::set<std::string> dirs;
  CAIRN_RETURN_IF_ERROR(WalkTree(root.get(), "", &files, &dirs));
  std::set<std::string> parents;
  for (const auto& [path, want] : sealed) {
    auto it = files.find(path);
    if (it == files.end()) return Status::Corruption(fmt::format("{} is missing", path));
    if (IdentityOf(it->second) != want.identity) {
      return Status::Corruption(fmt::format("{} was changed after it was written", path));
    }
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      parents.insert(path.substr(0, slash));
    }
  }
  for (const auto& [path, st] : files) {
    if (!sealed.contains(path)) return Status::Corruption(fmt::format("{} was added", path));
  }
  for (const auto& d : dirs) {
    if (!parents.contains(d)) return Status::Corruption(fmt::format("{}/ was added", d));
  }
  if (!rehash) return Status::OK();
  for (const auto& [path, want] : sealed) {
    CAIRN_ASSIGN_OR_RETURN(Digest got, HashFileAt(root.get(), path));
    if (got != want.digest) {
      return Status::Corruption(fmt::format("{} does not hash to its digest", path));
    }
  }
  return Status::OK();
}

// Writes the snapshot into versions/<hex> through a temporary tree renamed into place, then
// its seal, last. With `replace`, an existing versions/<hex> (one that failed verification)
// is swapped out in one rename(2) (RENAME_EXCHANGE), so `current` never dangles, and removed.
Status WriteVersion(const ObjectSource& source, Env& env, const Snapshot& snapshot, int versions,
                    const std::string& versions_shown, bool replace) {
  std::string hex = snapshot.id.Hex();
  std::string tmp = fmt::format("{}{}-{}", kTempPrefix, hex.substr(0, 16), ::getpid());
  std::string tmp_shown = Join(versions_shown, tmp);
  std::string seal_tmp = fmt::format("{}seal-{}-{}", kTempPrefix, hex.substr(0, 16), ::getpid());
  if (env.MkdirAt(versions, tmp.c_str(), 0755) != 0) {
    return ErrnoStatus("create directory", tmp_shown, errno);
  }
  Status s = [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Fd root, OpenDirAt(versions, tmp, tmp_shown));
    const auto& comps = snapshot.components;
    std::vector<FileIdentity> ids(comps.size());
    CAIRN_RETURN_IF_ERROR(ParallelFor(comps.size(), DefaultThreads(), [&](size_t i) {
      return WriteComponent(source, env, root.get(), tmp_shown, comps[i], &ids[i]);
    }));
    // Files were fsynced as they were written (in parallel, and only ours: a syncfs
    // would wait for every other writer on the file system); now the directories.
    CAIRN_RETURN_IF_ERROR(SealDirs(env, versions, tmp, tmp_shown));
    CAIRN_CRASH_POINT("checkout.tree-written");
    CAIRN_ASSIGN_OR_RETURN(std::string seal, SealBytes(snapshot, ids));
    CAIRN_RETURN_IF_ERROR(
        WriteSealFile(env, versions, seal_tmp, Join(versions_shown, seal_tmp), seal));
    // A stale seal goes first: a crash below then leaves a version without one (rewritten
    // by the next checkout), never an old seal beside a new tree.
    if (::unlinkat(versions, SealName(hex).c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoStatus("remove", Join(versions_shown, SealName(hex)), errno);
    }
    if (replace) {
      if (::renameat2(versions, tmp.c_str(), versions, hex.c_str(), RENAME_EXCHANGE) != 0) {
        if (errno != EINVAL && errno != ENOSYS) {
          return ErrnoStatus("replace", Join(versions_shown, hex), errno);
        }
        // A file system without RENAME_EXCHANGE: move the old tree aside, then the new one
        // in (`current` dangles between the two renames).
        std::string aside = fmt::format("{}old-{}-{}", kTempPrefix, hex.substr(0, 16), ::getpid());
        if (env.RenameAt(versions, hex.c_str(), versions, aside.c_str()) != 0) {
          return ErrnoStatus("move aside", Join(versions_shown, hex), errno);
        }
        if (env.RenameAt(versions, tmp.c_str(), versions, hex.c_str()) != 0) {
          return ErrnoStatus("rename into place", Join(versions_shown, hex), errno);
        }
        tmp = aside;
        tmp_shown = Join(versions_shown, aside);
      }
      CAIRN_RETURN_IF_ERROR(FsyncFd(env, versions, versions_shown));
      CAIRN_RETURN_IF_ERROR(RemoveTreeAt(versions, tmp, tmp_shown));  // the old tree now
    } else if (env.RenameAt(versions, tmp.c_str(), versions, hex.c_str()) != 0) {
      return ErrnoStatus("rename into place", Join(versions_shown, hex), errno);
    }
    CAIRN_CRASH_POINT("checkout.version-in-place");
    if (env.RenameAt(versions, seal_tmp.c_str(), versions, SealName(hex).c_str()) != 0) {
      return ErrnoStatus("rename into place", Join(versions_shown, SealName(hex)), errno);
    }
    return FsyncFd(env, versions, versions_shown);
  }();
  if (!s.ok()) {
    // Best effort: the next checkout removes any .tmp-* left behind.
    (void)RemoveTreeAt(versions, tmp, tmp_shown);
    (void)::unlinkat(versions, seal_tmp.c_str(), 0);
  }
  return s;
}

struct Version {
  std::string name;
  struct timespec mtime;
};

// The version directories in DIR/.versions (symlinks and other entries are not versions).
Result<std::vector<Version>> ListVersions(int versions, const std::string& versions_shown) {
  CAIRN_ASSIGN_OR_RETURN(auto names, ListDir(versions, versions_shown));
  std::vector<Version> found;
  for (const auto& n : names) {
    if (!IsVersionName(n)) continue;
    struct stat st {};
    if (::fstatat(versions, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) found.push_back({n, st.st_mtim});
  }
  return found;
}

bool Later(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec != b.tv_sec ? a.tv_sec > b.tv_sec : a.tv_nsec > b.tv_nsec;
}

// Marks a version as the newest: its mtime orders versions for `keep`. The time is set
// explicitly past every other version's, since the kernel's own timestamps are coarse
// (two checkouts within a few milliseconds would tie).
Status Touch(int versions, const std::string& versions_shown, const std::string& hex) {
  CAIRN_ASSIGN_OR_RETURN(auto found, ListVersions(versions, versions_shown));
  struct timespec t {};
  ::clock_gettime(CLOCK_REALTIME, &t);
  for (const auto& v : found) {
    if (v.name == hex || Later(t, v.mtime)) continue;
    t = v.mtime;
    if (++t.tv_nsec == 1000000000) {
      t.tv_nsec = 0;
      ++t.tv_sec;
    }
  }
  struct timespec times[2] = {t, t};
  if (::utimensat(versions, hex.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus("touch", Join(versions_shown, hex), errno);
  }
  return Status::OK();
}

// Points DIR/current at .versions/<hex> with one rename(2) of a fresh symlink.
Status SwitchCurrent(Env& env, int dir, const std::string& dir_shown, const std::string& hex) {
  std::string target = fmt::format("{}/{}", kVersionsDir, hex);
  if (env.SymlinkAt(target.c_str(), dir, kNewLink) != 0) {
    return ErrnoStatus("create symlink", Join(dir_shown, kNewLink), errno);
  }
  if (env.RenameAt(dir, kNewLink, dir, kCurrentLink) != 0) {
    int err = errno;
    (void)::unlinkat(dir, kNewLink, 0);
    return ErrnoStatus("replace", Join(dir_shown, kCurrentLink), err);
  }
  CAIRN_RETURN_IF_ERROR(FsyncFd(env, dir, dir_shown));
  CAIRN_CRASH_POINT("checkout.current-switched");
  return Status::OK();
}

// Deletes versions beyond the newest `keep`, never `current_hex`. A version is first
// renamed to a temporary name, so an interrupted delete never leaves a partial tree under
// a version name (which a later checkout would trust as complete).
Result<std::vector<SnapshotId>> Prune(Env& env, int versions, const std::string& versions_shown,
                                      const std::string& current_hex, uint32_t keep) {
  CAIRN_ASSIGN_OR_RETURN(auto found, ListVersions(versions, versions_shown));
  std::sort(found.begin(), found.end(), [&](const Version& a, const Version& b) {
    if (a.name == current_hex) return b.name != current_hex;
    if (b.name == current_hex) return false;
    if (Later(a.mtime, b.mtime) || Later(b.mtime, a.mtime)) return Later(a.mtime, b.mtime);
    return a.name < b.name;
  });
  std::vector<SnapshotId> removed;
  for (size_t i = keep; i < found.size(); ++i) {
    const std::string& n = found[i].name;
    std::string doomed = fmt::format("{}del-{}-{}", kTempPrefix, n.substr(0, 16), ::getpid());
    if (env.RenameAt(versions, n.c_str(), versions, doomed.c_str()) != 0) {
      return ErrnoStatus("rename for removal", Join(versions_shown, n), errno);
    }
    CAIRN_RETURN_IF_ERROR(RemoveTreeAt(versions, doomed, Join(versions_shown, doomed)));
    if (::unlinkat(versions, SealName(n).c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoStatus("remove", Join(versions_shown, SealName(n)), errno);
    }
    auto id = SnapshotId::Parse(n);
    if (id.ok()) removed.push_back(*id);
  }
  if (!removed.empty()) CAIRN_RETURN_IF_ERROR(FsyncFd(env, versions, versions_shown));
  return removed;
}

// The store's objects, each piece verified by StreamObject.
class StoreObjectSource : public ObjectSource {
 public:
  explicit StoreObjectSource(const Store& store) : store_(store) {}
  Status Stream(const Digest& digest,
                const std::function<Status(std::string_view)>& sink) const override {
    return StreamObject(store_, digest, sink);
  }

 private:
  const Store& store_;
};

Result<CheckoutResult> CheckoutWith(const Snapshot& snapshot, const ObjectSource& source, Env& env,
                                    const std::string& dir, const CheckoutOptions& options) {
  if (options.keep < 1) return Status::Usage("--keep must be at least 1");
  if (dir.empty()) return Status::Usage("the checkout directory must not be empty");
  const SnapshotId& id = snapshot.id;
  Fd dir_fd, versions_fd;
  CAIRN_RETURN_IF_ERROR(OpenCheckoutDir(env, dir, &dir_fd, &versions_fd));
  std::string versions_shown = Join(dir, kVersionsDir);
  CAIRN_ASSIGN_OR_RETURN(auto lock,
                         CheckoutLock::Take(env, versions_fd.get(), Join(versions_shown, kLockFile),
                                            options.lock_timeout));
  CAIRN_RETURN_IF_ERROR(RemoveLeftovers(dir_fd.get(), dir, versions_fd.get(), versions_shown));
  CAIRN_ASSIGN_OR_RETURN(CurrentState current, ReadCurrent(dir_fd.get(), dir));

  CheckoutResult result;
  result.id = id;
  result.previous = current.id;
  std::string hex = id.Hex();
  result.version_path = Join(versions_shown, hex);
  for (const auto& c : snapshot.components) result.bytes += c.size;
  result.files = snapshot.components.size();

  struct stat st {};
  if (::fstatat(versions_fd.get(), hex.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return Status::Conflict(fmt::format(
          "{} is not a directory cairn created (a symlink or a file); remove it and retry",
          result.version_path));
    }
    // Reused only if it is exactly what cairn wrote; otherwise written again, in place.
    Status verified = VerifyVersion(versions_fd.get(), snapshot, hex, options.verify);
    if (!verified.ok()) {
      result.rewrite_reason = verified.message();
      CAIRN_RETURN_IF_ERROR(
          WriteVersion(source, env, snapshot, versions_fd.get(), versions_shown, /*replace=*/true));
      result.written = true;
    }
  } else if (errno == ENOENT) {
    CAIRN_RETURN_IF_ERROR(
        WriteVersion(source, env, snapshot, versions_fd.get(), versions_shown, /*replace=*/false));
    result.written = true;
  } else {
    return ErrnoStatus("stat", result.version_path, errno);
  }
  CAIRN_RETURN_IF_ERROR(Touch(versions_fd.get(), versions_shown, hex));

  if (!current.exists || current.id != id) {
    CAIRN_RETURN_IF_ERROR(SwitchCurrent(env, dir_fd.get(), dir, hex));
    result.switched = true;
  }
  CAIRN_ASSIGN_OR_RETURN(result.removed,
                         Prune(env, versions_fd.get(), versions_shown, hex, options.keep));
  return result;
}

}  // namespace

Result<CheckoutResult> Checkout(const Store& store, const SnapshotId& id, const std::string& dir,
                                const CheckoutOptions& options) {
  if (options.keep < 1) return Status::Usage("--keep must be at least 1");
  if (dir.empty()) return Status::Usage("the checkout directory must not be empty");
  CAIRN_ASSIGN_OR_RETURN(Snapshot snapshot, LoadSnapshot(store, id));
  return CheckoutWith(snapshot, StoreObjectSource(store), store.env(), dir, options);
}

Result<CheckoutResult> CheckoutFromSource(const Snapshot& snapshot, const ObjectSource& source,
                                          const std::string& dir, const CheckoutOptions& options) {
  return CheckoutWith(snapshot, source, Env::Default(), dir, options);
}

Result<std::optional<SnapshotId>> CurrentCheckout(const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() < 0) return ErrnoStatus("open directory", dir, errno);
  CAIRN_ASSIGN_OR_RETURN(CurrentState current, ReadCurrent(d.get(), dir));
  return current.id;
}

namespace {

// Sleeps `total`, waking every 50 ms to ask `stop`; true when stopped.
bool SleepUnlessStopped(std::chrono::milliseconds total, const std::function<bool()>& stop) {
  auto end = std::chrono::steady_clock::now() + total;
  while (true) {
    if (stop && stop()) return true;
    auto now = std::chrono::steady_clock::now();
    if (now >= end) return false;
    auto slice =
        std::min<std::chrono::steady_clock::duration>(end - now, std::chrono::milliseconds(50));
    std::this_thread::sleep_for(slice);
  }
}

// One look: what is live, and a checkout if DIR is not at it.
Status FollowOnce(const std::string& store_path, const DeploymentName& deployment,
                  const std::string& dir, const FollowOptions& options) {
  StoreOpenOptions open;
  open.read_only = true;
  CAIRN_ASSIGN_OR_RETURN(auto store, Store::Open(store_path, open));
  CAIRN_ASSIGN_OR_RETURN(Deployment d, GetDeployment(*store, deployment));
  auto current = CurrentCheckout(dir);
  if (current.ok() && *current == d.live) return Status::OK();
  CAIRN_ASSIGN_OR_RETURN(CheckoutResult result, Checkout(*store, d.live, dir, options.checkout));
  if (options.on_switch) options.on_switch(result);
  return Status::OK();
}

}  // namespace

Status FollowDeployment(const std::string& store_path, const DeploymentName& deployment,
                        const std::string& dir, const FollowOptions& options) {
  auto refresh = [&] {
    if (!options.refresh) return;
    Status s = options.refresh();
    if (!s.ok() && options.on_error) options.on_error(s);
  };
  refresh();
  {
    StoreOpenOptions open;
    open.read_only = true;
    CAIRN_ASSIGN_OR_RETURN(auto store, Store::Open(store_path, open));
    CAIRN_RETURN_IF_ERROR(GetDeployment(*store, deployment).status());
  }
  bool first = true;
  while (true) {
    if (!first) refresh();
    first = false;
    Status s = FollowOnce(store_path, deployment, dir, options);
    if (!s.ok() && options.on_error) options.on_error(s);
    if (SleepUnlessStopped(options.interval, options.stop)) return Status::OK();
  }
}

}  // namespace cairn
