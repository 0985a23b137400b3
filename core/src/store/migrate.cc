#include "store/migrate.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "cairn/digest.h"
#include "port/rocks.h"
#include "store/schema.h"
#include "store/table_copy.h"
#include "util/crash_point.h"
#include "util/fs_util.h"

namespace cairn {
namespace {

constexpr const char* kTmpPrefix = ".db2-tmp-";

bool IsFile(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// An fcntl write lock on db/LOCK: the lock a format-1 cairn's RocksDB takes to write, so
// while it is held no format-1 writer runs and no second upgrade starts. Released when
// the descriptor closes.
class Format1Lock {
 public:
  ~Format1Lock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::string& db_dir, std::chrono::milliseconds timeout) {
    std::string path = db_dir + "/LOCK";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return ErrnoStatus("open the lock file", path, errno);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      struct flock fl {};
      fl.l_type = F_WRLCK;
      fl.l_whence = SEEK_SET;
      if (::fcntl(fd_, F_SETLK, &fl) == 0) return Status::OK();
      if (errno != EACCES && errno != EAGAIN) return ErrnoStatus("lock", path, errno);
      if (std::chrono::steady_clock::now() >= deadline) {
        return Status::Busy(fmt::format(
            "another cairn process is writing to the format-1 store at {} and did not finish "
            "within {} ms (raise --lock-timeout to wait longer)",
            db_dir, timeout.count()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

 private:
  int fd_ = -1;
};

// Removes the half-built databases of upgrades that were killed. Only under the lock.
void RemoveStaleBuilds(const std::string& store_path) {
  DIR* dir = ::opendir(store_path.c_str());
  if (dir == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name.starts_with(kTmpPrefix)) stale.push_back(store_path + "/" + name);
  }
  ::closedir(dir);
  for (const auto& path : stale) RemoveTreeQuietly(path);
}

// Copies every table of `from` (format 1) into `to` (format 2, a bulk load), returning what
// was written per table; the format version is written as 2.
Result<std::vector<TableDigest>> CopyTables(const Db& from, Db& to) {
  std::vector<TableDigest> out;
  Batch batch(to);
  // Only the time inside an event_time key is encoded differently in format 2.
  auto rewrite = [](Table table) {
    return [table](std::string& key, std::string& value) {
      if (table == Table::kEventTime) key = Format2EventTimeKey(key);
      if (table == Table::kMeta && key == keys::kFormatVersion) {
        value = std::to_string(Schema::Format2().version());
      }
    };
  };
  for (size_t t = 0; t < static_cast<size_t>(Table::kCount); ++t) {
    Table table = static_cast<Table>(t);
    TableDigest td;
    std::string last;
    CAIRN_RETURN_IF_ERROR(CopyTable(from, table, to, batch, rewrite(table), &td, &last)
                              .WithContext(fmt::format("reading {}", TableName(table))));
    out.push_back(td);
  }
  CAIRN_RETURN_IF_ERROR(to.Write(batch, /*sync=*/false, /*no_wal=*/true));
  return out;
}

// Builds format 2 in `tmp` and checks it. The database is closed (flushed, fsynced) before
// this returns.
Result<uint64_t> BuildFormat2(const Db& from, const std::string& tmp, Env& env) {
  std::vector<TableDigest> written;
  {
    DbOpenOptions o;
    o.read_only = false;
    o.create = true;
    o.sync_writes = false;  // a bulk load: Close() flushes and syncs everything
    o.env = &env;
    CAIRN_ASSIGN_OR_RETURN(auto to, Db::Open(tmp, Schema::Format2(), o));
    CAIRN_ASSIGN_OR_RETURN(written, CopyTables(from, *to));
    CAIRN_RETURN_IF_ERROR(to->Close());
  }
  DbOpenOptions ro;
  ro.read_only = true;
  CAIRN_ASSIGN_OR_RETURN(auto check, Db::Open(tmp, Schema::Format2(), ro));
  CAIRN_RETURN_IF_ERROR(VerifyTables(*check, written, "the upgraded copy")
                            .WithContext("the store was left at format 1"));
  CAIRN_RETURN_IF_ERROR(check->Close());
  CAIRN_RETURN_IF_ERROR(FsyncDir(env, tmp));
  uint64_t records = 0;
  for (const auto& td : written) records += td.records;
  return records;
}

std::string FreeName(const std::string& base) {
  std::string name = base;
  for (int i = 2; ::access(name.c_str(), F_OK) == 0; ++i) name = fmt::format("{}.{}", base, i);
  return name;
}

}  // namespace

Result<std::string> RetireFormat1Leftover(const std::string& store_path, Env& env) {
  std::string db1 = store_path + "/" + Schema::Format1().db_dir();
  if (!IsFile(db1 + "/CURRENT")) return std::string();
  std::string kept = FreeName(store_path + "/db.format1");
  if (env.RenameAt(AT_FDCWD, db1.c_str(), AT_FDCWD, kept.c_str()) != 0) {
    return ErrnoStatus("rename the upgraded format-1 database", db1, errno);
  }
  CAIRN_RETURN_IF_ERROR(FsyncDir(env, store_path));
  return kept;
}

// Durability: format 2 is complete and fsynced under a temporary name before the one
// rename that makes it the store (then the parent directory is fsynced). Until that rename
// the format-1 database has not been written to at all; after it, only renamed.
Result<UpgradeReport> UpgradeFormat1Store(const std::string& store_path,
                                          std::chrono::milliseconds lock_timeout, Env& env) {
  UpgradeReport report;
  std::string db1 = store_path + "/" + Schema::Format1().db_dir();
  std::string db2 = store_path + "/" + Schema::Format2().db_dir();
  Format1Lock lock;
  CAIRN_RETURN_IF_ERROR(lock.Acquire(db1, lock_timeout));
  if (IsFile(db2 + "/CURRENT")) return report;  // another process upgraded it meanwhile
  RemoveStaleBuilds(store_path);

  DbOpenOptions ro;
  ro.read_only = true;
  CAIRN_ASSIGN_OR_RETURN(auto from, Db::Open(db1, Schema::Format1(), ro));
  CAIRN_ASSIGN_OR_RETURN(auto version, from->Get(Table::kMeta, keys::kFormatVersion));
  if (!version || *version != "1") {
    return Status::Corruption(fmt::format("{}: expected format version 1 in the database, found {}",
                                          db1, version ? *version : "none"));
  }
  std::string tmp = fmt::format("{}/{}{}", store_path, kTmpPrefix, ::getpid());
  auto records = BuildFormat2(*from, tmp, env);
  from->Close().PermitUnchecked();  // read-only: nothing to lose
  if (!records.ok()) {
    RemoveTreeQuietly(tmp);
    return records.status().WithContext("upgrading the store to format 2");
  }
  CAIRN_CRASH_POINT("migrate.copied");
  if (env.RenameAt(AT_FDCWD, tmp.c_str(), AT_FDCWD, db2.c_str()) != 0) {
    int err = errno;
    RemoveTreeQuietly(tmp);
    return ErrnoStatus("rename the upgraded database into place", db2, err);
  }
  CAIRN_RETURN_IF_ERROR(FsyncDir(env, store_path));
  CAIRN_CRASH_POINT("migrate.switched");
  report.upgraded = true;
  report.records = *records;
  CAIRN_ASSIGN_OR_RETURN(report.kept, RetireFormat1Leftover(store_path, env));
  return report;
}

}  // namespace cairn
