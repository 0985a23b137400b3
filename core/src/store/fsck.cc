#include "cairn/fsck.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "cairn/object.h"
#include "cairn/snapshot.h"
#include "port/zstd_codec.h"
#include "snapshot/snapshot_records.h"
#include "store/object_codec.h"
#include "store/store_internal.h"
#include "trust/attestation_records.h"
#include "trust/signature_records.h"

namespace cairn {
namespace {

class Checker {
 public:
  Checker(const Store& store, ProgressSink* progress)
      : store_(store), db_(StoreInternal::db(store)), progress_(progress) {}

  Result<FsckReport> Run() {
    CAIRN_RETURN_IF_ERROR(CheckFiles());
    // A damaged block stops a pass where it is read; the other passes still run.
    for (Status (Checker::*pass)() :
         {&Checker::CheckObjects, &Checker::CheckObjectMeta, &Checker::CheckSnapshots,
          &Checker::CheckSnapshotLog, &Checker::CheckSignatures, &Checker::CheckAttestations}) {
      Status s = (this->*pass)();
      if (s.IsCorruption()) {
        Problem("database", s.message());
      } else if (!s.ok()) {
        return s;
      }
    }
    for (const auto& [digest, size] : records_) {
      if (!chunk_of_.contains(digest) && !referenced_.contains(digest)) {
        ++report_.unreferenced_objects;
      }
    }
    if (progress_) progress_->Finish();
    return std::move(report_);
  }

 private:
  void Problem(std::string what, std::string message) {
    report_.problems.push_back({std::move(what), std::move(message)});
  }

  // Every table and blob file, whole: block checksums and file checksums.
  Status CheckFiles() {
    CAIRN_ASSIGN_OR_RETURN(auto damaged, db_.VerifyFiles());
    for (const auto& d : damaged) {
      Problem(d.file.empty() ? "database file" : "file " + d.file, d.message);
    }
    return Status::OK();
  }

  // Every record: decodes, inline bytes hash to the key; chunk lists are checked whole by
  // streaming (which verifies each chunk as well). Records are remembered with their size
  // for the meta and snapshot checks.
  Status CheckObjects() {
    Decompressor dec;
    std::string bytes;
    Cursor cur = db_.NewCursor(Table::kObjects);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      ++report_.objects;
      auto digest = Digest::FromRaw(cur.key());
      if (!digest.ok()) {
        Problem("object key", digest.status().message());
        continue;
      }
      std::string what = "object " + digest->ToString();
      auto record = DecodeObjectRecord(*digest, cur.value());
      if (!record.ok()) {
        Problem(what, record.status().message());
        continue;
      }
      records_[*digest] = record->size;
      if (record->encoding == ObjectEncoding::kChunked) {
        for (const auto& c : record->chunks) chunk_of_.insert(c);
        Status s = StreamObject(store_, *digest, [](std::string_view) { return Status::OK(); });
        if (!s.ok()) Problem(what, s.message());
      } else {
        Status s = InlineObjectBytes(*digest, *record, dec, &bytes);
        if (!s.ok()) Problem(what, s.message());
      }
      report_.bytes_checked += record->size;
      Tick("objects", report_.objects);
    }
    return cur.status();
  }

  // object_meta must describe exactly the records present. A record without meta is
  // harmless (an interrupted write; it is rewritten when needed); meta without a record
  // would make a new snapshot skip writing the object, so it is a problem.
  Status CheckObjectMeta() {
    Cursor cur = db_.NewCursor(Table::kObjectMeta);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      auto digest = Digest::FromRaw(cur.key());
      if (!digest.ok()) {
        Problem("object meta key", digest.status().message());
        continue;
      }
      std::string what = "object " + digest->ToString();
      auto info = DecodeObjectMeta(*digest, cur.value());
      auto record = records_.find(*digest);
      if (!info.ok()) {
        Problem(what, info.status().message());
      } else if (record == records_.end()) {
        Problem(what, "is listed in object_meta but has no record");
      } else if (record->second != info->size) {
        Problem(what, fmt::format("object_meta says {} bytes, the record holds {}", info->size,
                                  record->second));
      }
    }
    return cur.status();
  }

  Status CheckSnapshots() {
    Cursor cur = db_.NewCursor(Table::kSnapshots);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      ++report_.snapshots;
      auto digest = Digest::FromRaw(cur.key());
      if (!digest.ok()) {
        Problem("snapshot key", digest.status().message());
        continue;
      }
      SnapshotId id(*digest);
      std::string what = "snapshot " + id.Hex();
      if (Digest::Of(cur.value()) != *digest) {
        Problem(what, "its manifest hashes to a different id");
        continue;
      }
      auto snapshot = SnapshotFromManifest(id, cur.value());
      if (!snapshot.ok()) {
        Problem(what, snapshot.status().message());
        continue;
      }
      for (const auto& c : snapshot->components) {
        referenced_.insert(c.digest);
        auto record = records_.find(c.digest);
        if (record == records_.end()) {
          Problem(what, fmt::format("component {} references object {}, which is missing", c.path,
                                    c.digest.ToString()));
        } else if (record->second != c.size) {
          Problem(what, fmt::format("component {} says {} bytes but object {} has {}", c.path,
                                    c.size, c.digest.ToString(), record->second));
        }
      }
      snapshot_ids_.insert(id);
      Tick("snapshots", report_.snapshots);
    }
    return cur.status();
  }

  // Every entry names a snapshot the store holds, and every snapshot has an entry (one
  // without is in the store but in no list: `snapshot list`, gc's newest of an app).
  Status CheckSnapshotLog() {
    std::set<SnapshotId> logged;
    Cursor cur = db_.NewCursor(Table::kSnapshotLog);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      auto entry = DecodeSnapshotLogEntry(cur.key(), cur.value());
      if (!entry.ok()) {
        Problem("snapshot log", entry.status().message());
        continue;
      }
      logged.insert(entry->id);
      if (!snapshot_ids_.contains(entry->id)) {
        Problem("snapshot log", fmt::format("entry {} names snapshot {}, which is missing",
                                            entry->seq, entry->id.Hex()));
      }
    }
    CAIRN_RETURN_IF_ERROR(cur.status());
    for (const SnapshotId& id : snapshot_ids_) {
      if (!logged.contains(id)) {
        Problem("snapshot " + id.Hex(), "has no entry in the snapshot log, so no list shows it");
      }
    }
    return Status::OK();
  }

  // Signature records: readable, and about a snapshot the store holds. Whether a signature
  // verifies is `cairn verify`'s question (it needs the trust list).
  Status CheckSignatures() {
    Cursor cur = db_.NewCursor(Table::kSignatures);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      auto record = DecodeSignatureRecord(cur.key(), cur.value());
      if (!record.ok()) {
        Problem("signature record", record.status().message());
      } else if (!snapshot_ids_.contains(record->snapshot)) {
        Problem("signature record",
                fmt::format("signature by {} is about snapshot {}, which is missing",
                            record->key_id.Short(), record->snapshot.Hex()));
      }
    }
    return cur.status();
  }

  // Attestation records: readable, about a snapshot the store holds, and their report
  // object present (reports are referenced objects: gc must keep them).
  Status CheckAttestations() {
    Cursor cur = db_.NewCursor(Table::kAttestations);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      auto record = DecodeAttestationRecord(cur.key(), cur.value());
      if (!record.ok()) {
        Problem("attestation record", record.status().message());
        continue;
      }
      std::string what = "attestation " + record->id.Hex().substr(0, 12);
      auto snapshot = Digest::FromRaw(cur.key().substr(0, Digest::kSize));
      if (!snapshot.ok() || !snapshot_ids_.contains(SnapshotId(*snapshot))) {
        Problem(what, "it is stored under a snapshot the store does not hold");
      }
      for (const auto& [kind, digest] : record->statement.LinkedObjects()) {
        referenced_.insert(digest);
        if (!records_.contains(digest)) {
          Problem(what, fmt::format("its {} {} is missing", kind, digest.ToString()));
        }
      }
    }
    return cur.status();
  }

  void Tick(const char* phase, uint64_t done) {
    if (progress_ && done % 256 == 0) {
      progress_->Update(ProgressUpdate{phase, done, 0, report_.bytes_checked, 0});
    }
  }

  const Store& store_;
  const Db& db_;
  ProgressSink* progress_;
  FsckReport report_;
  std::map<Digest, uint64_t> records_;  // every record's digest and size
  std::set<Digest> chunk_of_, referenced_;
  std::set<SnapshotId> snapshot_ids_;
};

}  // namespace

Result<FsckReport> Fsck(const Store& store, ProgressSink* progress) {
  return Checker(store, progress).Run();
}

}  // namespace cairn
