// The RocksDB boundary. Every RocksDB call of cairn goes through this file pair; it turns
// RocksDB's Status into cairn's, naming the failing operation. Nothing above it sees a
// rocksdb:: type. Callers name logical tables (store/schema.h) and keys within them; the
// Db maps them onto the families and key prefixes of the store's format.
//
// A Db is opened either read-write (one process at a time: RocksDB's LOCK file is the
// writer lock, waited for up to a bound) or read-only (never waits, sees what was durable
// when it opened). A Db may be used from several threads at once.
//
// Damage is never read past: every open checks the database against its acknowledgement
// record (store/ack_record.h) and fails with kCorruption, naming the file, when a write it
// acknowledged is gone — a damaged or truncated log, MANIFEST or CURRENT. Table and blob
// blocks are checked by RocksDB when read (kCorruption) and all of them by VerifyFiles().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "port/env.h"
#include "store/ack_record.h"
#include "store/schema.h"

namespace rocksdb {
class DB;
class Env;
class ColumnFamilyHandle;
class WriteBatch;
class WriteBatchBase;
class WriteBatchWithIndex;
class Iterator;
}  // namespace rocksdb

namespace cairn {

class Db;

// A set of writes applied atomically by Db::Write. Bound to the Db that made it.
class Batch {
 public:
  explicit Batch(const Db& db);
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;
  void Put(Table table, std::string_view key, std::string_view value);
  void Delete(Table table, std::string_view key);
  // Adds every operation of `other` (made for the same Db) to this batch.
  Status Append(const Batch& other);
  size_t ByteSize() const;
  size_t Count() const;
  void Clear();

 private:
  friend class Db;
  const Db* db_;
  std::unique_ptr<rocksdb::WriteBatch> batch_;
};

// A cursor over one table, in key order. Keys are those within the table (its format-2
// prefix is neither expected by Seek nor shown by key()), and the cursor never leaves the
// table.
class Cursor {
 public:
  // The iterator's upper bound: RocksDB keeps a pointer to the Slice, so it lives here.
  struct Bound;
  // An empty cursor: never Valid().
  Cursor();
  Cursor(std::unique_ptr<rocksdb::Iterator> it, std::string prefix, std::unique_ptr<Bound> upper);
  Cursor(Cursor&&) noexcept;
  ~Cursor();
  void SeekToFirst();
  void SeekToLast();
  void Seek(std::string_view key);
  bool Valid() const;
  void Next();
  void Prev();
  std::string_view key() const;
  std::string_view value() const;
  // Why iteration stopped, if not at the end of the data.
  Status status() const;

 private:
  std::string prefix_;
  std::unique_ptr<Bound> upper_;  // declared before it_: outlives the iterator
  std::unique_ptr<rocksdb::Iterator> it_;
};

struct DbOpenOptions {
  bool read_only = false;
  bool create = false;  // create the database (init); fails if it exists
  std::chrono::milliseconds lock_timeout{10000};
  // Called once when the writer lock is held by another process and we start waiting.
  std::function<void(const std::string&)> on_wait;
  // false: bulk load. Write() never syncs, whatever its caller asks; Close() flushes every
  // family to table files (fsynced) and waits for background compaction. A crash before
  // Close() returns can lose any write made since the open. Never for the CLI.
  bool sync_writes = true;
  // The file system (port/env.h); nullptr: Env::Default().
  Env* env = nullptr;
  // kChecked: every open, with the damage checks of Open. The two salvage modes are for
  // `recover` only, read-only, without the checks: kPointInTime reads the log up to its
  // first damaged record (a consistent state: every batch before it, none after);
  // kSkipDamaged reads every intact record of it, even those after a damaged one.
  enum class LogRecovery { kChecked, kPointInTime, kSkipDamaged };
  LogRecovery recovery = LogRecovery::kChecked;
};

// One live table file of a database (Db::LiveTableFiles), for `recover`'s salvage.
struct TableFile {
  std::string name;    // its name in the database directory, e.g. "000012.sst"
  std::string family;  // the column family it belongs to
};

// One damaged file found by Db::VerifyFiles.
struct DamagedFile {
  std::string file;     // its name in the database directory, e.g. "000012.sst"
  std::string message;  // what RocksDB reported
};

// A level-0 table file as MergeLevelZero sees it.
struct LevelZeroFile {
  std::string name;
  uint64_t size = 0;
  uint64_t largest_seqno = 0;  // newer files hold larger sequence numbers
};
// The files Db::MergeLevelZero merges, newest first: from the newest back, each older file
// joins while it is no larger than max(64 KiB, 4 × the files already taken) and 1 MiB;
// empty when fewer than four qualify. Merging only a newest run keeps level 0 ordered by age.
std::vector<std::string> LevelZeroRunToMerge(std::vector<LevelZeroFile> files);

class Db {
 public:
  // Opens the database at `path` laid out as `schema` says. A format-1 database is only
  // ever opened read-only (it is migrated, never written: store/migrate.cc).
  static Result<std::unique_ptr<Db>> Open(const std::string& path, const Schema& schema,
                                          const DbOpenOptions& options);
  // Closes the database if Close() was not called (errors are then lost: call Close()).
  ~Db();

  // Closes the database. After a bulk load (sync_writes = false) this is what makes the
  // writes durable, and its error says whether they are. Nothing may be called afterwards.
  Status Close();

  bool read_only() const { return read_only_; }
  const Schema& schema() const { return *schema_; }

  // Point lookup; std::nullopt when the key is absent (or the family does not exist yet).
  Result<std::optional<std::string>> Get(Table table, std::string_view key) const;
  // True if the key is present.
  Result<bool> Contains(Table table, std::string_view key) const;
  // Get for many keys at once, answers in the order of `keys`: one RocksDB MultiGet, which
  // reads each table block once for all the keys it holds (a per-key Get looks each block
  // up again).
  Result<std::vector<std::optional<std::string>>> GetMany(
      Table table, const std::vector<std::string>& keys) const;

  // Applies the batch atomically. `sync` fsyncs the write-ahead log before returning
  // (ignored during a bulk load, see DbOpenOptions::sync_writes); `no_wal` skips the log
  // entirely (the caller must Flush() before relying on it).
  Status Write(Batch& batch, bool sync, bool no_wal = false);
  // Persists the memtables of the tables' families to table and blob files, fsynced,
  // atomically (the database uses atomic_flush: families written together become durable
  // together).
  Status Flush(std::initializer_list<Table> tables);

  // Moves everything in the write-ahead log into table files when the log holds more than
  // `max_wal_bytes` or is spread over more than `max_wal_files` files, so that later opens
  // (which replay every log file; each writer's open starts a new one) stay fast.
  // Durability does not depend on it: it runs after synced writes. Then merges level 0
  // (MergeLevelZero).
  Status Checkpoint(uint64_t max_wal_bytes = 4ull << 20, size_t max_wal_files = 8);

  // Keeps level 0 of every family short, on the calling thread: the newest level-0 table
  // files are merged into one (a compaction within level 0) when at least four qualify
  // (LevelZeroRunToMerge). Every checkpoint adds a level-0 file, and every read consults
  // every level-0 file (an open reads each one's index and filters whole); moving level 0
  // into level 1 rewrites every level-1 file a move's keys span (a deployment's whole
  // history: 110 MB at 10^6 events). Merged files grow geometrically up to 1 MiB, so level
  // 0 gains a file every few thousand moves instead of every 8. Returns the number of files
  // merged away.
  Result<size_t> MergeLevelZero();
  // Compacts level 0 of each family holding at least `at_least` level-0 files into level
  // 1, on the calling thread (RocksDB compacts nothing on its own: see
  // OptionsFor). For commands that take seconds anyway (snapshot create, the end of a bulk
  // load) and for a checkpoint that finds level 0 at kLevelZeroFilesMax.
  Status CompactLevelZero(size_t at_least);
  static constexpr size_t kLevelZeroFilesMax = 12;
  // The number of level-0 table files of the family holding `table`.
  size_t LevelZeroFiles(Table table) const;

  // Compacts every family down to its last level with blob garbage collection forced, so
  // that deleted records, and blob files only they referenced, leave the disk (gc). Safe to
  // interrupt: RocksDB installs a compaction's result in one MANIFEST record.
  Status Compact();

  // Reads every table and blob file whole and checks its checksums (fsck). The returned
  // Status fails only when the check could not run.
  Result<std::vector<DamagedFile>> VerifyFiles() const;

  // ---- salvage: reading past damage, for `recover` only ----
  // Every live table file, each checked whole on its own (block checksums): `damaged`
  // gets the files that are not intact, with RocksDB's message.
  Result<std::vector<TableFile>> LiveTableFiles(std::vector<DamagedFile>* damaged) const;
  // Reads one table file on its own, outside the merged view that stops at the first
  // damaged block of any file: every record from its start up to its first damaged block,
  // then from its end back down to the last damaged block, each handed to `visit` with its
  // table and its key within the table (records no table owns are skipped). A record is a
  // key's newest value *in this file*, which an other file may hide. OK when the whole file
  // was read; kCorruption naming the file when some or all of it could not be. A file of a
  // family with blob files (objects) is not read (kUsage): its values are blob references.
  Status ReadTableFile(const TableFile& file,
                       const std::function<void(Table table, std::string_view key,
                                                std::string_view value)>& visit) const;
  // A cursor over what the open replayed from the log and holds in memory only (no table
  // file is read).
  Cursor NewMemoryCursor(Table table) const;

  // The acknowledgement record as of the last acknowledged write (nullopt: none yet).
  const std::optional<AckRecord>& ack() const { return ack_; }
  // RocksDB's sequence number of the last write the database holds.
  uint64_t LatestSequence() const;

  // A cursor over the table; over a table this store does not have yet (a format-1 store
  // made before the table existed), a cursor that is never Valid().
  Cursor NewCursor(Table table) const;

  // Checking a batch before writing it: while an overlay is set, Get, Contains and every
  // cursor made afterwards read `batch` applied on top of the database, as if it had been
  // written (nothing is written). SetOverlay(nullptr) removes it. Not for concurrent use:
  // set it, read, remove it, from one thread, with no write in between (team mode's pull
  // audits what it is about to import this way).
  Status SetOverlay(const Batch* batch);

 private:
  friend class Batch;
  Db() = default;
  static Result<std::unique_ptr<Db>> OpenWith(const std::string& path, const Schema& schema,
                                              const DbOpenOptions& options,
                                              DbOpenOptions::LogRecovery mode);
  rocksdb::ColumnFamilyHandle* Handle(Table table) const;
  Cursor NewCursorWith(Table table, bool memory_only) const;
  std::string FullKey(Table table, std::string_view key) const;
  Status CheckAgainstAck() const;
  Status CheckSpaceFor(uint64_t bytes) const;
  Result<AckPosition> CurrentPosition() const;
  Status Acknowledge();

  const Schema* schema_ = nullptr;
  std::unique_ptr<rocksdb::Env> own_rocks_env_;  // before db_: outlives it
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;      // indexed by schema family; null: absent
  std::vector<rocksdb::ColumnFamilyHandle*> all_handles_;  // every family, for Close
  bool read_only_ = false;
  bool sync_writes_ = true;
  std::string path_;
  Env* env_ = nullptr;
  std::optional<AckRecord> ack_;
  std::mutex write_mu_;  // a write and its acknowledgement are one step
  std::unique_ptr<rocksdb::WriteBatchWithIndex> overlay_;  // SetOverlay
};

}  // namespace cairn
