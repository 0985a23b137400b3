#include "port/rocks.h"

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_checksum.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table.h>
#include <rocksdb/transaction_log.h>
#include <rocksdb/utilities/write_batch_with_index.h>
#include <rocksdb/write_batch.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "util/crash_point.h"

namespace cairn {
namespace {

Status FromRocks(const rocksdb::Status& s, std::string_view op) {
  if (s.ok()) return Status::OK();
  std::string msg = fmt::format("RocksDB {} failed: {}", op, s.ToString());
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsBusy() || s.IsTimedOut()) return Status::Busy(msg);
  return Status::IO(msg);
}

// A LOCK file held by another process is reported by RocksDB's fcntl failure ("While lock
// file: …: Resource temporarily unavailable"), or by this process holding it already. Any
// other error about the lock — it cannot be opened on a read-only or full file system — is
// not a reason to wait.
bool IsLockHeld(const rocksdb::Status& s) {
  std::string text = s.ToString();
  return s.IsIOError() && (text.find("While lock file") != std::string::npos ||
                           text.find("lock hold by current process") != std::string::npos);
}

// One block cache for every family of every database the process opens, in two shards of
// 32 MiB. RocksDB's default (8 MiB in 16 shards) cannot keep a block larger than its
// 512 KiB shard: a snapshot's manifest (1.9 MB for 10,000 files) shares a data block with
// the keys sorted just before it, and every lookup of one of those keys decompressed the
// whole block again (70 MB of decompression in one `snapshot create`). Memory is taken
// only as blocks are read.
std::shared_ptr<rocksdb::Cache> BlockCache() {
  static const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(64ull << 20, 1);
  return cache;
}

// Table files: a two-level (partitioned) index and partitioned Bloom filters, loaded on
// demand. A one-key read of a short-lived command then reads a small top-level index and
// one partition, not a whole index block that grows with the table (600 KB for a 67 MB
// file of a 10^6-event history): reads stay flat in history size.
std::shared_ptr<rocksdb::TableFactory> TableFactory() {
  rocksdb::BlockBasedTableOptions t;
  t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  t.partition_filters = true;
  t.metadata_block_size = 4096;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.cache_index_and_filter_blocks = true;
  t.pin_top_level_index_and_filter = true;
  t.block_cache = BlockCache();
  return std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(t));
}

rocksdb::ColumnFamilyOptions OptionsFor(std::string_view name) {
  rocksdb::ColumnFamilyOptions o;
  o.compression = rocksdb::kZSTD;
  o.table_factory = TableFactory();
  if (name == "objects") {
    // Object values arrive already compressed by cairn (zstd) and keys are digests:
    // RocksDB compression would only burn CPU. Values above 4 KiB live in blob files so
    // compaction moves small keys, never rewrites large values. No automatic blob garbage
    // collection: objects become garbage only through `cairn gc`, which forces it
    // (Db::Compact); automatic collection relocated the oldest blob files — 65 MB read,
    // checked and rewritten — at ordinary compactions, where there was nothing to reclaim.
    o.compression = rocksdb::kNoCompression;
    o.enable_blob_files = true;
    o.min_blob_size = 4096;
    o.blob_file_size = 256ull << 20;
    o.blob_compression_type = rocksdb::kNoCompression;
    o.enable_blob_garbage_collection = false;
    o.write_buffer_size = 64ull << 20;
    o.max_write_buffer_number = 3;
  } else {
    o.write_buffer_size = 16ull << 20;
  }
  return o;
}

class NullLogger : public rocksdb::Logger {
 public:
  NullLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::HEADER_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

// RocksDB writes an OPTIONS file at every read-write open, fsyncs it, then re-reads and
// re-parses it to verify (about a quarter of a promote's time). cairn never reads it: the
// options live in this file. This file system refuses to create the temporary OPTIONS
// file, which RocksDB then skips (fail_if_options_file_error is false). `init` keeps the
// default file system, so every store has the OPTIONS file of its creation for tools.
class NoOptionsFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit NoOptionsFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base)
      : rocksdb::FileSystemWrapper(base) {}
  const char* Name() const override { return "CairnNoOptionsFile"; }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    std::string_view base = std::string_view(name).substr(name.rfind('/') + 1);
    if (base.starts_with("OPTIONS-") && base.ends_with(".dbtmp")) {
      return rocksdb::IOStatus::NotSupported("cairn keeps its RocksDB options in code");
    }
    return target()->NewWritableFile(name, options, result, dbg);
  }
};

// Process-wide, like RocksDB's own default Env: it must outlive every open database.
rocksdb::Env* NoOptionsFileEnv() {
  static const std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(
      std::make_shared<NoOptionsFileSystem>(rocksdb::FileSystem::Default()));
  return env.get();
}

rocksdb::DBOptions BaseOptions() {
  rocksdb::DBOptions o;
  o.paranoid_checks = true;
  o.max_background_jobs = 2;
  o.keep_log_file_num = 2;
  // No info log (db/LOG): writing it costs every open a file creation and a rename, and
  // on a full disk its writer aborts the process (Debian's build keeps assertions).
  // Every error RocksDB reports reaches cairn as a Status instead.
  o.info_log = std::make_shared<NullLogger>();
  o.max_manifest_file_size = 16ull << 20;
  // A damaged log record fails the open (Db::Open then judges it against the
  // acknowledgement record); only a record cut short at the very end — a write torn by a
  // crash — is passed over.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  // A CRC32C of every whole table and blob file, kept in the MANIFEST: fsck verifies them.
  o.file_checksum_gen_factory = rocksdb::GetFileChecksumGenCrc32cFactory();
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
  // ...but readers replay the log at every open, so keep it short: moved into table files
  // by Checkpoint() once it grows. Not compressed: a move's log is a few hundred bytes, and
  // starting a zstd stream for each log file at every open cost more than reading it.
  o.wal_compression = rocksdb::kNoCompression;
  // No statistics dumps: they start a timer thread in every process.
  o.stats_dump_period_sec = 0;
  o.stats_persist_period_sec = 0;
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
void Batch::Put(Table table, std::string_view key, std::string_view value) {
  batch_
      ->Put(db_->Handle(table), db_->FullKey(table, key),
            rocksdb::Slice(value.data(), value.size()))
      .PermitUncheckedError();
}

void Batch::Delete(Table table, std::string_view key) {
  batch_->Delete(db_->Handle(table), db_->FullKey(table, key)).PermitUncheckedError();
}

namespace {
// Replays a batch's operations into another batch of the same database.
class Replayer : public rocksdb::WriteBatch::Handler {
 public:
  Replayer(rocksdb::WriteBatchBase* out, const std::vector<rocksdb::ColumnFamilyHandle*>& handles)
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
  rocksdb::WriteBatchBase* out_;
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles_;
};
}  // namespace

Status Batch::Append(const Batch& other) {
  if (other.db_ != db_) return Status::Internal("appending a batch of another database");
  Replayer replay(batch_.get(), db_->all_handles_);
  return FromRocks(other.batch_->Iterate(&replay), "batch append");
}

// ---- Cursor ----
struct Cursor::Bound {
  std::string bytes;
  rocksdb::Slice slice;
};
Cursor::Cursor() : it_(rocksdb::NewEmptyIterator()) {}
Cursor::Cursor(std::unique_ptr<rocksdb::Iterator> it, std::string prefix,
               std::unique_ptr<Bound> upper)
    : prefix_(std::move(prefix)), upper_(std::move(upper)), it_(std::move(it)) {}
Cursor::Cursor(Cursor&&) noexcept = default;
Cursor::~Cursor() = default;
void Cursor::SeekToFirst() { it_->Seek(prefix_); }
void Cursor::SeekToLast() {
  if (!upper_) {
    it_->SeekToLast();
    return;
  }
  it_->SeekForPrev(upper_->slice);
  if (it_->Valid() && it_->key().compare(upper_->slice) >= 0) it_->Prev();
}
void Cursor::Seek(std::string_view key) {
  if (prefix_.empty()) {
    it_->Seek(rocksdb::Slice(key.data(), key.size()));
    return;
  }
  std::string full = prefix_;
  full += key;
  it_->Seek(full);
}
bool Cursor::Valid() const { return it_->Valid() && it_->key().starts_with(prefix_); }
void Cursor::Next() { it_->Next(); }
void Cursor::Prev() { it_->Prev(); }
std::string_view Cursor::key() const {
  rocksdb::Slice k = it_->key();
  return std::string_view(k.data(), k.size()).substr(prefix_.size());
}
std::string_view Cursor::value() const {
  rocksdb::Slice v = it_->value();
  return {v.data(), v.size()};
}
Status Cursor::status() const { return FromRocks(it_->status(), "iterate"); }

// ---- Db ----
namespace {
// The MANIFEST that CURRENT named is not there (ENOENT). Any other error about a MANIFEST
// — no space to write the new one, EIO — is reported as it is, never waited out or taken
// for damage.
bool IsManifestReplaced(const rocksdb::Status& s) {
  if (s.IsNoSpace()) return false;
  std::string text = s.ToString();
  bool missing = s.IsNotFound() || s.IsPathNotFound() ||
                 text.find("No such file or directory") != std::string::npos;
  return missing && text.find("MANIFEST") != std::string::npos;
}

// The families to open. Format 2 opens its own three without asking the database (a
// ListColumnFamilies is one more MANIFEST read per command); when the database has more
// (`extra`, found after a failed open) they are opened too, so that the version check can
// name the newer format instead of RocksDB refusing. Format 1 (read-only) opens those of
// its families that exist: stores made before a family was added lack it.
rocksdb::Status FamiliesToOpen(const rocksdb::DBOptions& db_options, const std::string& path,
                               const Schema& schema, const DbOpenOptions& options, bool list,
                               std::vector<std::string>* names) {
  *names = schema.families();
  if (options.create || !list) return rocksdb::Status::OK();
  std::vector<std::string> existing;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, path, &existing);
  if (!s.ok()) return s;
  if (schema.version() == 1) {
    std::vector<std::string> present;
    for (const auto& name : *names) {
      if (std::find(existing.begin(), existing.end(), name) != existing.end()) {
        present.push_back(name);
      }
    }
    *names = present;
    return rocksdb::Status::OK();
  }
  for (const auto& name : existing) {
    if (std::find(names->begin(), names->end(), name) == names->end()) names->push_back(name);
  }
  return rocksdb::Status::OK();
}
}  // namespace

namespace {

// Said after every report of damage: what it means and where to read on.
constexpr std::string_view kDamageAdvice =
    " — the store is damaged; nothing was changed (see docs/rollback.md, \"When the store is "
    "damaged\")";

std::string LogFileName(uint64_t number) { return fmt::format("{:06}.log", number); }
std::string ManifestFileName(uint64_t number) { return fmt::format("MANIFEST-{:06}", number); }

// The size of `path`, or nullopt when it cannot be stat()ed (gone: replaced or deleted).
std::optional<uint64_t> SizeOf(const std::string& path) {
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return std::nullopt;
  return size;
}

// The number of the MANIFEST that CURRENT names. kCorruption, naming CURRENT, when it does
// not hold a MANIFEST name.
Result<uint64_t> ReadCurrent(const std::string& db_dir) {
  std::string path = db_dir + "/CURRENT";
  std::FILE* f = std::fopen(path.c_str(), "rbe");
  if (f == nullptr) return Status::Corruption(fmt::format("cannot read {}{}", path, kDamageAdvice));
  char buf[64];
  size_t n = std::fread(buf, 1, sizeof(buf), f);
  std::fclose(f);
  std::string_view text(buf, n);
  constexpr std::string_view kPrefix = "MANIFEST-";
  uint64_t number = 0;
  bool ok = text.size() > kPrefix.size() + 1 && text.size() < sizeof(buf) &&
            text.starts_with(kPrefix) && text.back() == '\n';
  for (size_t i = kPrefix.size(); ok && i + 1 < text.size(); ++i) {
    ok = text[i] >= '0' && text[i] <= '9' && number < (1ull << 58);
    number = number * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (!ok) {
    return Status::Corruption(
        fmt::format("{} is damaged: it does not name a MANIFEST file{}", path, kDamageAdvice));
  }
  return number;
}

// Before RocksDB reads anything: the files that held the last acknowledged write must not
// have shrunk since (a truncation RocksDB would take for a torn tail), and CURRENT must
// not name an older MANIFEST. A file that is gone is not judged here: a later flush or
// open replaces both legitimately; the sequence check after the open covers them.
// `*unsure` is set when what this cannot judge must be judged by an open: the record or
// the log it names is gone.
Status CheckFilesBeforeOpen(const std::string& db_dir, const std::optional<AckRecord>& ack,
                            bool* unsure) {
  CAIRN_ASSIGN_OR_RETURN(uint64_t manifest, ReadCurrent(db_dir));
  *unsure = !ack;
  if (!ack) return Status::OK();
  const AckPosition& p = ack->position;
  if (p.manifest_number != 0 && manifest < p.manifest_number) {
    return Status::Corruption(fmt::format(
        "{}/CURRENT is damaged: it names {}, older than {}, which held the last acknowledged "
        "write{}",
        db_dir, ManifestFileName(manifest), ManifestFileName(p.manifest_number), kDamageAdvice));
  }
  if (p.manifest_number != 0 && manifest == p.manifest_number) {
    std::string file = db_dir + "/" + ManifestFileName(manifest);
    auto size = SizeOf(file);
    if (size && *size < p.manifest_bytes) {
      return Status::Corruption(fmt::format(
          "{} is truncated: {} bytes, but it held {} when the last write was acknowledged{}", file,
          *size, p.manifest_bytes, kDamageAdvice));
    }
  }
  if (p.wal_number != 0) {
    std::string file = db_dir + "/" + LogFileName(p.wal_number);
    auto size = SizeOf(file);
    if (!size) *unsure = true;
    if (size && *size < p.wal_bytes) {
      return Status::Corruption(fmt::format(
          "{} is truncated: {} bytes, but it held {} when the last write was acknowledged{}", file,
          *size, p.wal_bytes, kDamageAdvice));
    }
  }
  return Status::OK();
}

// RocksDB's Env for an open: the process-wide ones for the default Env, else one built
// over the Env's file system (owned by the Db, which must outlive the database).
rocksdb::Env* RocksEnvFor(Env& env, bool skip_options_file, std::unique_ptr<rocksdb::Env>* own) {
  if (env.is_default()) return skip_options_file ? NoOptionsFileEnv() : rocksdb::Env::Default();
  std::shared_ptr<rocksdb::FileSystem> fs = env.WrapRocksFileSystem(rocksdb::FileSystem::Default());
  if (skip_options_file) fs = std::make_shared<NoOptionsFileSystem>(fs);
  *own = rocksdb::NewCompositeEnv(fs);
  return own->get();
}

// The log file that holds (or, being damaged, should hold) write `sequence`: of the
// non-empty logs, the last whose first write is at or before it. Read from each log's first
// record header (docs/format.md: a 7-byte header, or 11 for a recycled log, then the write
// batch's 8-byte little-endian sequence number); a log whose first record cannot be read
// is named when no later log qualifies.
std::string LogHoldingWrite(const std::string& dir, uint64_t sequence) {
  std::vector<std::pair<uint64_t, std::string>> logs;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() < 5 || !name.ends_with(".log")) continue;
    uint64_t number = std::strtoull(name.c_str(), nullptr, 10);
    logs.emplace_back(number, name);
  }
  std::sort(logs.begin(), logs.end());
  std::string found = "a log file";
  for (const auto& [number, name] : logs) {
    std::FILE* f = std::fopen((dir + "/" + name).c_str(), "rbe");
    if (f == nullptr) continue;
    unsigned char head[19] = {};
    size_t n = std::fread(head, 1, sizeof(head), f);
    std::fclose(f);
    if (n == 0) continue;
    size_t at = head[6] >= 5 ? 11 : 7;  // recyclable record types carry a log number
    if (n < at + 8) {
      found = name;
      continue;
    }
    uint64_t start = 0;
    for (size_t i = 0; i < 8; ++i) start |= static_cast<uint64_t>(head[at + i]) << (8 * i);
    if (start <= sequence) found = name;
  }
  return found;
}

}  // namespace

// One attempt to open, with the given log recovery mode; waits for the writer lock.
Result<std::unique_ptr<Db>> Db::OpenWith(const std::string& path, const Schema& schema,
                                         const DbOpenOptions& options,
                                         DbOpenOptions::LogRecovery mode) {
  rocksdb::DBOptions db_options = BaseOptions();
  db_options.create_if_missing = options.create;
  db_options.error_if_exists = options.create;
  db_options.create_missing_column_families = options.create;
  if (mode == DbOpenOptions::LogRecovery::kPointInTime) {
    db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  } else if (mode == DbOpenOptions::LogRecovery::kSkipDamaged) {
    db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords;
  }
  // A salvage open (recover) reads what it can: a table file it cannot open is not fatal
  // to the open; reading it fails, and recover reports that.
  if (options.recovery != DbOpenOptions::LogRecovery::kChecked) db_options.paranoid_checks = false;

  auto db = std::unique_ptr<Db>(new Db());
  db->read_only_ = options.read_only;
  db->schema_ = &schema;
  db->path_ = path;
  db->env_ = options.env != nullptr ? options.env : &Env::Default();
  db_options.env =
      RocksEnvFor(*db->env_, !options.create && !options.read_only, &db->own_rocks_env_);
  rocksdb::DB* raw = nullptr;
  std::vector<std::string> names;
  auto deadline = std::chrono::steady_clock::now() + options.lock_timeout;
  bool announced = false;
  bool list = schema.version() == 1;
  for (int attempt = 1;; ++attempt) {
    rocksdb::Status s = FamiliesToOpen(db_options, path, schema, options, list, &names);
    if (s.ok()) {
      std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
      for (const auto& name : names) {
        descriptors.emplace_back(name, OptionsFor(name));
        // No compaction on background threads in ordinary commands: cairn compacts on the
        // calling thread, when it chooses (Db::MergeLevelZero, Db::CompactLevelZero,
        // Db::Compact). A background compaction into level 1 rewrites every level-1 file a
        // move's keys span — a deployment's whole history — and a short-lived command
        // either cancelled it at its close (level 0 only grew) or, once level 0 reached
        // RocksDB's write-stall trigger, waited seconds for it in the middle of a move
        // (5.3 s at 10^6 events). Without automatic compaction RocksDB applies no level-0
        // write stall either. A bulk load, which lives long and reads as it writes, keeps
        // RocksDB's own compaction.
        descriptors.back().options.disable_auto_compactions = options.sync_writes;
      }
      s = options.read_only
              ? rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &db->all_handles_, &raw)
              : rocksdb::DB::Open(db_options, path, descriptors, &db->all_handles_, &raw);
    }
    if (s.ok()) break;
    if (s.IsInvalidArgument() && !list && !options.create) {
      list = true;  // families this build does not know: open them too, then check
      continue;
    }
    // Every writer's open replaces the MANIFEST and deletes the old one; a reader (or a
    // writer listing the families before it takes the lock) that read CURRENT just before
    // then finds its MANIFEST gone. Reading CURRENT again finds the new one. When it keeps
    // naming a MANIFEST that is not there, CURRENT or the MANIFEST is damaged.
    if (IsManifestReplaced(s)) {
      if (attempt < 100) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
      return Status::Corruption(
          fmt::format("{}/CURRENT names a MANIFEST that cannot be read ({}){}", path, s.ToString(),
                      kDamageAdvice));
    }
    if (s.IsCorruption()) {
      return Status::Corruption("RocksDB: " + s.ToString());
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
  const auto& families = schema.families();
  db->handles_.assign(families.size(), nullptr);
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t f = 0; f < families.size(); ++f) {
      if (names[i] == families[f]) db->handles_[f] = db->all_handles_[i];
    }
  }
  return db;
}

// Damage detection (docs/format.md, "Acknowledged writes"). The acknowledgement record is
// read before the database, so a write acknowledged while this open runs only makes the
// database newer than the record, never older. The first open treats any damaged log
// record as fatal and changes nothing; when that happens, a read-only point-in-time
// recovery (which changes nothing either) shows how far the log is intact: if it reaches
// every acknowledged write, the damage is the tail of a write a crash interrupted before it
// was acknowledged, and the store is opened recovering up to it.
Result<std::unique_ptr<Db>> Db::Open(const std::string& path, const Schema& schema,
                                     const DbOpenOptions& options) {
  if (schema.version() == 1 && !options.read_only) {
    return Status::Internal("a format-1 database is opened read-only only");
  }
  if (options.recovery != DbOpenOptions::LogRecovery::kChecked) {
    if (!options.read_only) return Status::Internal("a salvage open is read-only");
    return OpenWith(path, schema, options, options.recovery);
  }
  const bool tracked = schema.version() >= 2 && !options.create;
  std::optional<AckRecord> ack;
  bool unsure = false;
  if (tracked) {
    CAIRN_ASSIGN_OR_RETURN(ack, ReadAckRecord(path));
    CAIRN_RETURN_IF_ERROR(CheckFilesBeforeOpen(path, ack, &unsure));
  }
  if (unsure && !options.read_only) {
    // A read-write open replaces the MANIFEST and starts a log: when the files alone do not
    // show that the store is intact, a read-only open (which writes nothing) looks first.
    DbOpenOptions look = options;
    look.read_only = true;
    CAIRN_ASSIGN_OR_RETURN(auto reader, Open(path, schema, look));
    CAIRN_RETURN_IF_ERROR(reader->Close());
  }
  auto db = OpenWith(path, schema, options, DbOpenOptions::LogRecovery::kChecked);
  if (!db.ok() && db.status().IsCorruption() && tracked && ack) {
    DbOpenOptions probe_options = options;
    probe_options.read_only = true;
    auto probe = OpenWith(path, schema, probe_options, DbOpenOptions::LogRecovery::kPointInTime);
    if (probe.ok()) {
      uint64_t reached = (*probe)->db_->GetLatestSequenceNumber();
      std::string damaged_log = LogHoldingWrite(path, reached + 1);
      (*probe)->Close().PermitUnchecked();  // read-only: nothing to lose
      if (reached < ack->position.sequence) {
        return Status::Corruption(fmt::format(
            "{}/{} is damaged: the log is intact up to write {}, but write {} was acknowledged "
            "({}){}",
            path, damaged_log, reached, ack->position.sequence, db.status().message(),
            kDamageAdvice));
      }
      db = OpenWith(path, schema, options, DbOpenOptions::LogRecovery::kPointInTime);
    }
  }
  if (!db.ok() && db.status().IsCorruption()) {
    return Status::Corruption(fmt::format("the database {} is damaged ({}){}", path,
                                          db.status().message(), kDamageAdvice));
  }
  if (!db.ok()) return db.status();
  if (tracked) {
    (*db)->ack_ = ack;
    CAIRN_RETURN_IF_ERROR((*db)->CheckAgainstAck());
  }
  return db;
}

// After the open: the database reaches every acknowledged write; and a store that has had
// an acknowledgement record (the database says so) still has it.
Status Db::CheckAgainstAck() const {
  uint64_t reached = db_->GetLatestSequenceNumber();
  if (ack_) {
    const AckPosition& p = ack_->position;
    if (reached >= p.sequence) return Status::OK();
    std::string where = p.wal_number != 0
                            ? fmt::format("{}/{} is damaged, truncated or missing", path_,
                                          LogFileName(p.wal_number))
                            : fmt::format("a file of {} is damaged or missing", path_);
    return Status::Corruption(fmt::format(
        "the database {} has lost writes it acknowledged: it ends at write {}, but write {} was "
        "reported done ({}/{}); {}{}",
        path_, reached, p.sequence, path_, kAckFileName, where, kDamageAdvice));
  }
  CAIRN_ASSIGN_OR_RETURN(auto marker, Get(Table::kMeta, keys::kAckedWrites));
  if (marker) {
    return Status::Corruption(fmt::format(
        "{}/{} is missing, but the database records that it was made: without it, damage to the "
        "log cannot be told from a crash{}",
        path_, kAckFileName, kDamageAdvice));
  }
  return Status::OK();
}

Db::~Db() { Close().PermitUnchecked(); }

namespace {
// True while any family has a flush or compaction pending or running (a bulk load's
// database, the only one that compacts in the background).
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
    // Then level 0 empty: the ordinary commands that follow compact nothing in the
    // background.
    if (status.ok()) status = CompactLevelZero(/*at_least=*/1);
  }
  for (auto* h : all_handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  all_handles_.clear();
  handles_.clear();
  Status closed = FromRocks(db_->Close(), "close");
  db_.reset();
  return status.ok() ? closed : status;
}

rocksdb::ColumnFamilyHandle* Db::Handle(Table table) const {
  return handles_[schema_->FamilyOf(table)];
}

std::string Db::FullKey(Table table, std::string_view key) const {
  std::string full(schema_->PrefixOf(table));
  full += key;
  return full;
}

Result<std::optional<std::string>> Db::Get(Table table, std::string_view key) const {
  auto* h = Handle(table);
  if (h == nullptr) return std::optional<std::string>();  // family not created yet: empty
  std::string value;
  rocksdb::Status s = overlay_ ? overlay_->GetFromBatchAndDB(db_.get(), rocksdb::ReadOptions(), h,
                                                             FullKey(table, key), &value)
                               : db_->Get(rocksdb::ReadOptions(), h, FullKey(table, key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, fmt::format("read from {}", TableName(table)));
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::optional<std::string>>> Db::GetMany(
    Table table, const std::vector<std::string>& keys) const {
  std::vector<std::optional<std::string>> out(keys.size());
  auto* h = Handle(table);
  if (h == nullptr) return out;
  if (overlay_) {
    for (size_t i = 0; i < keys.size(); ++i) {
      CAIRN_ASSIGN_OR_RETURN(out[i], Get(table, keys[i]));
    }
    return out;
  }
  std::vector<std::string> full;
  full.reserve(keys.size());
  for (const auto& k : keys) full.push_back(FullKey(table, k));
  std::vector<rocksdb::Slice> slices(full.begin(), full.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), h, keys.size(), slices.data(), values.data(),
                statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok())
      return FromRocks(statuses[i], fmt::format("read from {}", TableName(table)));
    out[i] = values[i].ToString();
  }
  return out;
}

Result<bool> Db::Contains(Table table, std::string_view key) const {
  auto* h = Handle(table);
  if (h == nullptr) return false;
  rocksdb::PinnableSlice value;
  rocksdb::Status s = overlay_ ? overlay_->GetFromBatchAndDB(db_.get(), rocksdb::ReadOptions(), h,
                                                             FullKey(table, key), &value)
                               : db_->Get(rocksdb::ReadOptions(), h, FullKey(table, key), &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return FromRocks(s, fmt::format("read from {}", TableName(table)));
  return true;
}

// Durability: a synced write is acknowledged — reported done — only once the log holding
// it is synced and the acknowledgement record says where it ends (one fdatasync of a
// 64-byte slot). A crash in between leaves the database newer than the record, which every
// open accepts. The first acknowledged write of a store creates the record before writing
// and marks the database as having one, then flushes so the mark lives in a table file.
Status Db::Write(Batch& batch, bool sync, bool no_wal) {
  if (read_only_) {
    return Status::Usage(
        fmt::format("the database {} is open read-only: writing needs a read-write open", path_));
  }
  if (batch.db_ != this) return Status::Internal("batch written to a database it was not made for");
  const bool acknowledged = sync && sync_writes_ && !no_wal && schema_->version() >= 2;
  std::lock_guard lock(write_mu_);
  if (acknowledged) CAIRN_RETURN_IF_ERROR(CheckSpaceFor(batch.ByteSize()));
  const bool first = acknowledged && !ack_;
  if (first) {
    CAIRN_ASSIGN_OR_RETURN(AckPosition now, CurrentPosition());
    CAIRN_RETURN_IF_ERROR(CreateAckRecord(*env_, path_, now));
    ack_ = AckRecord{1, now};
    batch.Put(Table::kMeta, keys::kAckedWrites, "1");
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync && sync_writes_;
  wo.disableWAL = no_wal;
  if (acknowledged) CAIRN_CRASH_POINT("db.write.before");
  CAIRN_RETURN_IF_ERROR(FromRocks(db_->Write(wo, batch.batch_.get()), "write"));
  if (!acknowledged) return Status::OK();
  if (first) {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    CAIRN_RETURN_IF_ERROR(FromRocks(db_->Flush(fo, all_handles_), "flush"));
  }
  CAIRN_CRASH_POINT("db.write.unacknowledged");
  CAIRN_RETURN_IF_ERROR(Acknowledge());
  CAIRN_CRASH_POINT("db.write.acknowledged");
  return Status::OK();
}

uint64_t Db::LatestSequence() const { return db_->GetLatestSequenceNumber(); }

Result<AckPosition> Db::CurrentPosition() const {
  AckPosition p;
  p.sequence = db_->GetLatestSequenceNumber();
  std::unique_ptr<rocksdb::LogFile> wal;
  rocksdb::Status s = db_->GetCurrentWalFile(&wal);
  if (s.ok() && wal) {
    p.wal_number = wal->LogNumber();
    p.wal_bytes = wal->SizeFileBytes();
  } else if (!s.ok() && !s.IsNotFound()) {
    return FromRocks(s, "look-up of the current log file");
  }
  std::vector<std::string> live;
  uint64_t manifest_bytes = 0;
  CAIRN_RETURN_IF_ERROR(FromRocks(
      db_->GetLiveFiles(live, &manifest_bytes, /*flush_memtable=*/false), "list of live files"));
  for (const auto& name : live) {
    std::string_view base = std::string_view(name).substr(name.rfind('/') + 1);
    if (!base.starts_with("MANIFEST-")) continue;
    p.manifest_number = std::strtoull(std::string(base.substr(9)).c_str(), nullptr, 10);
    p.manifest_bytes = manifest_bytes;
  }
  return p;
}

Status Db::Acknowledge() {
  auto now = CurrentPosition();
  Status s = now.status();
  if (s.ok()) s = UpdateAckRecord(*env_, path_, ack_->generation + 1, *now);
  if (!s.ok()) {
    return s.WithContext(
        "the write itself is durable, but the record that lets later opens detect a damaged log "
        "could not be updated");
  }
  ack_->generation += 1;
  ack_->position = *now;
  return Status::OK();
}

// Room for a write: its log record plus a reserve for the log's block padding and what the
// open added (MANIFEST, a new log). Checked so that a full disk is reported as such, before
// RocksDB has half-written anything.
Status Db::CheckSpaceFor(uint64_t bytes) const {
  constexpr uint64_t kReserve = 64 << 10;
  struct statvfs st {};
  if (::statvfs(path_.c_str(), &st) != 0) return Status::OK();  // unknown: let the write say
  uint64_t free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (free_bytes >= bytes + kReserve) return Status::OK();
  return Status::IO(fmt::format(
      "the disk holding {} is full: {} bytes free, a write of {} bytes needs at least {}; free "
      "some space and run the command again (nothing was written)",
      path_, free_bytes, bytes, bytes + kReserve));
}

Status Db::Flush(std::initializer_list<Table> tables) {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  for (Table table : tables) {
    auto* h = Handle(table);
    if (h != nullptr && std::find(handles.begin(), handles.end(), h) == handles.end()) {
      handles.push_back(h);
    }
  }
  return FromRocks(db_->Flush(fo, handles), "flush");
}

Status Db::Compact() {
  rocksdb::CompactRangeOptions cro;
  cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  cro.blob_garbage_collection_policy = rocksdb::BlobGarbageCollectionPolicy::kForce;
  cro.blob_garbage_collection_age_cutoff = 1.0;
  for (auto* h : all_handles_) {
    CAIRN_RETURN_IF_ERROR(FromRocks(db_->CompactRange(cro, h, nullptr, nullptr),
                                    fmt::format("compaction of {}", h->GetName())));
  }
  return Status::OK();
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
  fo.allow_write_stall = true;  // never wait for a compaction first
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  for (auto* h : handles_) {
    if (h != nullptr) handles.push_back(h);
  }
  CAIRN_RETURN_IF_ERROR(FromRocks(db_->Flush(fo, handles), "checkpoint flush"));
  CAIRN_RETURN_IF_ERROR(MergeLevelZero().status());
  // Level 0 this long means thousands of moves with no snapshot created since: moved into
  // the levels below now, once, rather than paid for by every read.
  CAIRN_RETURN_IF_ERROR(CompactLevelZero(kLevelZeroFilesMax));
  std::lock_guard lock(write_mu_);
  return ack_ ? Acknowledge() : Status::OK();  // the MANIFEST grew, the log changed
}

std::vector<std::string> LevelZeroRunToMerge(std::vector<LevelZeroFile> files) {
  constexpr size_t kMinMerge = 4;
  constexpr uint64_t kFloor = 64 << 10;
  constexpr uint64_t kRatio = 4;
  constexpr uint64_t kLargest = 1 << 20;
  std::sort(files.begin(), files.end(), [](const LevelZeroFile& a, const LevelZeroFile& b) {
    return a.largest_seqno > b.largest_seqno;
  });
  std::vector<std::string> run;
  uint64_t taken = 0;
  for (const LevelZeroFile& f : files) {
    if (!run.empty() && (f.size > std::max(kFloor, kRatio * taken) || f.size > kLargest)) break;
    run.push_back(f.name);
    taken += f.size;
  }
  if (run.size() < kMinMerge) run.clear();
  return run;
}

Result<size_t> Db::MergeLevelZero() {
  size_t merged = 0;
  for (auto* h : handles_) {
    if (h == nullptr) continue;
    rocksdb::ColumnFamilyMetaData meta;
    db_->GetColumnFamilyMetaData(h, &meta);
    if (meta.levels.empty()) continue;
    std::vector<LevelZeroFile> files;
    for (const auto& f : meta.levels[0].files) {
      files.push_back({f.relative_filename, f.size, f.largest_seqno});
    }
    std::vector<std::string> run = LevelZeroRunToMerge(std::move(files));
    if (run.empty()) continue;
    rocksdb::CompactionOptions co;
    co.compression = rocksdb::kDisableCompressionOption;  // the family's own compression
    CAIRN_RETURN_IF_ERROR(
        FromRocks(db_->CompactFiles(co, h, run, /*output_level=*/0),
                  fmt::format("merge of {} level-0 files of {}", run.size(), h->GetName())));
    merged += run.size() - 1;
  }
  return merged;
}

Status Db::CompactLevelZero(size_t at_least) {
  for (auto* h : handles_) {
    if (h == nullptr) continue;
    rocksdb::ColumnFamilyMetaData meta;
    db_->GetColumnFamilyMetaData(h, &meta);
    if (meta.levels.empty() || meta.levels[0].files.size() < at_least ||
        meta.levels[0].files.empty()) {
      continue;
    }
    // Into level 1, with the level-1 files they overlap (RocksDB adds those): whatever
    // lies deeper is older, so newer versions of a key stay above older ones. Level 1 may
    // grow past its target size; nothing moves it down but gc's full compaction, and reads
    // do not mind (one file per level is consulted for a key).
    constexpr int output = 1;
    std::vector<std::string> inputs;
    for (const auto& f : meta.levels[0].files) inputs.push_back(f.relative_filename);
    rocksdb::CompactionOptions co;
    co.compression = rocksdb::kDisableCompressionOption;
    co.output_file_size_limit = 64ull << 20;
    CAIRN_RETURN_IF_ERROR(
        FromRocks(db_->CompactFiles(co, h, inputs, output),
                  fmt::format("compaction of level 0 of {} into level {}", h->GetName(), output)));
  }
  return Status::OK();
}

size_t Db::LevelZeroFiles(Table table) const {
  auto* h = Handle(table);
  if (h == nullptr) return 0;
  rocksdb::ColumnFamilyMetaData meta;
  db_->GetColumnFamilyMetaData(h, &meta);
  return meta.levels.empty() ? 0 : meta.levels[0].files.size();
}

// Block checksums of every table file, then the whole-file CRC32C of every table and
// blob file that has one (files written by this build). RocksDB stops at the first
// damaged file of each pass; its message names the file.
Result<std::vector<DamagedFile>> Db::VerifyFiles() const {
  std::vector<DamagedFile> damaged;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  for (rocksdb::Status s : {db_->VerifyChecksum(ro), db_->VerifyFileChecksums(ro)}) {
    if (s.ok()) continue;
    if (!s.IsCorruption()) return FromRocks(s, "checksum verification");
    std::string text = s.ToString();
    std::string file;
    for (std::string_view ext : {".sst", ".blob"}) {
      size_t at = text.find(ext);
      if (at == std::string::npos) continue;
      size_t begin = text.rfind('/', at);
      begin = begin == std::string::npos ? 0 : begin + 1;
      file = text.substr(begin, at + ext.size() - begin);
      break;
    }
    bool seen = false;
    for (const auto& d : damaged) seen = seen || (!file.empty() && d.file == file);
    if (!seen) damaged.push_back({file, text});
  }
  return damaged;
}

// A format-2 table shares its family with others: the cursor is bounded to the table's
// prefix (iterate_lower/upper_bound), so RocksDB stops at its end instead of the caller.
Cursor Db::NewCursorWith(Table table, bool memory_only) const {
  auto* h = Handle(table);
  if (h == nullptr) return Cursor();
  std::string prefix(schema_->PrefixOf(table));
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  if (memory_only) ro.read_tier = rocksdb::kMemtableTier;
  std::unique_ptr<Cursor::Bound> upper;
  if (!prefix.empty()) {
    // Prefixes are single bytes below 0xff, so prefix + 1 is the first key after the table.
    upper = std::make_unique<Cursor::Bound>();
    upper->bytes = prefix;
    upper->bytes.back() = static_cast<char>(static_cast<uint8_t>(upper->bytes.back()) + 1);
    upper->slice = rocksdb::Slice(upper->bytes);
    ro.iterate_upper_bound = &upper->slice;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, h));
  if (overlay_ && !memory_only) {
    it.reset(overlay_->NewIteratorWithBase(h, it.release(), &ro));
  }
  return Cursor(std::move(it), std::move(prefix), std::move(upper));
}

Status Db::SetOverlay(const Batch* batch) {
  overlay_.reset();
  if (batch == nullptr) return Status::OK();
  if (batch->db_ != this) return Status::Internal("overlay of a batch of another database");
  auto index = std::make_unique<rocksdb::WriteBatchWithIndex>(rocksdb::BytewiseComparator(), 0,
                                                              /*overwrite_key=*/true);
  Replayer replay(index.get(), all_handles_);
  CAIRN_RETURN_IF_ERROR(FromRocks(batch->batch_->Iterate(&replay), "overlay"));
  overlay_ = std::move(index);
  return Status::OK();
}

Cursor Db::NewCursor(Table table) const { return NewCursorWith(table, /*memory_only=*/false); }

Cursor Db::NewMemoryCursor(Table table) const { return NewCursorWith(table, /*memory_only=*/true); }

Result<std::vector<TableFile>> Db::LiveTableFiles(std::vector<DamagedFile>* damaged) const {
  std::vector<rocksdb::LiveFileMetaData> live;
  db_->GetLiveFilesMetaData(&live);
  std::vector<TableFile> files;
  for (const auto& f : live) {
    TableFile file{f.relative_filename, f.column_family_name};
    rocksdb::Options o(BaseOptions(), OptionsFor(f.column_family_name));
    rocksdb::SstFileReader reader(o);
    rocksdb::Status s = reader.Open(path_ + "/" + file.name);
    if (s.ok()) s = reader.VerifyChecksum();
    if (!s.ok() && !s.IsCorruption()) return FromRocks(s, "check of table file " + file.name);
    if (!s.ok()) damaged->push_back({file.name, s.ToString()});
    files.push_back(std::move(file));
  }
  return files;
}

Status Db::ReadTableFile(const TableFile& file,
                         const std::function<void(Table table, std::string_view key,
                                                  std::string_view value)>& visit) const {
  rocksdb::ColumnFamilyOptions cf = OptionsFor(file.family);
  if (cf.enable_blob_files) {
    return Status::Usage(fmt::format("table file {} of family {} holds blob references, not values",
                                     file.name, file.family));
  }
  rocksdb::SstFileReader reader(rocksdb::Options(BaseOptions(), cf));
  rocksdb::Status s = reader.Open(path_ + "/" + file.name);
  if (!s.ok()) return FromRocks(s, "open of table file " + file.name + " on its own");
  auto hand = [&](const rocksdb::Iterator& it) {
    auto owner = schema_->TableOf(file.family, std::string_view(it.key().data(), it.key().size()));
    if (owner)
      visit(owner->first, owner->second, std::string_view(it.value().data(), it.value().size()));
  };
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> forward(reader.NewIterator(ro));
  std::string last_forward;
  bool any = false;
  for (forward->SeekToFirst(); forward->Valid(); forward->Next()) {
    hand(*forward);
    last_forward = forward->key().ToString();
    any = true;
  }
  rocksdb::Status forward_status = forward->status();
  if (forward_status.ok()) return Status::OK();
  // The rest, from the end back to the damage (or to what the forward pass read).
  std::unique_ptr<rocksdb::Iterator> backward(reader.NewIterator(ro));
  for (backward->SeekToLast(); backward->Valid(); backward->Prev()) {
    if (any && backward->key().ToString() <= last_forward) break;
    hand(*backward);
  }
  return FromRocks(forward_status, "read of table file " + file.name + " on its own");
}

}  // namespace cairn
