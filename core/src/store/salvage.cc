#include "store/salvage.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "cairn/attestation.h"
#include "cairn/object.h"
#include "cairn/snapshot.h"
#include "chain/hash_chain.h"
#include "deploy/deployment_records.h"
#include "policy/policy_records.h"
#include "snapshot/snapshot_records.h"
#include "store/object_codec.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "store/table_copy.h"
#include "trust/attestation_records.h"
#include "trust/signature_records.h"
#include "trust/trust_records.h"

namespace cairn {
namespace {

// The tables whose records are copied as they are; every other record is rebuilt (or, for
// the stat cache, dropped). Trust and policy records are copied only as chain events.
bool CopiedAsIs(Table table, std::string_view key) {
  switch (table) {
    case Table::kMeta:
    case Table::kSnapshots:
    case Table::kSnapshotLog:
    case Table::kContentIndex:
    case Table::kObjectMeta:
    case Table::kEvents:
    case Table::kSignatures:
    case Table::kAttestations:
      return true;
    case Table::kTrust:
      return key.starts_with(kTrustEventPrefix);
    case Table::kPolicy:
      return key.starts_with(kPolicyEventPrefix);
    default:
      return false;
  }
}

std::string ShortHex(std::string_view raw) {
  auto d = Digest::FromRaw(raw.substr(0, std::min<size_t>(raw.size(), Digest::kSize)));
  return d.ok() ? d->Hex() : std::string("(unreadable key)");
}

// What a lost record is called in the list, also for tables whose records have no name.
std::string NameOf(Table table, std::string_view key) {
  return RecordName(table, key).value_or(fmt::format("a record of table {}", TableName(table)));
}

class Salvager {
 public:
  Salvager(const Db& from, const std::vector<DamagedFile>& known, Store& to, const LostFn& lost)
      : from_(from),
        known_(known),
        to_store_(to),
        to_(StoreInternal::db(to)),
        lost_(lost),
        batch_(to_) {}

  Status Run(uint64_t* records) {
    CAIRN_RETURN_IF_ERROR(FindKeys());
    CAIRN_RETURN_IF_ERROR(CopyRecords());
    CAIRN_RETURN_IF_ERROR(CopyObjects());
    CAIRN_RETURN_IF_ERROR(KeepVerifiedObjects());
    CAIRN_RETURN_IF_ERROR(KeepCompleteSnapshots());
    CAIRN_RETURN_IF_ERROR(KeepRecordsOfKeptSnapshots());
    CAIRN_RETURN_IF_ERROR(RebuildChains());
    CAIRN_RETURN_IF_ERROR(RebuildMeta());
    CAIRN_RETURN_IF_ERROR(Commit());
    for (const auto& raw : named_snapshots_) {
      if (kept_.contains(raw) || listed_snapshots_.contains(raw)) continue;
      lost_(NameOf(Table::kSnapshots, raw),
            "unreadable: the damaged store's indexes name it, but its manifest was in a damaged "
            "block");
    }
    *records = records_;
    return Status::OK();
  }

 private:
  // ---- finding every key ----

  // Each table file on its own (what a damaged one still holds is remembered with its value,
  // since a lookup of those keys may cross the damage), then what the log replayed.
  Status FindKeys() {
    std::vector<DamagedFile> damaged;
    CAIRN_ASSIGN_OR_RETURN(auto files, from_.LiveTableFiles(&damaged));
    // Each table file's own block check first; then what Db::VerifyFiles found besides: a
    // table file whose blocks all verify but whose whole-file checksum does not (a byte
    // outside every block), and damaged blob files.
    std::map<std::string, std::string> damaged_files;  // name -> what is wrong with it
    for (const auto& d : damaged) damaged_files.emplace(d.file, d.message);
    for (const auto& d : known_) damaged_files.emplace(d.file, d.message);
    for (const auto& f : files) {
      if (f.family != from_.schema().families()[0]) continue;  // objects: found by reference
      auto bad = damaged_files.find(f.name);
      uint64_t read = 0;
      Status s = from_.ReadTableFile(f, [&](Table table, std::string_view key, std::string_view v) {
        ++read;
        Note(table, key, v);
        if (!CopiedAsIs(table, key)) return;
        keys_[table].emplace(key);
        if (bad != damaged_files.end()) fallback_[{table, std::string(key)}] = std::string(v);
      });
      if (!s.ok() && !s.IsCorruption()) return s;
      if (bad == damaged_files.end() && s.ok()) continue;
      std::string why = bad != damaged_files.end() ? bad->second : s.message();
      lost_("file " + f.name,
            read == 0 && !s.ok()
                ? fmt::format("{} is damaged and could not be read at all ({}): every record "
                              "only it held is lost, and only those that pointers and indexes "
                              "elsewhere name are listed",
                              f.name, why)
                : fmt::format("{} is damaged: {}; its intact blocks were read on their own, and "
                              "what only its damaged blocks held is lost",
                              f.name, why));
      damaged_files.erase(f.name);
    }
    for (const auto& [file, why] : damaged_files) {  // blob files, and files of other families
      lost_("file " + file, fmt::format("{} is damaged: {}; each object whose bytes it held was "
                                        "read on its own, and those that failed are listed",
                                        file, why));
    }
    for (size_t t = 0; t < static_cast<size_t>(Table::kCount); ++t) {
      Table table = static_cast<Table>(t);
      Cursor cur = from_.NewMemoryCursor(table);
      for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
        Note(table, cur.key(), cur.value());
        if (CopiedAsIs(table, cur.key())) keys_[table].emplace(cur.key());
      }
      CAIRN_RETURN_IF_ERROR(cur.status());
    }
    return Status::OK();
  }

  // What the damaged store's indexes and pointers say existed: what of it is not restored
  // is listed at the end, so a record lost with a damaged block is named even though its
  // own key is gone with it.
  void Note(Table table, std::string_view key, std::string_view value) {
    auto expect = [](std::map<std::string, uint64_t>& m, std::string_view name, uint64_t seq) {
      uint64_t& v = m[std::string(name)];
      v = std::max(v, seq);
    };
    auto snapshot_at = [&](std::string_view raw) {
      if (raw.size() >= Digest::kSize) named_snapshots_.emplace(raw.substr(0, Digest::kSize));
    };
    const size_t nul = key.find('\0');
    switch (table) {
      case Table::kDeployments: {
        auto e = DecodeEvent(value, "a pointer");
        if (!e.ok()) break;
        expect(expected_events_, key, e->seq);
        snapshot_at(e->to.digest().Raw());
        break;
      }
      case Table::kEventTime:
        if (nul != std::string_view::npos) {
          expect(expected_events_, key.substr(0, nul), SeqOfEventTimeKey(key));
        }
        break;
      case Table::kLiveHistory:
        if (nul != std::string_view::npos) snapshot_at(key.substr(nul + 1));
        break;
      case Table::kSnapshotLog: {
        auto entry = DecodeSnapshotLogEntry(key, value);
        if (entry.ok()) snapshot_at(entry->id.digest().Raw());
        break;
      }
      case Table::kContentIndex:
        if (key.size() >= Digest::kSize) snapshot_at(key.substr(key.size() - Digest::kSize));
        break;
      case Table::kSignatures:
      case Table::kAttestations:
        snapshot_at(key);
        break;
      case Table::kTrust:
        if (key == kTrustHeadKey) {
          auto e = DecodeTrustEvent(value, "the trust head");
          if (e.ok()) expect(expected_chains_, "trust", e->seq);
        }
        break;
      case Table::kPolicy:
        if (key == kPolicyHeadKey) {
          auto e = DecodePolicyEvent(value, "the policy head");
          if (e.ok()) expect(expected_chains_, "policy", e->seq);
        }
        break;
      default:
        break;
    }
  }

  // The newest value of a key: a lookup through the whole database, or, when that lookup
  // crosses damage, the copy a damaged file still holds. nullopt: deleted, or lost (listed).
  Result<std::optional<std::string>> Resolve(Table table, const std::string& key) {
    auto v = from_.Get(table, key);
    if (v.ok()) return std::move(*v);
    if (!v.status().IsCorruption()) return v.status();
    auto fb = fallback_.find({table, key});
    if (fb != fallback_.end()) return std::optional<std::string>(fb->second);
    lost_(NameOf(table, key), "unreadable: " + v.status().message());
    return std::optional<std::string>();
  }

  Status Put(Table table, std::string_view key, std::string_view value) {
    batch_.Put(table, key, value);
    ++records_;
    return batch_.ByteSize() >= kCopyBatchBytes ? Commit() : Status::OK();
  }

  Status Delete(Table table, std::string_view key) {
    batch_.Delete(table, key);
    --records_;
    return batch_.ByteSize() >= kCopyBatchBytes ? Commit() : Status::OK();
  }

  // A bulk load: no log, made durable by the store's Close.
  Status Commit() {
    if (batch_.Count() == 0) return Status::OK();
    CAIRN_RETURN_IF_ERROR(to_.Write(batch_, /*sync=*/false, /*no_wal=*/true));
    batch_.Clear();
    return Status::OK();
  }

  Status CopyRecords() {
    for (const auto& [table, keys] : keys_) {
      if (table == Table::kMeta) continue;  // rebuilt, from what it held (RebuildMeta)
      for (const auto& key : keys) {
        CAIRN_ASSIGN_OR_RETURN(auto value, Resolve(table, key));
        if (value) CAIRN_RETURN_IF_ERROR(Put(table, key, *value));
      }
    }
    return Commit();
  }

  // ---- objects: every one something names, and the chunks of those ----

  Status CopyObjects() {
    std::deque<Digest> queue;
    std::set<Digest> seen;
    auto want = [&](const Digest& d) {
      if (seen.insert(d).second) queue.push_back(d);
    };
    for (const auto& key : keys_[Table::kObjectMeta]) {
      auto d = Digest::FromRaw(key);
      if (d.ok()) want(*d);
    }
    {
      Cursor cur = to_.NewCursor(Table::kSnapshots);
      for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
        auto id = Digest::FromRaw(cur.key());
        if (!id.ok()) continue;
        auto snapshot = SnapshotFromManifest(SnapshotId(*id), cur.value());
        if (!snapshot.ok()) continue;  // judged in KeepCompleteSnapshots
        for (const auto& c : snapshot->components) want(c.digest);
      }
      CAIRN_RETURN_IF_ERROR(cur.status());
    }
    {
      Cursor cur = to_.NewCursor(Table::kAttestations);
      for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
        auto a = DecodeAttestationRecord(cur.key(), cur.value());
        if (!a.ok()) continue;
        for (const auto& [kind, digest] : a->statement.LinkedObjects()) want(digest);
      }
      CAIRN_RETURN_IF_ERROR(cur.status());
    }
    while (!queue.empty()) {
      Digest d = queue.front();
      queue.pop_front();
      auto value = from_.Get(Table::kObjects, ObjectKey(d));
      if (!value.ok()) {
        if (!value.status().IsCorruption()) return value.status();
        lost_("object " + d.ToString(), "unreadable: " + value.status().message());
        continue;
      }
      if (!*value) continue;  // named but never stored: judged with what names it
      auto record = DecodeObjectRecord(d, **value);
      if (record.ok() && record->encoding == ObjectEncoding::kChunked) {
        for (const auto& c : record->chunks) want(c);
      }
      CAIRN_RETURN_IF_ERROR(Put(Table::kObjects, ObjectKey(d), **value));
    }
    return Commit();
  }

  // Every copied object is read back whole and checked against its digest (chunked ones
  // chunk by chunk); one that fails is dropped, and so is object_meta without a record.
  Status KeepVerifiedObjects() {
    std::vector<Digest> bad;
    {
      Cursor cur = to_.NewCursor(Table::kObjects);
      for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
        auto d = Digest::FromRaw(cur.key());
        if (!d.ok()) continue;
        Status s = StreamObject(to_store_, *d, [](std::string_view) { return Status::OK(); });
        if (s.ok()) continue;
        lost_("object " + d->ToString(), "its bytes do not verify: " + s.message());
        bad.push_back(*d);
      }
      CAIRN_RETURN_IF_ERROR(cur.status());
    }
    for (const auto& d : bad) {
      CAIRN_RETURN_IF_ERROR(Delete(Table::kObjects, ObjectKey(d)));
    }
    CAIRN_RETURN_IF_ERROR(Commit());
    std::vector<std::string> orphans;
    Cursor cur = to_.NewCursor(Table::kObjectMeta);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      CAIRN_ASSIGN_OR_RETURN(bool has, to_.Contains(Table::kObjects, cur.key()));
      if (!has) orphans.emplace_back(cur.key());
    }
    CAIRN_RETURN_IF_ERROR(cur.status());
    for (const auto& key : orphans) CAIRN_RETURN_IF_ERROR(Delete(Table::kObjectMeta, key));
    return Commit();
  }

  // A snapshot is kept when its manifest hashes to its id and every object it names is
  // there with the size it says.
  Status KeepCompleteSnapshots() {
    std::vector<std::pair<std::string, std::string>> dropped;  // key, why
    {
      Cursor cur = to_.NewCursor(Table::kSnapshots);
      for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
        auto why = WhyIncomplete(cur.key(), cur.value());
        if (!why.ok()) return why.status();
        if (*why) {
          dropped.emplace_back(cur.key(), **why);
        } else {
          kept_.insert(std::string(cur.key()));
        }
      }
      CAIRN_RETURN_IF_ERROR(cur.status());
    }
    for (const auto& [key, why] : dropped) {
      listed_snapshots_.insert(key);
      lost_(NameOf(Table::kSnapshots, key), why);
      CAIRN_RETURN_IF_ERROR(Delete(Table::kSnapshots, key));
    }
    return Commit();
  }

  Result<std::optional<std::string>> WhyIncomplete(std::string_view key,
                                                   std::string_view manifest) {
    using Why = std::optional<std::string>;
    auto id = Digest::FromRaw(key);
    if (!id.ok() || Digest::Of(manifest) != *id) return Why("its manifest does not hash to its id");
    auto snapshot = SnapshotFromManifest(SnapshotId(*id), manifest);
    if (!snapshot.ok()) return Why(snapshot.status().message());
    for (const auto& c : snapshot->components) {
      auto info = StatObject(to_store_, c.digest);
      if (info.ok() && info->size == c.size) continue;
      if (!info.ok() && !info.status().IsNotFound()) return info.status();
      return Why(
          fmt::format("component {} (object {}) was not recovered", c.path, c.digest.ToString()));
    }
    return Why();
  }

  // Indexes, signatures and attestations of dropped snapshots go with them (they are lost
  // with the snapshot, which is listed); an attestation whose report was lost is listed.
  Status KeepRecordsOfKeptSnapshots() {
    std::vector<std::pair<Table, std::string>> drop;
    std::set<std::string> logged;  // raw ids of kept snapshots with a log entry
    {
      Cursor cur = to_.NewCursor(Table::kSnapshotLog);
      for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
        auto entry = DecodeSnapshotLogEntry(cur.key(), cur.value());
        if (entry.ok()) max_snapshot_seq_ = std::max(max_snapshot_seq_, entry->seq + 1);
        if (entry.ok() && kept_.contains(std::string(entry->id.digest().Raw()))) {
          logged.insert(std::string(entry->id.digest().Raw()));
          app_heads_[entry->app] = std::string(entry->id.digest().Raw());  // in seq order
        } else {
          drop.emplace_back(Table::kSnapshotLog, cur.key());
        }
      }
      CAIRN_RETURN_IF_ERROR(cur.status());
    }
    CAIRN_RETURN_IF_ERROR(
        DropUnless(Table::kContentIndex, &drop, [&](std::string_view key, std::string_view) {
          return key.size() >= Digest::kSize &&
                 kept_.contains(std::string(key.substr(key.size() - Digest::kSize)));
        }));
    CAIRN_RETURN_IF_ERROR(
        DropUnless(Table::kSignatures, &drop, [&](std::string_view key, std::string_view value) {
          auto s = DecodeSignatureRecord(key, value);
          return s.ok() && kept_.contains(std::string(s->snapshot.digest().Raw()));
        }));
    CAIRN_RETURN_IF_ERROR(
        DropUnless(Table::kAttestations, &drop, [&](std::string_view key, std::string_view value) {
          auto a = DecodeAttestationRecord(key, value);
          if (!a.ok() || !kept_.contains(std::string(key.substr(0, Digest::kSize)))) return false;
          for (const auto& [kind, digest] : a->statement.LinkedObjects()) {
            auto has = HasObject(to_store_, digest);
            if (!has.ok() || !*has) {
              lost_(NameOf(Table::kAttestations, key),
                    fmt::format("its {} {} was not recovered", kind, digest.ToString()));
              return false;
            }
          }
          if (a->statement.seq)
            max_attestation_seq_ = std::max(max_attestation_seq_, *a->statement.seq);
          return true;
        }));
    for (const auto& [table, key] : drop) CAIRN_RETURN_IF_ERROR(Delete(table, key));
    CAIRN_RETURN_IF_ERROR(IndexUnloggedSnapshots(logged));
    return Commit();
  }

  // A kept snapshot whose log entry was in a damaged block (its manifest was not) gets a new
  // one after the others, in order of creation, with its creation as its arrival; and its
  // content-index entry. Without them it would be in the store but in no list.
  Status IndexUnloggedSnapshots(const std::set<std::string>& logged) {
    std::vector<Snapshot> unlogged;
    for (const auto& raw : kept_) {
      if (logged.contains(raw)) continue;
      CAIRN_ASSIGN_OR_RETURN(auto snapshot, CopiedSnapshot(raw));
      if (snapshot) unlogged.push_back(std::move(*snapshot));
    }
    std::sort(unlogged.begin(), unlogged.end(), [](const Snapshot& a, const Snapshot& b) {
      return std::tie(a.created_micros, a.id) < std::tie(b.created_micros, b.id);
    });
    std::map<std::string, int64_t> head_created;  // app -> creation of its head so far
    for (const auto& [app, raw] : app_heads_) {
      CAIRN_ASSIGN_OR_RETURN(auto head, CopiedSnapshot(raw));
      if (head) head_created[app] = head->created_micros;
    }
    for (const Snapshot& s : unlogged) {
      SnapshotSummary summary = SummaryOf(s, s.created_micros);
      CAIRN_RETURN_IF_ERROR(Put(Table::kSnapshotLog, SnapshotLogKey(max_snapshot_seq_++),
                                EncodeSnapshotLogValue(summary)));
      CAIRN_RETURN_IF_ERROR(Put(Table::kContentIndex, ContentIndexKey(s.content, s.id), ""));
      auto head = head_created.find(summary.app);
      if (head == head_created.end() || head->second <= s.created_micros) {
        app_heads_[summary.app] = std::string(s.id.digest().Raw());
        head_created[summary.app] = s.created_micros;
      }
    }
    return Status::OK();
  }

  // The copied snapshot under raw id `raw`; nullopt when its manifest is absent or does not
  // decode (a kept snapshot's always does: KeepCompleteSnapshots decoded it).
  Result<std::optional<Snapshot>> CopiedSnapshot(const std::string& raw) const {
    CAIRN_ASSIGN_OR_RETURN(auto manifest, to_.Get(Table::kSnapshots, raw));
    auto digest = Digest::FromRaw(raw);
    if (!manifest || !digest.ok()) return std::optional<Snapshot>();
    auto snapshot = SnapshotFromManifest(SnapshotId(*digest), *manifest);
    if (!snapshot.ok()) return std::optional<Snapshot>();
    return std::optional<Snapshot>(std::move(*snapshot));
  }

  Status DropUnless(Table table, std::vector<std::pair<Table, std::string>>* drop,
                    const std::function<bool(std::string_view key, std::string_view value)>& keep) {
    Cursor cur = to_.NewCursor(table);
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      if (!keep(cur.key(), cur.value())) drop->emplace_back(table, cur.key());
    }
    return cur.status();
  }

  // ---- chains ----

  // Replays one chain of the copy, keeps its intact prefix (cut at the first event that is
  // missing, altered, or breaks `rule`), deletes and lists the events after it, and writes
  // its head. `keep` sees each kept event; returns the last kept seq. Events the damaged
  // store names beyond the last one the copy read (`expected`) are listed as lost.
  template <class E>
  Result<uint64_t> KeepIntactPrefix(
      uint64_t expected, std::string_view chain, const ChainPlace& place,
      const std::function<Result<E>(std::string_view bytes, std::string_view what)>& decode,
      const std::function<std::optional<std::string>(const E& e, const E* prev)>& rule,
      const std::function<void(const E& e, std::string_view bytes)>& keep) {
    std::string last;
    auto rules = [&](const E& e, const E* prev,
                     std::string_view bytes) -> Result<std::optional<std::string>> {
      if (auto broken = rule(e, prev)) return broken;
      keep(e, bytes);
      last.assign(bytes);
      return std::optional<std::string>();
    };
    CAIRN_ASSIGN_OR_RETURN(auto replay, ReplayChain<E>(to_, place, decode, rules));
    uint64_t present = replay.head_seq;  // the highest seq read (kept or listed)
    if (replay.broken && replay.broken->seq > 0) {
      const uint64_t cut = replay.broken->seq;
      std::vector<std::string> after;
      Cursor cur = to_.NewCursor(place.events_table);
      for (cur.Seek(ChainEventKey(place.events_prefix, cut));
           cur.Valid() && cur.key().starts_with(place.events_prefix); cur.Next()) {
        after.emplace_back(cur.key());
      }
      CAIRN_RETURN_IF_ERROR(cur.status());
      for (const auto& key : after) {
        lost_(NameOf(place.events_table, key),
              fmt::format("not restored: the chain is cut before {} #{}: {}", place.noun, cut,
                          replay.broken->message));
        present = std::max(present, SeqOfChainEventKey(place.events_prefix, key).value_or(0));
        CAIRN_RETURN_IF_ERROR(Delete(place.events_table, key));
      }
    }
    if (expected > present) {
      lost_(fmt::format("{} {}s #{} to #{}", chain, place.noun, present + 1, expected),
            "unreadable: the damaged store's pointers and indexes name them, but they were in "
            "damaged blocks");
    }
    if (!last.empty()) {
      CAIRN_RETURN_IF_ERROR(Put(place.head_table, place.head_key, last));
    }
    CAIRN_RETURN_IF_ERROR(Commit());
    return replay.head_seq;
  }

  Status RebuildChains() {
    TrustDerivedRecords trust;
    CAIRN_ASSIGN_OR_RETURN(
        trust_head_,
        KeepIntactPrefix<TrustEvent>(
            expected_chains_["trust"], "the", TrustChain(), DecodeTrustEvent,
            [](const TrustEvent&, const TrustEvent*) { return std::nullopt; },
            [&](const TrustEvent& e, std::string_view bytes) { trust.Add(e, bytes); }));
    for (const auto& [name, bytes] : trust.names) {
      CAIRN_RETURN_IF_ERROR(Put(Table::kTrust, TrustNameKey(name), bytes));
    }
    for (const auto& [raw, bytes] : trust.revoked) {
      CAIRN_RETURN_IF_ERROR(Put(Table::kTrust, std::string(kTrustRevokedPrefix) + raw, bytes));
    }
    for (const auto& [unused, bytes] : trust.root) {
      CAIRN_RETURN_IF_ERROR(Put(Table::kTrust, kTrustRootKey, bytes));
    }

    PolicyDerivedRecords policy;
    CAIRN_ASSIGN_OR_RETURN(
        policy_head_,
        KeepIntactPrefix<PolicyEvent>(
            expected_chains_["policy"], "the", PolicyChain(), DecodePolicyEvent,
            [&](const PolicyEvent& e, const PolicyEvent*) -> std::optional<std::string> {
              if (e.trust_seq && *e.trust_seq > trust_head_) {
                return fmt::format("names trust event #{}, which was not recovered", *e.trust_seq);
              }
              return std::nullopt;
            },
            [&](const PolicyEvent& e, std::string_view bytes) {
              policy.Add(e, std::string_view(e.action()) == "clear", bytes);
            }));
    for (const auto& [deployment, bytes] : policy.records) {
      CAIRN_RETURN_IF_ERROR(Put(Table::kPolicy, PolicyRecordKey(deployment), bytes));
    }

    CAIRN_ASSIGN_OR_RETURN(auto names, DeploymentNames());
    for (const auto& name : names) CAIRN_RETURN_IF_ERROR(RebuildDeployment(name));
    for (const auto& [name, seq] : expected_events_) {
      if (std::find(names.begin(), names.end(), name) != names.end()) continue;
      lost_("deployment " + name,
            fmt::format("unreadable: its events #1 to #{} were in damaged blocks (its pointer or "
                        "time index names them)",
                        seq));
    }
    return Commit();
  }

  // Every deployment that has an event in the copy.
  Result<std::vector<std::string>> DeploymentNames() {
    std::vector<std::string> names;
    Cursor cur = to_.NewCursor(Table::kEvents);
    for (cur.SeekToFirst(); cur.Valid();) {
      std::string_view key = cur.key();
      std::string name(key.substr(0, key.find('\0')));
      names.push_back(name);
      std::string next = name;
      next.push_back('\x01');  // past every key of "name \0 …"
      cur.Seek(next);
    }
    CAIRN_RETURN_IF_ERROR(cur.status());
    return names;
  }

  Status RebuildDeployment(const std::string& name) {
    std::map<std::string, LiveHistory> live;
    const Schema& schema = to_.schema();
    Status put = Status::OK();
    auto rule = [&](const Event& e, const Event* prev) -> std::optional<std::string> {
      if (e.deployment != name) return fmt::format("names deployment \"{}\"", e.deployment);
      if (prev && (!e.from || *e.from != prev->to)) {
        return fmt::format("does not move from what event #{} made live", prev->seq);
      }
      if (!kept_.contains(std::string(e.to.digest().Raw()))) {
        return fmt::format("made snapshot {} live, which was not recovered", e.to.Hex());
      }
      if (e.signed_by && e.signed_by->trust_seq > trust_head_) {
        return fmt::format("was signed under trust event #{}, which was not recovered",
                           e.signed_by->trust_seq);
      }
      if (e.policy_seq && *e.policy_seq > policy_head_) {
        return fmt::format("was gated by policy event #{}, which was not recovered", *e.policy_seq);
      }
      return std::nullopt;
    };
    auto keep = [&](const Event& e, std::string_view) {
      NoteLiveHistory(&live, e);
      if (put.ok())
        put = Put(Table::kEventTime, EventTimeKey(schema, name, e.time_micros, e.seq), "");
    };
    CAIRN_ASSIGN_OR_RETURN(
        uint64_t head, KeepIntactPrefix<Event>(expected_events_[name], name, DeploymentChain(name),
                                               DecodeEvent, rule, keep));
    CAIRN_RETURN_IF_ERROR(put);
    if (head == 0) {
      lost_("deployment " + name, "none of its events could be restored");
      return Status::OK();
    }
    for (const auto& [raw, h] : live) {
      CAIRN_ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(raw));
      CAIRN_RETURN_IF_ERROR(
          Put(Table::kLiveHistory, LiveHistoryKey(name, SnapshotId(id)), EncodeLiveHistory(h)));
    }
    return Status::OK();
  }

  // ---- store-wide records ----

  // Counters never go back (a new snapshot or attestation must not reuse a number the
  // damaged store gave out); each app's head is its newest kept snapshot. The new store's
  // own format and acknowledgement records stay as they are.
  Status RebuildMeta() {
    for (const auto& key : keys_[Table::kMeta]) {
      if (key == keys::kFormatVersion || key == keys::kAckedWrites ||
          key.starts_with("app-head/")) {
        continue;
      }
      CAIRN_ASSIGN_OR_RETURN(auto value, Resolve(Table::kMeta, key));
      if (key == keys::kNextSnapshotSeq) {
        uint64_t v = value ? keys::DecodeBe64(*value).value_or(0) : 0;
        max_snapshot_seq_ = std::max(max_snapshot_seq_, v);
      } else if (key == keys::kLastAttestationSeq) {
        uint64_t v = value ? keys::DecodeBe64(*value).value_or(0) : 0;
        max_attestation_seq_ = std::max(max_attestation_seq_, v);
      } else if (value) {
        CAIRN_RETURN_IF_ERROR(Put(Table::kMeta, key, *value));
      }
    }
    if (max_snapshot_seq_ > 0) {
      CAIRN_RETURN_IF_ERROR(
          Put(Table::kMeta, keys::kNextSnapshotSeq, keys::EncodeBe64(max_snapshot_seq_)));
    }
    if (max_attestation_seq_ > 0) {
      CAIRN_RETURN_IF_ERROR(
          Put(Table::kMeta, keys::kLastAttestationSeq, keys::EncodeBe64(max_attestation_seq_)));
    }
    for (const auto& [app, raw] : app_heads_) {
      CAIRN_RETURN_IF_ERROR(Put(Table::kMeta, keys::AppHead(app), raw));
    }
    return Commit();
  }

  const Db& from_;
  const std::vector<DamagedFile>& known_;
  Store& to_store_;
  Db& to_;
  const LostFn& lost_;
  Batch batch_;
  uint64_t records_ = 0;
  std::map<Table, std::set<std::string>> keys_;
  std::map<std::pair<Table, std::string>, std::string> fallback_;
  std::set<std::string> kept_;                    // raw ids of kept snapshots
  std::map<std::string, std::string> app_heads_;  // app -> raw id of its newest kept snapshot
  uint64_t max_snapshot_seq_ = 0;                 // the next snapshot seq to give out
  uint64_t max_attestation_seq_ = 0;
  std::map<std::string, uint64_t> expected_events_;  // deployment -> the last seq named
  std::map<std::string, uint64_t> expected_chains_;  // "trust", "policy" -> the last seq named
  std::set<std::string> named_snapshots_;            // raw ids the indexes name
  std::set<std::string> listed_snapshots_;           // raw ids dropped (and listed) here
  uint64_t trust_head_ = 0;
  uint64_t policy_head_ = 0;
};

}  // namespace

std::optional<std::string> RecordName(Table table, std::string_view key) {
  switch (table) {
    case Table::kSnapshots:
      return "snapshot " + ShortHex(key);
    case Table::kEvents: {
      size_t nul = key.find('\0');
      if (nul == std::string_view::npos) return std::nullopt;
      auto seq = keys::DecodeBe64(key.substr(nul + 1));
      return fmt::format("{} event #{}", key.substr(0, nul), seq.value_or(0));
    }
    case Table::kTrust: {
      auto seq = SeqOfChainEventKey(kTrustEventPrefix, key);
      if (!seq) return std::nullopt;
      return fmt::format("trust event #{}", *seq);
    }
    case Table::kPolicy: {
      auto seq = SeqOfChainEventKey(kPolicyEventPrefix, key);
      if (!seq) return std::nullopt;
      return fmt::format("policy event #{}", *seq);
    }
    case Table::kSignatures:
      return "a signature on snapshot " + ShortHex(key);
    case Table::kAttestations:
      return "an attestation on snapshot " + ShortHex(key);
    default:
      return std::nullopt;
  }
}

Status Salvage(const Db& from, const std::vector<DamagedFile>& damaged, Store& to,
               const LostFn& lost, uint64_t* records) {
  return Salvager(from, damaged, to, lost).Run(records);
}

}  // namespace cairn
