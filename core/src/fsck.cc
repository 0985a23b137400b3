#include "cairn/fsck.h"

#include <fmt/format.h>

#include <set>

#include "cairn/object.h"
#include "cairn/snapshot.h"
#include "object_codec.h"
#include "snapshot_records.h"
#include "store_internal.h"
#include "zstd_codec.h"

namespace cairn {
namespace {

class Checker {
 public:
  Checker(const Store& store, ProgressSink* progress)
      : store_(store), db_(StoreInternal::db(store)), progress_(progress) {}

  Result<FsckReport> Run() {
    CAIRN_RETURN_IF_ERROR(CheckObjects());
    CAIRN_RETURN_IF_ERROR(CheckSnapshots());
    CAIRN_RETURN_IF_ERROR(CheckSnapshotLog());
    for (const auto& d : top_level_) {
      if (!referenced_.contains(d)) ++report_.unreferenced_objects;
    }
    if (progress_) progress_->Finish();
    return std::move(report_);
  }

 private:
  void Problem(std::string what, std::string message) {
    report_.problems.push_back({std::move(what), std::move(message)});
  }

  // Every record: decodes, inline bytes hash to the key; chunk lists are checked whole by
  // streaming (which verifies each chunk as well).
  Status CheckObjects() {
    Decompressor dec;
    std::string bytes;
    Cursor cur = db_.NewCursor(Cf::kObjects);
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
      if (record->encoding == ObjectEncoding::kChunked) {
        top_level_.insert(*digest);
        for (const auto& c : record->chunks) chunk_of_.insert(c);
        Status s = StreamObject(store_, *digest, [](std::string_view) { return Status::OK(); });
        if (!s.ok()) Problem(what, s.message());
      } else {
        Status s = InlineObjectBytes(*digest, *record, dec, &bytes);
        if (!s.ok()) Problem(what, s.message());
        if (!chunk_of_.contains(*digest)) top_level_.insert(*digest);
      }
      report_.bytes_checked += record->size;
      Tick("objects", report_.objects);
    }
    // Chunks seen before their list was reached are not top-level objects.
    for (const auto& c : chunk_of_) top_level_.erase(c);
    return cur.status();
  }

  Status CheckSnapshots() {
    Cursor cur = db_.NewCursor(Cf::kSnapshots);
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
        auto info = StatObject(store_, c.digest);
        if (!info.ok()) {
          Problem(what, fmt::format("component {} references object {}: {}", c.path,
                                    c.digest.ToString(), info.status().message()));
        } else if (info->size != c.size) {
          Problem(what, fmt::format("component {} says {} bytes but object {} has {}", c.path,
                                    c.size, c.digest.ToString(), info->size));
        }
      }
      snapshot_ids_.insert(id);
      Tick("snapshots", report_.snapshots);
    }
    return cur.status();
  }

  Status CheckSnapshotLog() {
    Cursor cur = db_.NewCursor(Cf::kSnapshotLog);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      auto entry = DecodeSnapshotLogEntry(cur.key(), cur.value());
      if (!entry.ok()) {
        Problem("snapshot log", entry.status().message());
      } else if (!snapshot_ids_.contains(entry->id)) {
        Problem("snapshot log", fmt::format("entry {} names snapshot {}, which is missing",
                                            entry->seq, entry->id.Hex()));
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
  std::set<Digest> top_level_, chunk_of_, referenced_;
  std::set<SnapshotId> snapshot_ids_;
};

}  // namespace

Result<FsckReport> Fsck(const Store& store, ProgressSink* progress) {
  return Checker(store, progress).Run();
}

}  // namespace cairn
