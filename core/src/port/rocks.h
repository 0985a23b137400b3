// The RocksDB boundary. Every RocksDB call of cairn goes through this file pair; it turns
// RocksDB's Status into cairn's, naming the failing operation. Nothing above it sees a
// rocksdb:: type.
//
// A Db is opened either read-write (one process at a time: RocksDB's LOCK file is the
// writer lock, waited for up to a bound) or read-only (never waits, sees what was durable
// when it opened). A Db may be used from several threads at once.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
class Iterator;
}  // namespace rocksdb

namespace cairn {

// Column families. docs/format.md specifies the keys and values of each.
enum class Cf {
  kMeta = 0,      // "default": format version, counters, app heads
  kObjects,       // digest -> object record
  kSnapshots,     // snapshot id -> canonical manifest
  kSnapshotLog,   // be64 sequence -> snapshot id (creation order)
  kStatCache,     // absolute file path -> stat fingerprint + digest
  kContentIndex,  // content digest + snapshot id -> "" (snapshots with equal components)
  kObjectMeta,    // digest -> size, encoding, stored bytes, chunks (small: no blob reads)
  kDeployments,   // name -> canonical JSON of its last event
  kEvents,        // name \0 be64 seq -> canonical event JSON
  kEventTime,     // name \0 be64 time be64 seq -> "" (what was live when)
  kLiveHistory,   // name \0 snapshot id -> le64 first seq, le64 rolled-back seq
  kSignatures,    // snapshot id + key id -> canonical JSON signature record
  kTrust,         // trust chain: events, head, trusted names, revoked keys
  kAttestations,  // snapshot id + attestation id -> canonical JSON attestation record
  kPolicy,        // policy chain: events, head, each deployment's policy
  kCount,
};
const char* CfName(Cf cf);

class Db;

// A set of writes applied atomically by Db::Write. Bound to the Db that made it.
class Batch {
 public:
  explicit Batch(const Db& db);
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;
  void Put(Cf cf, std::string_view key, std::string_view value);
  void Delete(Cf cf, std::string_view key);
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

// Forward-only cursor over one column family.
class Cursor {
 public:
  explicit Cursor(std::unique_ptr<rocksdb::Iterator> it);
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
};

class Db {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::string& path, const DbOpenOptions& options);
  // Closes the database if Close() was not called (errors are then lost: call Close()).
  ~Db();

  // Closes the database. After a bulk load (sync_writes = false) this is what makes the
  // writes durable, and its error says whether they are. Nothing may be called afterwards.
  Status Close();

  bool read_only() const { return read_only_; }

  // Point lookup; std::nullopt when the key is absent (or the family does not exist yet).
  Result<std::optional<std::string>> Get(Cf cf, std::string_view key) const;
  // True if the key is present.
  Result<bool> Contains(Cf cf, std::string_view key) const;

  // Applies the batch atomically. `sync` fsyncs the write-ahead log before returning
  // (ignored during a bulk load, see DbOpenOptions::sync_writes); `no_wal` skips the log
  // entirely (the caller must Flush() before relying on it).
  Status Write(Batch& batch, bool sync, bool no_wal = false);
  // Persists the families' memtables to table and blob files, fsynced, atomically
  // (the database uses atomic_flush: families written together become durable together).
  Status Flush(std::initializer_list<Cf> cfs);

  // Moves everything in the write-ahead log into table files when the log holds more than
  // `max_wal_bytes` or is spread over more than `max_wal_files` files, so that later opens
  // (which replay every log file; each writer's open starts a new one) stay fast.
  // Durability does not depend on it: it runs after synced writes.
  Status Checkpoint(uint64_t max_wal_bytes = 4ull << 20, size_t max_wal_files = 32);

  // A cursor over the family; over a family this store does not have yet (a read-only
  // open of a store made by an older cairn), a cursor that is never Valid().
  Cursor NewCursor(Cf cf) const;

 private:
  friend class Batch;
  Db() = default;
  rocksdb::ColumnFamilyHandle* Handle(Cf cf) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;      // indexed by Cf
  std::vector<rocksdb::ColumnFamilyHandle*> all_handles_;  // every family, for Close
  bool read_only_ = false;
  bool sync_writes_ = true;
};

}  // namespace cairn
