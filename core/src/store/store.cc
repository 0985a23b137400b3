#include "cairn/store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <vector>

#include "port/rocks.h"
#include "store/ack_record.h"
#include "store/migrate.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "util/fs_util.h"

namespace cairn {

namespace fs = std::filesystem;

struct Store::Rep {
  std::string path;
  std::unique_ptr<Db> db;
  bool read_only = true;
  const Clock* clock = nullptr;
  Env* env = nullptr;
};

Store::Store(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Store::~Store() = default;
Status Store::Close() { return rep_->db->Close(); }
const std::string& Store::path() const { return rep_->path; }
bool Store::read_only() const { return rep_->read_only; }
int Store::format_version() const { return rep_->db->schema().version(); }
const Clock& Store::clock() const { return *rep_->clock; }
Env& Store::env() const { return *rep_->env; }
Db& StoreInternal::db(const Store& store) { return *store.rep_->db; }

namespace {
std::string DbPath(const std::string& store, const Schema& schema) {
  return store + "/" + schema.db_dir();
}

bool HasDb(const fs::path& dir, const Schema& schema) {
  std::error_code ec;
  return fs::is_regular_file(dir / schema.db_dir() / "CURRENT", ec);
}

// The format of the store in `dir`: its newest database (during the instant an upgrade
// switches, both exist and the new one is the store). nullptr: not a store.
const Schema* StoreSchema(const fs::path& dir) {
  if (HasDb(dir, Schema::Format2())) return &Schema::Format2();
  if (HasDb(dir, Schema::Format1())) return &Schema::Format1();
  return nullptr;
}

bool LooksLikeStore(const fs::path& dir) { return StoreSchema(dir) != nullptr; }

Status CheckFormatVersion(const Db& db, const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(auto value, db.Get(Table::kMeta, keys::kFormatVersion));
  if (!value) {
    return Status::Corruption(fmt::format("{} has no format version: not a cairn store", path));
  }
  int version = 0;
  try {
    version = std::stoi(*value);
  } catch (const std::exception&) {
    return Status::Corruption(fmt::format("{}: format version '{}' is not a number", path, *value));
  }
  if (version > kStoreFormatVersion) {
    return Status::Usage(fmt::format(
        "{} uses store format {}, newer than this cairn understands ({}): upgrade cairn", path,
        version, kStoreFormatVersion));
  }
  if (version != db.schema().version()) {
    return Status::Corruption(fmt::format("{}: database {} holds format version {}", path,
                                          db.schema().db_dir(), version));
  }
  return Status::OK();
}
}  // namespace

// Durability: the store is built in a sibling temporary directory, fsynced, and renamed
// into place, so a crash leaves either no store at `path` or a complete one.
Result<std::unique_ptr<Store>> Store::Init(const std::string& path, Env* env_or_null) {
  Env& env = env_or_null != nullptr ? *env_or_null : Env::Default();
  std::error_code ec;
  if (fs::exists(fs::symlink_status(path, ec))) {
    if (LooksLikeStore(path)) {
      return Status::Conflict(fmt::format("a cairn store already exists at {}", path));
    }
    if (!fs::is_directory(fs::symlink_status(path, ec)) || !fs::is_empty(path, ec)) {
      return Status::Conflict(fmt::format("{} already exists and is not an empty directory", path));
    }
    fs::remove(path, ec);  // an empty directory: replaced by the rename below
  }
  std::string parent = ParentDir(path);
  fs::create_directories(parent, ec);
  if (ec) return Status::IO(fmt::format("create directory {}: {}", parent, ec.message()));
  std::string tmp = fmt::format("{}/.cairn-init-{}", parent, ::getpid());
  RemoveTreeQuietly(tmp);
  auto cleanup_on_error = [&](Status s) {
    RemoveTreeQuietly(tmp);
    return s;
  };
  CAIRN_RETURN_IF_ERROR(MakeDir(env, tmp, false));
  // The hook stage directories (hooks.h), made empty so users see where hooks go.
  static constexpr const char* kHookDirs[] = {"/hooks/pre-promote.d", "/hooks/pre-rollback.d",
                                              "/hooks/post-promote.d", "/hooks/post-rollback.d"};
  Status made = MakeDir(env, tmp + "/hooks", false);
  if (!made.ok()) return cleanup_on_error(made);
  for (const char* sub : kHookDirs) {
    Status s = MakeDir(env, tmp + sub, false);
    if (!s.ok()) return cleanup_on_error(s);
  }
  {
    DbOpenOptions o;
    o.read_only = false;
    o.create = true;
    o.env = &env;
    auto db = Db::Open(DbPath(tmp, Schema::Format2()), Schema::Format2(), o);
    if (!db.ok()) return cleanup_on_error(db.status());
    Batch batch(**db);
    batch.Put(Table::kMeta, keys::kFormatVersion, std::to_string(kStoreFormatVersion));
    Status s = (*db)->Write(batch, /*sync=*/true);
    if (!s.ok()) return cleanup_on_error(s);
  }
  const std::string db_dir = std::string("/") + Schema::Format2().db_dir();
  std::vector<std::string> synced(std::begin(kHookDirs), std::end(kHookDirs));
  synced.insert(synced.end(), {"/hooks", db_dir, ""});
  for (const std::string& sub : synced) {
    Status s = FsyncDir(env, tmp + sub);
    if (!s.ok()) return cleanup_on_error(s);
  }
  if (env.RenameAt(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str()) != 0) {
    return cleanup_on_error(ErrnoStatus("rename into place", path, errno));
  }
  CAIRN_RETURN_IF_ERROR(FsyncDir(env, parent));
  StoreOpenOptions open;
  open.read_only = false;
  open.env = &env;
  return Open(path, open);
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                           const StoreOpenOptions& options) {
  Env& env = options.env != nullptr ? *options.env : Env::Default();
  const Schema* schema = StoreSchema(path);
  if (schema == nullptr) {
    return Status::NotFound(
        fmt::format("no cairn store at {} (create one with 'cairn init')", path));
  }
  if (schema->version() == 1 && !options.read_only) {
    auto upgrade = UpgradeFormat1Store(path, options.lock_timeout, env);
    if (!upgrade.ok()) return upgrade.status();
    if (upgrade->upgraded && options.on_upgrade) {
      options.on_upgrade(fmt::format(
          "upgraded the store at {} from format 1 to format {} ({} records copied and checked); "
          "the format-1 database is kept in {} and can be removed",
          path, kStoreFormatVersion, upgrade->records, upgrade->kept));
    }
    schema = &Schema::Format2();
  }
  DbOpenOptions o;
  o.read_only = options.read_only;
  o.lock_timeout = options.lock_timeout;
  o.on_wait = options.on_wait;
  o.sync_writes = options.sync_each_write;
  o.env = &env;
  CAIRN_ASSIGN_OR_RETURN(auto db, Db::Open(DbPath(path, *schema), *schema, o));
  CAIRN_RETURN_IF_ERROR(CheckFormatVersion(*db, path));
  if (!options.read_only) {
    // An upgrade killed between its two renames left format 1 beside format 2.
    CAIRN_RETURN_IF_ERROR(RetireFormat1Leftover(path, env).status());
  }
  auto rep = std::make_unique<Rep>();
  rep->path = path;
  rep->db = std::move(db);
  rep->read_only = options.read_only;
  rep->clock = options.clock ? options.clock : &SystemClock();
  rep->env = &env;
  return std::unique_ptr<Store>(new Store(std::move(rep)));
}

Result<uint64_t> Store::WriteGeneration(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(auto record, ReadAckRecord(path + "/" + Schema::Format2().db_dir()));
  return record ? record->generation : 0;
}

Result<std::string> Store::Locate(const std::string& explicit_path, const char* env_value,
                                  const std::string& cwd) {
  if (!explicit_path.empty()) return explicit_path;
  if (env_value != nullptr && *env_value != '\0') return std::string(env_value);
  std::error_code ec;
  fs::path dir = fs::absolute(cwd, ec);
  if (ec) return Status::IO(fmt::format("cannot resolve working directory {}", cwd));
  for (;;) {
    if (LooksLikeStore(dir / kStoreDirName)) return (dir / kStoreDirName).string();
    if (!dir.has_parent_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  return Status::NotFound(fmt::format(
      "not in a cairn store (no {} in {} or any parent directory): run 'cairn init' to create "
      "one here, or point to one with --store DIR or CAIRN_STORE",
      kStoreDirName, cwd));
}

}  // namespace cairn
