// gc: marks what is kept from one root set (GcRoots), then deletes the rest in an order that
// keeps every remaining snapshot complete at every instant:
//   1. one synced batch: the records of the deleted snapshots (manifest, log entry, content
//      index entry, signatures, attestations), every stat-cache entry that names an object
//      that is not kept (dead weight: a create uses a cached digest only while its object is
//      present), and arrival times for log entries written before they were recorded;
//   2. the objects no kept snapshot or attestation names, in synced batches: chunk lists
//      before plain records, so no chunk list ever names a missing chunk;
//   3. a forced compaction with blob garbage collection, which gives the disk space back.
// A crash after 1 leaves only unreferenced objects (the next gc removes them); RocksDB's
// compaction is atomic on its own. The caller's read-write open holds the writer lock, so
// no create or pull adds a snapshot or an object while gc decides.
#include "cairn/gc.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_set>

#include "cairn/attestation.h"
#include "cairn/deployment.h"
#include "cairn/receipts.h"
#include "cairn/signature.h"
#include "cairn/trust.h"
#include "snapshot/snapshot_records.h"
#include "store/object_codec.h"
#include "store/store_internal.h"
#include "trust/attestation_records.h"
#include "util/crash_point.h"

namespace cairn {

const char* GcKeepReasonName(GcKeepReason reason) {
  switch (reason) {
    case GcKeepReason::kLive:
      return "live";
    case GcKeepReason::kEvidence:
      return "evidence";
    case GcKeepReason::kRecent:
      return "recent";
    case GcKeepReason::kAppHead:
      return "app-head";
    case GcKeepReason::kServed:
      return "served";
  }
  return "?";
}

namespace {

// Keys per object-deleting batch: bounded memory and log size whatever the store's size.
constexpr size_t kObjectBatchKeys = 4096;

struct DigestHash {
  size_t operator()(const Digest& d) const {
    size_t h;
    std::memcpy(&h, d.Raw().data(), sizeof h);
    return h;
  }
};
using DigestSet = std::unordered_set<Digest, DigestHash>;

struct SnapshotEntry {
  std::optional<std::string> log_key;      // its snapshot_log key (none: no entry)
  std::optional<SnapshotSummary> summary;  // decoded log entry
  std::optional<GcKeepReason> kept;
};

struct DoomedObject {
  Digest digest;
  bool chunked = false;
  uint64_t stored_bytes = 0;
};

uint64_t DirectoryBytes(const std::string& path) {
  namespace fs = std::filesystem;
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      uint64_t n = it->file_size(size_ec);
      if (!size_ec) total += n;
    }
  }
  return total;
}

class Collector {
 public:
  Collector(Store& store, const GcOptions& options)
      : store_(store),
        db_(StoreInternal::db(store)),
        options_(options),
        now_(store.clock().NowMicros()),
        db_path_(store.path() + "/" + db_.schema().db_dir()) {}

  Result<GcReport> Run() {
    if (store_.read_only() && !options_.dry_run) {
      return Status::Usage("gc deletes: it needs the store open for writing (or --dry-run)");
    }
    report_.dry_run = options_.dry_run;
    report_.disk_bytes_before = DirectoryBytes(db_path_);
    CAIRN_RETURN_IF_ERROR(ReadSnapshots());
    CAIRN_RETURN_IF_ERROR(GcRoots());
    CAIRN_RETURN_IF_ERROR(MarkKeptObjects());
    CAIRN_RETURN_IF_ERROR(FindDoomedObjects());
    if (!options_.dry_run) {
      CAIRN_RETURN_IF_ERROR(DeleteRecords());
      CAIRN_CRASH_POINT("gc.records-deleted");
      CAIRN_RETURN_IF_ERROR(DeleteObjects());
      CAIRN_CRASH_POINT("gc.objects-deleted");
      Tick("compacting", 0, 0);
      CAIRN_RETURN_IF_ERROR(db_.Compact());
      CAIRN_RETURN_IF_ERROR(db_.Checkpoint());
    }
    report_.disk_bytes_after =
        options_.dry_run ? report_.disk_bytes_before : DirectoryBytes(db_path_);
    if (options_.progress) options_.progress->Finish();
    return std::move(report_);
  }

 private:
  static Status Damaged(const std::string& what, const Status& why) {
    return Status::Corruption(
        fmt::format("gc stopped before deleting anything: {} cannot be read ({}); run `cairn "
                    "fsck`, and `cairn recover` if it reports damage",
                    what, why.message()));
  }

  // Every snapshot record, and its log entry.
  Status ReadSnapshots() {
    Cursor cur = db_.NewCursor(Table::kSnapshots);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      auto digest = Digest::FromRaw(cur.key());
      if (!digest.ok()) return Damaged("a snapshot key", digest.status());
      snapshots_[SnapshotId(*digest)];
    }
    CAIRN_RETURN_IF_ERROR(cur.status());
    Cursor log = db_.NewCursor(Table::kSnapshotLog);
    for (log.SeekToFirst(); log.Valid(); log.Next()) {
      auto entry = DecodeSnapshotLogEntry(log.key(), log.value());
      if (!entry.ok()) return Damaged("the snapshot log", entry.status());
      auto it = snapshots_.find(entry->id);
      if (it == snapshots_.end()) {
        return Damaged(fmt::format("snapshot log entry {}", entry->seq),
                       Status::Corruption(
                           fmt::format("it names snapshot {}, which is missing", entry->id.Hex())));
      }
      it->second.log_key = std::string(log.key());
      it->second.summary = std::move(*entry);
    }
    return log.status();
  }

  void Keep(const SnapshotId& id, GcKeepReason reason) {
    auto it = snapshots_.find(id);
    if (it == snapshots_.end() || it->second.kept) return;  // not here, or kept already
    it->second.kept = reason;
    ++report_.kept;
    ++report_.kept_by[static_cast<size_t>(reason)];
  }

  // The root set: every snapshot gc keeps, each with the first reason that holds. This is
  // the only place that decides what is kept; a feature that needs snapshots kept adds its
  // roots here (team mode needs none of its own: a pull imports the remote's deployment
  // chains into the local ones, so what was live there is live history here).
  Status GcRoots() {
    // 1. Ever live on any deployment: every rollback and --to target.
    Cursor live = db_.NewCursor(Table::kLiveHistory);
    for (live.SeekToFirst(); live.Valid(); live.Next()) {
      if (live.key().size() < Digest::kSize) {
        return Damaged("a live-history key",
                       Status::Corruption("it is shorter than a snapshot id"));
      }
      auto d = Digest::FromRaw(live.key().substr(live.key().size() - Digest::kSize));
      if (!d.ok()) return Damaged("a live-history key", d.status());
      Keep(SnapshotId(*d), GcKeepReason::kLive);
    }
    CAIRN_RETURN_IF_ERROR(live.status());
    CAIRN_ASSIGN_OR_RETURN(auto deployments, ListDeployments(store_));
    for (const auto& d : deployments) Keep(d.live, GcKeepReason::kLive);

    // 2. A valid signature or attestation by a key trusted now (an untrusted, revoked or
    // bad one pins nothing).
    CAIRN_ASSIGN_OR_RETURN(TrustState trust, TrustState::Load(store_));
    std::set<SnapshotId> with_evidence;
    for (Table table : {Table::kSignatures, Table::kAttestations}) {
      Cursor cur = db_.NewCursor(table);
      for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
        auto d = Digest::FromRaw(cur.key().substr(0, Digest::kSize));
        if (!d.ok()) return Damaged(fmt::format("a {} key", TableName(table)), d.status());
        with_evidence.insert(SnapshotId(*d));
      }
      CAIRN_RETURN_IF_ERROR(cur.status());
    }
    for (const SnapshotId& id : with_evidence) {
      auto it = snapshots_.find(id);
      if (it == snapshots_.end() || it->second.kept) continue;
      CAIRN_ASSIGN_OR_RETURN(auto sigs, CheckSnapshotSignatures(store_, id, trust));
      bool valid = std::any_of(sigs.begin(), sigs.end(), [](const SignatureCheck& c) {
        return c.status == SignatureStatus::kValid;
      });
      if (!valid) {
        CAIRN_ASSIGN_OR_RETURN(auto atts, CheckAttestations(store_, id, trust));
        valid = std::any_of(atts.begin(), atts.end(), [](const AttestationCheck& c) {
          return c.status == SignatureStatus::kValid;
        });
      }
      if (valid) Keep(id, GcKeepReason::kEvidence);
    }

    // 3. Arrived within the grace period, by this store's clock (not the snapshot's own
    // `created`: a pulled snapshot may be old and new here). A snapshot whose arrival was
    // never recorded counts as arriving now.
    for (auto& [id, entry] : snapshots_) {
      const auto& arrived = entry.summary ? entry.summary->arrived_micros : std::nullopt;
      if (!arrived) {
        if (entry.summary) ++report_.arrival_recorded;
        Keep(id, GcKeepReason::kRecent);
      } else if (*arrived > now_ - options_.grace_micros) {
        Keep(id, GcKeepReason::kRecent);
      }
    }

    // 4. The newest snapshot of each app: the next create names it as its parent.
    const std::string app_heads = keys::AppHead("");
    Cursor meta = db_.NewCursor(Table::kMeta);
    for (meta.Seek(app_heads); meta.Valid() && meta.key().starts_with(app_heads); meta.Next()) {
      auto d = Digest::FromRaw(meta.value());
      if (!d.ok()) return Damaged(std::string(meta.key()), d.status());
      Keep(SnapshotId(*d), GcKeepReason::kAppHead);
    }
    CAIRN_RETURN_IF_ERROR(meta.status());

    // 5. Reported by a serving host within the receipt window: it may be serving it now.
    auto receipts = ReadReceipts(store_.path());
    if (!receipts.ok()) return Damaged(kReceiptsFileName, receipts.status());
    for (const Receipt& r : *receipts) {
      if (r.received_micros > now_ - options_.receipt_window_micros) {
        Keep(r.snapshot, GcKeepReason::kServed);
      }
    }
    Tick("marking", report_.kept, snapshots_.size());
    return Status::OK();
  }

  // Adds `digest` to `set`, and the chunks its record lists when it is a chunk list. A kept
  // snapshot naming a missing object is damage: gc stops.
  Status MarkObject(const Digest& digest, DigestSet* set, const std::string& named_by,
                    bool must_exist) {
    if (!set->insert(digest).second) return Status::OK();
    CAIRN_ASSIGN_OR_RETURN(auto meta, db_.Get(Table::kObjectMeta, ObjectKey(digest)));
    if (!meta) {
      if (!must_exist) return Status::OK();
      return Damaged(named_by, Status::Corruption(fmt::format("object {} it names is missing",
                                                              digest.ToString())));
    }
    auto info = DecodeObjectMeta(digest, *meta);
    if (!info.ok()) return Damaged("object " + digest.ToString(), info.status());
    if (info->encoding != ObjectEncoding::kChunked) return Status::OK();
    CAIRN_ASSIGN_OR_RETURN(auto value, db_.Get(Table::kObjects, ObjectKey(digest)));
    if (!value) {
      if (!must_exist) return Status::OK();
      return Damaged("object " + digest.ToString(), Status::Corruption("its record is missing"));
    }
    auto record = DecodeObjectRecord(digest, *value);
    if (!record.ok()) return Damaged("object " + digest.ToString(), record.status());
    for (const Digest& c : record->chunks) set->insert(c);
    return Status::OK();
  }

  // What a snapshot names: its components, and the objects its attestations link.
  Status MarkSnapshotObjects(const SnapshotId& id, DigestSet* set, bool must_exist) {
    const std::string what = "snapshot " + id.Hex();
    auto snapshot = LoadSnapshot(store_, id);
    if (!snapshot.ok()) return Damaged(what, snapshot.status());
    for (const Component& c : snapshot->components) {
      CAIRN_RETURN_IF_ERROR(MarkObject(c.digest, set, what, must_exist));
    }
    const std::string prefix = AttestationPrefix(id);
    Cursor cur = db_.NewCursor(Table::kAttestations);
    for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
      auto a = DecodeAttestationRecord(cur.key(), cur.value());
      if (!a.ok()) return Damaged("an attestation of " + what, a.status());
      for (const auto& [kind, digest] : a->statement.LinkedObjects()) {
        CAIRN_RETURN_IF_ERROR(MarkObject(digest, set, "an attestation of " + what, must_exist));
      }
    }
    return cur.status();
  }

  Status MarkKeptObjects() {
    for (const auto& [id, entry] : snapshots_) {
      if (entry.kept) CAIRN_RETURN_IF_ERROR(MarkSnapshotObjects(id, &reachable_, true));
    }
    return Status::OK();
  }

  // Every listed object no kept snapshot reaches. Those that no deleted snapshot names
  // either were left by interrupted creates and pulls.
  Status FindDoomedObjects() {
    DigestSet named_by_deleted;
    for (const auto& [id, entry] : snapshots_) {
      if (entry.kept) continue;
      CAIRN_RETURN_IF_ERROR(MarkSnapshotObjects(id, &named_by_deleted, false));
      const SnapshotSummary& s = *entry.summary;  // a snapshot without one is kept
      report_.deleted.push_back({id, s.app, s.message, s.created_micros, s.arrived_micros});
    }
    Cursor cur = db_.NewCursor(Table::kObjectMeta);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      auto digest = Digest::FromRaw(cur.key());
      if (!digest.ok()) return Damaged("an object_meta key", digest.status());
      if (reachable_.contains(*digest)) continue;
      auto info = DecodeObjectMeta(*digest, cur.value());
      if (!info.ok()) return Damaged("object " + digest->ToString(), info.status());
      doomed_.push_back({*digest, info->encoding == ObjectEncoding::kChunked, info->stored_bytes});
      ++report_.objects;
      report_.object_bytes += info->stored_bytes;
      if (!named_by_deleted.contains(*digest)) ++report_.unreferenced_objects;
    }
    CAIRN_RETURN_IF_ERROR(cur.status());
    // Chunk lists go first (see the top of the file).
    std::stable_partition(doomed_.begin(), doomed_.end(),
                          [](const DoomedObject& o) { return o.chunked; });
    std::sort(report_.deleted.begin(), report_.deleted.end(),
              [](const GcSnapshot& a, const GcSnapshot& b) {
                return a.created_micros != b.created_micros ? a.created_micros < b.created_micros
                                                            : a.id < b.id;
              });
    return FindStaleCacheEntries();
  }

  // Stat-cache entries naming an object that is not kept: those about to be deleted, and
  // any naming an object already gone. The digest is the value's last 32 bytes (a file's
  // entry) or the whole value (a git blob's).
  Status FindStaleCacheEntries() {
    Cursor cur = db_.NewCursor(Table::kStatCache);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      std::string_view v = cur.value();
      bool kept = false;
      if (v.size() >= Digest::kSize) {
        auto d = Digest::FromRaw(v.substr(v.size() - Digest::kSize));
        kept = d.ok() && reachable_.contains(*d);
      }
      if (!kept) stale_cache_.emplace_back(cur.key());
    }
    report_.stat_cache_entries = stale_cache_.size();
    return cur.status();
  }

  // Step 1: one synced batch.
  Status DeleteRecords() {
    Batch batch(db_);
    for (const GcSnapshot& s : report_.deleted) {
      const SnapshotEntry& entry = snapshots_.at(s.id);
      batch.Delete(Table::kSnapshots, SnapshotKey(s.id));
      batch.Delete(Table::kSnapshotLog, *entry.log_key);
      batch.Delete(Table::kContentIndex, ContentIndexKey(entry.summary->content, s.id));
      for (Table table : {Table::kSignatures, Table::kAttestations}) {
        const std::string prefix =
            table == Table::kSignatures ? SignaturePrefix(s.id) : AttestationPrefix(s.id);
        Cursor cur = db_.NewCursor(table);
        for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
          batch.Delete(table, cur.key());
          ++(table == Table::kSignatures ? report_.signatures : report_.attestations);
        }
        CAIRN_RETURN_IF_ERROR(cur.status());
      }
    }
    for (const std::string& key : stale_cache_) batch.Delete(Table::kStatCache, key);
    for (auto& [id, entry] : snapshots_) {
      if (!entry.summary || entry.summary->arrived_micros) continue;
      SnapshotSummary stamped = *entry.summary;
      stamped.arrived_micros = now_;
      batch.Put(Table::kSnapshotLog, *entry.log_key, EncodeSnapshotLogValue(stamped));
    }
    if (batch.Count() == 0) return Status::OK();
    return db_.Write(batch, /*sync=*/true);
  }

  // Step 2: the objects, chunk lists first, in bounded synced batches.
  Status DeleteObjects() {
    Batch batch(db_);
    uint64_t done = 0;
    for (const DoomedObject& o : doomed_) {
      batch.Delete(Table::kObjects, ObjectKey(o.digest));
      batch.Delete(Table::kObjectMeta, ObjectKey(o.digest));
      ++done;
      if (batch.Count() >= 2 * kObjectBatchKeys) {
        CAIRN_RETURN_IF_ERROR(db_.Write(batch, /*sync=*/true));
        batch.Clear();
        Tick("deleting", done, doomed_.size());
      }
    }
    if (batch.Count() > 0) CAIRN_RETURN_IF_ERROR(db_.Write(batch, /*sync=*/true));
    return Status::OK();
  }

  void Tick(const char* phase, uint64_t done, uint64_t total) {
    if (options_.progress) options_.progress->Update(ProgressUpdate{phase, done, total, 0, 0});
  }

  Store& store_;
  Db& db_;
  const GcOptions& options_;
  const int64_t now_;
  const std::string db_path_;
  GcReport report_;
  std::map<SnapshotId, SnapshotEntry> snapshots_;
  DigestSet reachable_;
  std::vector<DoomedObject> doomed_;
  std::vector<std::string> stale_cache_;
};

}  // namespace

Result<GcReport> CollectGarbage(Store& store, const GcOptions& options) {
  return Collector(store, options).Run();
}

}  // namespace cairn
