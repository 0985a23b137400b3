#include "port/rocks.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/transaction_log.h>
#include <rocksdb/write_batch.h>

#include <thread>

namespace cairn {
namespace {

constexpr const char* kCfNames[] = {"default",    "objects",       "snapshots",    "snapshot_log",
                                    "stat_cache", "content_index", "object_meta",  "deployments",
                                    "events",     "event_time",    "live_history", "signatures",
                                    "trust",      "attestations",  "policy"};
static_assert(std::size(kCfNames) == static_cast<size_t>(Cf::kCount));

Status FromRocks(const rocksdb::Status& s, std::string_view op) {
  if (s.ok()) return Status::OK();
  std::string msg = fmt::format("RocksDB {} failed: {}", op, s.ToString());
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsBusy() || s.IsTimedOut()) return Status::Busy(msg);
  return Status::IO(msg);
}

// A held LOCK file is reported by RocksDB as an IOError mentioning the lock.
bool IsLockHeld(const rocksdb::Status& s) {
  std::string text = s.ToString();
  return s.IsIOError() && (text.find("lock") != std::string::npos ||
                           text.find("Resource temporarily unavailable") != std::string::npos);
}

rocksdb::ColumnFamilyOptions OptionsFor(std::string_view name) {
  rocksdb::ColumnFamilyOptions o;
  o.compression = rocksdb::kZSTD;
  if (name == "objects") {
    // Object values arrive already compressed by cairn (zstd) and keys are digests:
    // RocksDB compression would only burn CPU. Values above 4 KiB live in blob files so
    // compaction moves small keys, never rewrites large values.
    o.compression = rocksdb::kNoCompression;
    o.enable_blob_files = true;
    o.min_blob_size = 4096;
    o.blob_file_size = 256ull << 20;
    o.blob_compression_type = rocksdb::kNoCompression;
    o.enable_blob_garbage_collection = true;
    o.write_buffer_size = 64ull << 20;
    o.max_write_buffer_number = 3;
  } else {
    o.write_buffer_size = 16ull << 20;
  }
  return o;
}

rocksdb::DBOptions BaseOptions() {
  rocksdb::DBOptions o;
  o.paranoid_checks = true;
  o.max_background_jobs = 2;
  o.keep_log_file_num = 2;
  o.info_log_level = rocksdb::WARN_LEVEL;
  o.max_manifest_file_size = 16ull << 20;
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Objects are written without the WAL; an object's record and its meta entry must
  // become durable together, whichever memtable fills first.
  o.atomic_flush = true;
  // Open table files on the calling thread: spawning openers costs more than it saves for
  // a short-lived command on a small machine.
  o.max_file_opening_threads = 1;
  o.skip_stats_update_on_db_open = true;
  // Replaying the log into memtables is enough; writing them out as tiny L0 files at
  // every open would make each command pay for the previous one.
  o.avoid_flush_during_recovery = true;
  // ...but readers replay the log at every open, so keep it short: compressed (manifests
  // are text), and moved into table files by Checkpoint() once it grows.
  o.wal_compression = rocksdb::kZSTD;
  // No preallocation: each writer's open starts a new log and MANIFEST, and fallocating
  // them (64 MiB for the log) only to ftruncate the unused space at close cost more than a
  // whole promote's own work (the trims are synchronous metadata updates).
  o.allow_fallocate = false;
  // A finite table cache makes table files open lazily, when a read needs them (RocksDB
  // preloads at most a quarter of the capacity): with -1 every open loaded all of them, so
  // a one-lookup command paid for the size of the whole store.
  o.max_open_files = 64;
  // Table file sizes are checked by fsck and by every read; not stat()ed at each open.
  o.skip_checking_sst_file_sizes_on_db_open = true;
  return o;
}

}  // namespace

const char* CfName(Cf cf) { return kCfNames[static_cast<size_t>(cf)]; }

// ---- Batch ----
Batch::Batch(const Db& db) : db_(&db), batch_(std::make_unique<rocksdb::WriteBatch>()) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;
size_t Batch::ByteSize() const { return batch_->GetDataSize(); }
size_t Batch::Count() const { return static_cast<size_t>(batch_->Count()); }
void Batch::Clear() { batch_->Clear(); }

// WriteBatch only fails to record an operation when it exceeds its size limit, which
// cairn's batches never set.
void Batch::Put(Cf cf, std::string_view key, std::string_view value) {
  batch_
      ->Put(db_->Handle(cf), rocksdb::Slice(key.data(), key.size()),
            rocksdb::Slice(value.data(), value.size()))
      .PermitUncheckedError();
}

void Batch::Delete(Cf cf, std::string_view key) {
  batch_->Delete(db_->Handle(cf), rocksdb::Slice(key.data(), key.size())).PermitUncheckedError();
}

namespace {
// Replays a batch's operations into another batch of the same database.
class Replayer : public rocksdb::WriteBatch::Handler {
 public:
  Replayer(rocksdb::WriteBatch* out, const std::vector<rocksdb::ColumnFamilyHandle*>& handles)
      : out_(out), handles_(handles) {}
  rocksdb::Status PutCF(uint32_t id, const rocksdb::Slice& k, const rocksdb::Slice& v) override {
    auto* h = Find(id);
    return h ? out_->Put(h, k, v) : rocksdb::Status::InvalidArgument("unknown column family");
  }
  rocksdb::Status DeleteCF(uint32_t id, const rocksdb::Slice& k) override {
    auto* h = Find(id);
    return h ? out_->Delete(h, k) : rocksdb::Status::InvalidArgument("unknown column family");
  }

 private:
  rocksdb::ColumnFamilyHandle* Find(uint32_t id) const {
    for (auto* h : handles_) {
      if (h != nullptr && h->GetID() == id) return h;
    }
    return nullptr;
  }
  rocksdb::WriteBatch* out_;
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles_;
};
}  // namespace

Status Batch::Append(const Batch& other) {
  if (other.db_ != db_) return Status::Internal("appending a batch of another database");
  Replayer replay(batch_.get(), db_->all_handles_);
  return FromRocks(other.batch_->Iterate(&replay), "batch append");
}

// ---- Cursor ----
Cursor::Cursor(std::unique_ptr<rocksdb::Iterator> it) : it_(std::move(it)) {}
Cursor::~Cursor() = default;
void Cursor::SeekToFirst() { it_->SeekToFirst(); }
void Cursor::SeekToLast() { it_->SeekToLast(); }
void Cursor::Seek(std::string_view key) { it_->Seek(rocksdb::Slice(key.data(), key.size())); }
bool Cursor::Valid() const { return it_->Valid(); }
void Cursor::Next() { it_->Next(); }
void Cursor::Prev() { it_->Prev(); }
std::string_view Cursor::key() const {
  rocksdb::Slice k = it_->key();
  return {k.data(), k.size()};
}
std::string_view Cursor::value() const {
  rocksdb::Slice v = it_->value();
  return {v.data(), v.size()};
}
Status Cursor::status() const { return FromRocks(it_->status(), "iterate"); }

// ---- Db ----
namespace {
bool IsManifestReplaced(const rocksdb::Status& s) {
  std::string text = s.ToString();
  return (s.IsIOError() || s.IsNotFound() || s.IsPathNotFound()) &&
         text.find("MANIFEST") != std::string::npos;
}

// Every family that exists (a newer cairn may have added some) plus ours; a read-only open
// cannot create families, so it gets only those that exist.
rocksdb::Status FamiliesToOpen(const rocksdb::DBOptions& db_options, const std::string& path,
                               const DbOpenOptions& options, std::vector<std::string>* names) {
  names->assign(std::begin(kCfNames), std::end(kCfNames));
  if (options.create) return rocksdb::Status::OK();
  std::vector<std::string> existing;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, path, &existing);
  if (!s.ok()) return s;
  for (const auto& name : existing) {
    if (std::find(names->begin(), names->end(), name) == names->end()) names->push_back(name);
  }
  if (options.read_only) {
    std::vector<std::string> present;
    for (const auto& name : *names) {
      if (std::find(existing.begin(), existing.end(), name) != existing.end()) {
        present.push_back(name);
      }
    }
    *names = present;
  }
  return rocksdb::Status::OK();
}
}  // namespace

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, const DbOpenOptions& options) {
  rocksdb::DBOptions db_options = BaseOptions();
  db_options.create_if_missing = options.create;
  db_options.error_if_exists = options.create;
  db_options.create_missing_column_families = !options.read_only;

  auto db = std::unique_ptr<Db>(new Db());
  db->read_only_ = options.read_only;
  rocksdb::DB* raw = nullptr;
  std::vector<std::string> names;
  auto deadline = std::chrono::steady_clock::now() + options.lock_timeout;
  bool announced = false;
  for (int attempt = 1;; ++attempt) {
    rocksdb::Status s = FamiliesToOpen(db_options, path, options, &names);
    if (s.ok()) {
      std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
      for (const auto& name : names) descriptors.emplace_back(name, OptionsFor(name));
      s = options.read_only
              ? rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &db->all_handles_, &raw)
              : rocksdb::DB::Open(db_options, path, descriptors, &db->all_handles_, &raw);
    }
    if (s.ok()) break;
    // Every writer's open replaces the MANIFEST and deletes the old one; a reader (or a
    // writer listing the families before it takes the lock) that read CURRENT just before
    // then finds its MANIFEST gone. Reading CURRENT again finds the new one.
    if (IsManifestReplaced(s) && attempt < 100) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    if (options.read_only || !IsLockHeld(s)) return FromRocks(s, fmt::format("open of {}", path));
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Busy(fmt::format(
          "another cairn process is writing to the store at {} and did not finish within {} ms "
          "(raise --lock-timeout to wait longer)",
          path, options.lock_timeout.count()));
    }
    if (!announced && options.on_wait) {
      options.on_wait(
          fmt::format("waiting for another cairn process to release the store lock "
                      "(up to {} ms)",
                      options.lock_timeout.count()));
      announced = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  db->db_.reset(raw);
  db->sync_writes_ = options.sync_writes;
  db->handles_.assign(static_cast<size_t>(Cf::kCount), nullptr);
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t c = 0; c < static_cast<size_t>(Cf::kCount); ++c) {
      if (names[i] == kCfNames[c]) db->handles_[c] = db->all_handles_[i];
    }
  }
  return db;
}

Db::~Db() { Close().PermitUnchecked(); }

namespace {
// True while any family has a flush or compaction pending or running.
bool BackgroundWorkPending(rocksdb::DB& db,
                           const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  uint64_t v = 0;
  for (const char* p : {"rocksdb.num-running-compactions", "rocksdb.num-running-flushes"}) {
    if (db.GetIntProperty(p, &v) && v > 0) return true;
  }
  for (auto* h : handles) {
    for (const char* p : {"rocksdb.compaction-pending", "rocksdb.mem-table-flush-pending"}) {
      if (db.GetIntProperty(h, p, &v) && v > 0) return true;
    }
  }
  return false;
}
}  // namespace

// After a bulk load nothing is in a synced log: the flush writes every memtable to table
// files and syncs them and the MANIFEST before the database closes. Waiting for compaction
// leaves the next opener a settled database instead of work its own close would wait for.
Status Db::Close() {
  if (!db_) return Status::OK();
  Status status;
  if (!sync_writes_ && !read_only_) {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    status = FromRocks(db_->Flush(fo, all_handles_), "flush at the end of a bulk load");
    while (status.ok() && BackgroundWorkPending(*db_, all_handles_)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  for (auto* h : all_handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  all_handles_.clear();
  handles_.clear();
  Status closed = FromRocks(db_->Close(), "close");
  db_.reset();
  return status.ok() ? closed : status;
}

rocksdb::ColumnFamilyHandle* Db::Handle(Cf cf) const { return handles_[static_cast<size_t>(cf)]; }

Result<std::optional<std::string>> Db::Get(Cf cf, std::string_view key) const {
  auto* h = Handle(cf);
  if (h == nullptr) return std::optional<std::string>();  // family not created yet: empty
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), h, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, fmt::format("read from {}", CfName(cf)));
  return std::optional<std::string>(std::move(value));
}

Result<bool> Db::Contains(Cf cf, std::string_view key) const {
  auto* h = Handle(cf);
  if (h == nullptr) return false;
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), h, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return FromRocks(s, fmt::format("read from {}", CfName(cf)));
  return true;
}

Status Db::Write(Batch& batch, bool sync, bool no_wal) {
  if (read_only_) return Status::Internal("write to a store opened read-only");
  if (batch.db_ != this) return Status::Internal("batch written to a database it was not made for");
  rocksdb::WriteOptions wo;
  wo.sync = sync && sync_writes_;
  wo.disableWAL = no_wal;
  return FromRocks(db_->Write(wo, batch.batch_.get()), "write");
}

Status Db::Flush(std::initializer_list<Cf> cfs) {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  for (Cf cf : cfs) handles.push_back(Handle(cf));
  return FromRocks(db_->Flush(fo, handles), "flush");
}

Status Db::Checkpoint(uint64_t max_wal_bytes, size_t max_wal_files) {
  if (!sync_writes_) return Status::OK();  // a bulk load flushes once, when it closes
  rocksdb::VectorLogPtr wals;
  CAIRN_RETURN_IF_ERROR(FromRocks(db_->GetSortedWalFiles(wals), "list of log files"));
  uint64_t total = 0;
  for (const auto& w : wals) total += w->SizeFileBytes();
  if (total <= max_wal_bytes && wals.size() <= max_wal_files) return Status::OK();
  rocksdb::FlushOptions fo;
  fo.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  for (auto* h : handles_) {
    if (h != nullptr) handles.push_back(h);
  }
  return FromRocks(db_->Flush(fo, handles), "checkpoint flush");
}

Cursor Db::NewCursor(Cf cf) const {
  if (Handle(cf) == nullptr) {
    return Cursor(std::unique_ptr<rocksdb::Iterator>(rocksdb::NewEmptyIterator()));
  }
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  return Cursor(std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(ro, Handle(cf))));
}

}  // namespace cairn
