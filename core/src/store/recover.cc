#include "cairn/recover.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "cairn/audit.h"
#include "cairn/deployment.h"
#include "cairn/fsck.h"
#include "cairn/snapshot.h"
#include "cairn/store.h"
#include "port/rocks.h"
#include "store/ack_record.h"
#include "store/salvage.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "store/table_copy.h"
#include "util/crash_point.h"
#include "util/fs_util.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxListed = 1000;  // lost records listed one by one; then a count

class Recovery {
 public:
  Recovery(std::string from, std::string into) {
    report_.from = std::move(from);
    report_.into = into;
    into_ = std::move(into);
  }

  Result<RecoverReport> Run() {
    const Schema& schema = Schema::Format2();
    std::string db_dir = report_.from + "/" + schema.db_dir();
    std::error_code ec;
    if (!fs::is_regular_file(db_dir + "/CURRENT", ec)) {
      return Status::NotFound(
          fmt::format("no format-2 database in {} (recover reads {}/CURRENT and what it names)",
                      report_.from, db_dir));
    }
    CAIRN_RETURN_IF_ERROR(CheckPlaces());
    CAIRN_RETURN_IF_ERROR(PrepareWorkDir());
    ReadAcknowledged(db_dir);

    DbOpenOptions o;
    o.read_only = true;
    o.recovery = DbOpenOptions::LogRecovery::kPointInTime;
    auto intact = Db::Open(db_dir, schema, o);
    if (!intact.ok()) {
      return Status::Corruption(
          fmt::format("nothing of {} can be read, so nothing was recovered: {}", report_.from,
                      intact.status().message()));
    }
    report_.reached = (*intact)->LatestSequence();
    if (report_.acknowledged > report_.reached) {
      Lost("writes", fmt::format("writes {} to {} were acknowledged, but the log is damaged before "
                                 "them",
                                 report_.reached + 1, report_.acknowledged));
    }
    // Damaged table or blob files: RocksDB's merged view would stop at the first damaged
    // block of any file, so the records are salvaged file by file instead (store/salvage.h).
    CAIRN_ASSIGN_OR_RETURN(auto damaged_files, (*intact)->VerifyFiles());
    if (damaged_files.empty()) {
      CAIRN_RETURN_IF_ERROR(CopyInto(**intact));
    } else {
      CAIRN_RETURN_IF_ERROR(SalvageInto(**intact, damaged_files));
    }
    CAIRN_RETURN_IF_ERROR(CopyHooks());
    size_t before = report_.lost.size();
    ListReadableBeyondDamage(db_dir, **intact);
    if (report_.lost.size() > before && report_.acknowledged > report_.reached) {
      report_.lost.front().detail += "; what is still readable of them is listed below";
    }
    (*intact)->Close().PermitUnchecked();  // read-only: nothing to lose
    CAIRN_ASSIGN_OR_RETURN(RecoverReport report, CheckCopy());
    CAIRN_CRASH_POINT("recover.copied");
    CAIRN_RETURN_IF_ERROR(MoveIntoPlace());
    return report;
  }

 private:
  void Lost(std::string what, std::string detail) {
    if (report_.lost.size() < kMaxListed) {
      report_.lost.push_back({std::move(what), std::move(detail)});
    } else {
      ++unlisted_;
    }
  }

  // The copy is built and checked under DIR/.cairn-recover-<pid> and renamed to DIR/.cairn
  // only when complete, so a recover that is killed leaves no store that looks recovered
  // but holds part of the data. Leftovers of killed runs (their process gone) are removed.
  Status PrepareWorkDir() {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(report_.into, ec)) &&
        (!fs::is_directory(fs::symlink_status(report_.into, ec)) ||
         !fs::is_empty(report_.into, ec))) {
      return Status::Conflict(
          fmt::format("{} already exists and is not an empty directory", report_.into));
    }
    const fs::path parent = fs::path(report_.into).parent_path();
    constexpr std::string_view kPrefix = ".cairn-recover-";
    for (auto it = fs::directory_iterator(parent, ec); !ec && it != fs::end(it); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (!name.starts_with(kPrefix)) continue;
      long pid = std::strtol(name.c_str() + kPrefix.size(), nullptr, 10);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        RemoveTreeQuietly(it->path().string());
      }
    }
    work_ = fmt::format("{}/{}{}", parent.string(), kPrefix, ::getpid());
    RemoveTreeQuietly(work_);
    return Status::OK();
  }

  // One rename(2) makes the checked copy the store; then the directory holding it is fsynced.
  Status MoveIntoPlace() {
    std::error_code ec;
    fs::remove(into_, ec);  // an empty directory, if any (PrepareWorkDir checked)
    if (Env::Default().RenameAt(AT_FDCWD, work_.c_str(), AT_FDCWD, into_.c_str()) != 0) {
      return Status::IO(fmt::format("rename {} to {}: {}", work_, into_, std::strerror(errno)));
    }
    return FsyncDir(Env::Default(), fs::path(into_).parent_path().string());
  }

  // The new store must not be inside the damaged one (a copy there would be a write to it).
  Status CheckPlaces() {
    std::error_code ec;
    fs::path from = fs::weakly_canonical(report_.from, ec);
    fs::path into = fs::weakly_canonical(report_.into, ec);
    auto [f, i] = std::mismatch(from.begin(), from.end(), into.begin(), into.end());
    if (f == from.end()) {
      return Status::Usage(fmt::format(
          "{} is inside the damaged store {}: recover never writes there; choose a directory "
          "outside it",
          report_.into, report_.from));
    }
    return Status::OK();
  }

  void ReadAcknowledged(const std::string& db_dir) {
    auto ack = ReadAckRecord(db_dir);
    if (!ack.ok()) {
      Lost(kAckFileName,
           ack.status().message() + "; how many acknowledged writes were lost is not known");
    } else {
      ack_known_ = true;
      if (*ack) report_.acknowledged = (*ack)->position.sequence;
    }
  }

  // Every readable record of the intact state, table by table, into the new store (a bulk
  // load, flushed and fsynced by Close), then read back and compared.
  Status CopyInto(const Db& from) {
    CAIRN_ASSIGN_OR_RETURN(auto created, Store::Init(work_));
    CAIRN_RETURN_IF_ERROR(created->Close());
    std::vector<TableDigest> written;
    {
      StoreOpenOptions o;
      o.read_only = false;
      o.sync_each_write = false;
      CAIRN_ASSIGN_OR_RETURN(auto store, Store::Open(work_, o));
      Db& to = StoreInternal::db(*store);
      // The new store's own meta records (format version, ...) stay unless copied over;
      // the copy is proven against both.
      std::map<std::string, std::string> meta;
      {
        Cursor own = to.NewCursor(Table::kMeta);  // gone before the store closes
        for (own.SeekToFirst(); own.Valid(); own.Next()) meta[std::string(own.key())] = own.value();
        CAIRN_RETURN_IF_ERROR(own.status());
      }
      auto note_meta = [&meta](std::string& key, std::string& value) { meta[key] = value; };
      Batch batch(to);
      for (size_t t = 0; t < static_cast<size_t>(Table::kCount); ++t) {
        Table table = static_cast<Table>(t);
        TableDigest td;
        std::string last;
        Status s =
            CopyTable(from, table, to, batch,
                      table == Table::kMeta ? std::function(note_meta) : nullptr, &td, &last);
        if (table == Table::kMeta) {
          Sha256 h;
          for (const auto& [key, value] : meta) HashRecord(h, key, value);
          td.records = meta.size();
          td.digest = h.Finish();
        }
        if (s.IsCorruption()) {
          auto last_name = last.empty() ? std::nullopt : RecordName(table, last);
          Lost(fmt::format("table {}", TableName(table)),
               fmt::format("unreadable after {} records{}: {}", td.records,
                           last_name ? " (the last one " + *last_name + ")" : std::string(),
                           s.message()));
        } else if (!s.ok()) {
          return s;
        }
        report_.records += td.records;
        written.push_back(td);
      }
      CAIRN_RETURN_IF_ERROR(to.Write(batch, /*sync=*/false, /*no_wal=*/true));
      CAIRN_RETURN_IF_ERROR(store->Close());
    }
    StoreOpenOptions ro;
    CAIRN_ASSIGN_OR_RETURN(auto check, Store::Open(work_, ro));
    return VerifyTables(StoreInternal::db(*check), written, "the recovered copy");
  }

  // A bulk load of what Salvage finds, made durable by Close. The copy is proven by the
  // checks that follow (fsck, audit verify), not against the damaged store's tables.
  Status SalvageInto(const Db& from, const std::vector<DamagedFile>& damaged) {
    CAIRN_ASSIGN_OR_RETURN(auto created, Store::Init(work_));
    CAIRN_RETURN_IF_ERROR(created->Close());
    StoreOpenOptions o;
    o.read_only = false;
    o.sync_each_write = false;
    CAIRN_ASSIGN_OR_RETURN(auto store, Store::Open(work_, o));
    uint64_t records = 0;
    CAIRN_RETURN_IF_ERROR(Salvage(
        from, damaged, *store,
        [this](std::string what, std::string detail) { Lost(std::move(what), std::move(detail)); },
        &records));
    report_.records += records;
    return store->Close();
  }

  // The store's hooks (its gates) travel with it: every file under hooks/, with its mode,
  // each fsynced, then the directories. A symlink is re-created as the same symlink.
  Status CopyHooks() {
    std::error_code ec;
    const fs::path from = fs::path(report_.from) / "hooks";
    if (!fs::is_directory(from, ec)) return Status::OK();
    std::vector<std::string> dirs = {work_ + "/hooks"};
    for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      const fs::path rel = fs::relative(it->path(), from, ec);
      const std::string to = work_ + "/hooks/" + rel.string();
      auto st = it->symlink_status(ec);
      if (fs::is_directory(st)) {
        CAIRN_RETURN_IF_ERROR(MakeDir(Env::Default(), to, /*exist_ok=*/true));
        dirs.push_back(to);
      } else if (fs::is_symlink(st)) {
        fs::copy_symlink(it->path(), to, ec);
        if (ec)
          return Status::IO(fmt::format("copy hook {}: {}", it->path().string(), ec.message()));
      } else if (fs::is_regular_file(st)) {
        std::ifstream in(it->path(), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) return Status::IO("read hook " + it->path().string());
        auto mode = static_cast<unsigned>(st.permissions()) & 07777;
        CAIRN_RETURN_IF_ERROR(WriteNewFile(Env::Default(), to, bytes, mode));
      }
    }
    if (ec) return Status::IO(fmt::format("read hooks in {}: {}", from.string(), ec.message()));
    for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) {
      CAIRN_RETURN_IF_ERROR(FsyncDir(Env::Default(), *d));
    }
    return Status::OK();
  }

  // Records an open that skips damaged log records can still read but the intact state
  // lacks: they were written after the damage, so they are not restored (what came before
  // them is lost), but they are named so that they can be redone.
  void ListReadableBeyondDamage(const std::string& db_dir, const Db& intact) {
    if (ack_known_ && report_.acknowledged <= report_.reached) return;
    DbOpenOptions o;
    o.read_only = true;
    o.recovery = DbOpenOptions::LogRecovery::kSkipDamaged;
    auto all = Db::Open(db_dir, Schema::Format2(), o);
    if (!all.ok()) return;
    for (Table table : {Table::kSnapshots, Table::kEvents, Table::kTrust, Table::kPolicy,
                        Table::kSignatures, Table::kAttestations}) {
      Cursor cur = (*all)->NewCursor(table);
      for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
        auto name = RecordName(table, cur.key());
        if (!name) continue;
        auto there = intact.Contains(table, cur.key());
        if (there.ok() && !*there) {
          Lost(*name,
               "readable only beyond the damaged log record: not restored, since what "
               "was written before it is lost");
        }
      }
    }
    (*all)->Close().PermitUnchecked();
  }

  // The new store as a user will see it: fsck, audit verify, and every event's snapshot.
  Result<RecoverReport> CheckCopy() {
    StoreOpenOptions ro;
    CAIRN_ASSIGN_OR_RETURN(auto store, Store::Open(work_, ro));
    CAIRN_ASSIGN_OR_RETURN(FsckReport fsck, Fsck(*store));
    for (const auto& p : fsck.problems) Lost(p.what, "in the recovered store: " + p.message);
    CAIRN_ASSIGN_OR_RETURN(AuditReport audit, AuditVerify(*store));
    for (const auto& p : audit.problems) Lost("audit", "in the recovered store: " + p.message);
    CAIRN_ASSIGN_OR_RETURN(auto deployments, ListDeployments(*store));
    for (const auto& d : deployments) {
      CAIRN_ASSIGN_OR_RETURN(auto events, ReadEvents(*store, d.name));
      for (const auto& e : events) {
        auto snapshot = LoadSnapshot(*store, e.to);
        if (!snapshot.ok()) {
          Lost(fmt::format("{} event #{}", std::string_view(d.name), e.seq),
               fmt::format("names snapshot {}, which could not be recovered", e.to.Hex()));
        }
      }
    }
    if (unlisted_ > 0) {
      report_.lost.push_back({"more", fmt::format("{} more lost records not listed", unlisted_)});
    }
    return std::move(report_);
  }

  RecoverReport report_;
  std::string into_;  // DIR/.cairn (report_.into, which CheckCopy moves out)
  std::string work_;  // where the copy is built (PrepareWorkDir)
  bool ack_known_ = false;
  uint64_t unlisted_ = 0;
};

}  // namespace

Result<RecoverReport> Recover(const std::string& from, const std::string& into) {
  return Recovery(from, into).Run();
}

}  // namespace cairn
