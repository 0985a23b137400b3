// push, pull, clone and the upstream publisher (cairn/remote.h).
//
// Pull's atomicity: objects are written first (unreferenced objects are harmless; gc
// removes them), then every record it imports — snapshots, chain events and their derived
// records, evidence, tracking tips — in one synced batch, and only after `audit verify` has
// judged the store with that batch laid over it (Db::SetOverlay). A remote that fails any
// check imports nothing. Push changes nothing local but the tracking tips and upstreams,
// written in one synced batch after the server accepted.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "cairn/attestation.h"
#include "cairn/audit.h"
#include "cairn/clock.h"
#include "cairn/object.h"
#include "cairn/policy.h"
#include "cairn/remote.h"
#include "cairn/signature.h"
#include "cairn/trust.h"
#include "chain/hash_chain.h"
#include "deploy/deployment_records.h"
#include "policy/policy_records.h"
#include "remote/git_layout.h"
#include "remote/remote_records.h"
#include "snapshot/snapshot_records.h"
#include "store/object_codec.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "trust/attestation_records.h"
#include "trust/signature_records.h"
#include "trust/trust_records.h"
#include "util/crash_point.h"

namespace cairn {

namespace {

// Objects an attestation names, which travel with it in its evidence commit.
std::vector<Digest> ReferencedObjects(const Attestation& a) {
  std::vector<Digest> out;
  if (a.statement.report) out.push_back(*a.statement.report);
  if (a.statement.cases) out.push_back(*a.statement.cases);
  return out;
}

// ---- one conversation with a remote ----

struct Session {
  Store* store = nullptr;
  std::string remote;
  std::string url;
  std::unique_ptr<GitRepository> repo;  // <store>/git, the transport cache
  TransferOptions options;
  std::map<std::string, std::string> tracking;  // ref -> last verified tip

  GitTransferOptions Git() const {
    return GitTransferOptions{options.timeout, options.progress, kMaxFetchBytes};
  }
  void Say(const std::string& line) const {
    if (options.progress) options.progress(line + "\n");
  }
  Db& db() const { return StoreInternal::db(*store); }
};

Result<Session> OpenSession(Store& store, const std::string& remote,
                            const TransferOptions& options) {
  if (store.read_only()) return Status::Internal("talking to a remote needs a writable store");
  CAIRN_ASSIGN_OR_RETURN(RemoteInfo info, GetRemote(store, remote));
  Session s;
  s.store = &store;
  s.remote = remote;
  s.url = info.url;
  s.options = options;
  CAIRN_ASSIGN_OR_RETURN(s.repo, GitRepository::OpenOrInitBare(store.path() + "/git"));
  CAIRN_ASSIGN_OR_RETURN(s.tracking, ReadTracking(store, remote));
  return s;
}

// Fetches every refs/cairn/* ref of the remote into the quarantine namespace (with "+": a
// rewritten ref is taken, then judged) and returns them by their name on the remote.
Result<std::map<std::string, std::string>> FetchAll(Session& s) {
  const std::string prefix = FetchedPrefix(s.remote);
  CAIRN_ASSIGN_OR_RETURN(auto stale, s.repo->ListRefs(prefix + "*"));
  for (const auto& [ref, oid] : stale) CAIRN_RETURN_IF_ERROR(s.repo->DeleteRef(ref));
  s.Say(fmt::format("fetching refs/cairn/* from {}", s.url));
  CAIRN_RETURN_IF_ERROR(s.repo->Fetch(s.url, {"+refs/cairn/*:" + prefix + "*"}, s.Git()));
  CAIRN_ASSIGN_OR_RETURN(auto fetched, s.repo->ListRefs(prefix + "*"));
  std::map<std::string, std::string> out;
  for (const auto& [ref, oid] : fetched) {
    out[std::string(kRefsRoot) + ref.substr(prefix.size())] = oid;
  }
  return out;
}

// The stored events of a chain, bytes in seq order.
Result<std::vector<std::string>> LocalChain(const Db& db, const ChainPlace& place) {
  std::vector<std::string> out;
  Cursor cur = db.NewCursor(place.events_table);
  for (cur.Seek(place.events_prefix); cur.Valid() && cur.key().starts_with(place.events_prefix);
       cur.Next()) {
    out.emplace_back(cur.value());
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  return out;
}

// The seq an event's bytes declare (any chain: the field is "seq").
Result<uint64_t> SeqOf(std::string_view bytes, std::string_view what) {
  CAIRN_ASSIGN_OR_RETURN(Json j, ParseCanonicalJson(bytes, what));
  if (!j.is_object() || !j.contains("seq") || !j.at("seq").is_number_unsigned() ||
      j.at("seq").get<uint64_t>() == 0) {
    return Status::Corruption(fmt::format("{}: it has no valid seq", what));
  }
  return j.at("seq").get<uint64_t>();
}

// How a remote chain relates to the local one.
struct ChainMerge {
  std::vector<std::string> all;  // local events, then the new ones: the whole chain after pull
  size_t first_new = 0;          // index in `all` of the first imported event
  std::vector<const ChainLink*> new_links;
  std::string tip;  // the remote tip verified
};

// Reads the remote chain `ref` at `tip` (from the last verified tip on), and merges it with
// the local chain: every remote event the store has must be byte-identical to it (else the
// chains forked), and new ones must follow the local end without a gap.
Result<ChainMerge> MergeChain(Session& s, const std::string& ref, const std::string& tip,
                              const ChainPlace& place, bool with_snapshot,
                              std::vector<ChainLink>* links_out) {
  std::string stop;
  auto tracked = s.tracking.find(ref);
  if (tracked != s.tracking.end() && tracked->second != tip) stop = tracked->second;
  ChainMerge m;
  m.tip = tip;
  CAIRN_ASSIGN_OR_RETURN(m.all, LocalChain(s.db(), place));
  m.first_new = m.all.size();
  if (tracked != s.tracking.end() && tracked->second == tip) return m;
  CAIRN_ASSIGN_OR_RETURN(*links_out, ReadChain(*s.repo, tip, stop, "event.json", with_snapshot,
                                               /*evidence=*/false, ref));
  const size_t local = m.all.size();
  for (const ChainLink& link : *links_out) {
    auto seq = SeqOf(link.bytes, fmt::format("{} (git commit {})", ref, link.commit.substr(0, 12)));
    if (!seq.ok()) return seq.status();
    if (*seq <= local) {
      if (m.all[*seq - 1] != link.bytes) {
        return Status::Corruption(fmt::format(
            "{} on {}: its {} #{} differs from this store's: the chains forked (this store's "
            "events from #{} on were never accepted by the remote, or the remote's history was "
            "rewritten); nothing was imported",
            ref, s.remote, place.noun, *seq, *seq));
      }
      continue;
    }
    if (*seq != m.all.size() + 1) {
      return Status::Corruption(fmt::format("{} on {}: {} #{} follows #{}: the chain has a gap",
                                            ref, s.remote, place.noun, *seq, m.all.size()));
    }
    m.all.push_back(link.bytes);
    m.new_links.push_back(&link);
  }
  if (m.new_links.empty() && !links_out->empty()) {
    // The remote ends inside (or at the end of) our chain: our later events are unpushed.
    auto last = SeqOf(links_out->back().bytes, ref);
    if (last.ok() && *last < local) {
      s.Say(fmt::format("{}: this store is {} event(s) ahead of {} ('cairn push' sends them)", ref,
                        local - *last, s.remote));
    }
  }
  return m;
}

// ---- importing ----

class Importer {
 public:
  explicit Importer(Session& s) : s_(s), db_(s.db()), batch_(db_), objects_(db_) {}

  Batch& batch() { return batch_; }
  TransferReport& report() { return report_; }

  // Imports snapshot `id` from its commit unless the store has it (or it was imported).
  Status Snapshot(const SnapshotId& id, const std::string& commit) {
    if (done_.contains(id)) return Status::OK();
    CAIRN_ASSIGN_OR_RETURN(bool have, HasSnapshot(*s_.store, id));
    if (have) {
      done_.insert(id);
      return Status::OK();
    }
    CAIRN_ASSIGN_OR_RETURN(SnapshotCommitRead read, ReadSnapshotCommit(*s_.repo, commit, id));
    for (const Component& c : read.snapshot.components) {
      CAIRN_ASSIGN_OR_RETURN(bool present, HasObject(*s_.store, c.digest));
      if (present || written_.contains(c.digest)) continue;
      CAIRN_ASSIGN_OR_RETURN(std::string bytes,
                             s_.repo->ReadBlob(read.blob_of.at(c.path), kMaxPulledBlob));
      if (Digest::Of(bytes) != c.digest) {
        return Status::Corruption(fmt::format(
            "snapshot {} (git commit {}): {} does not hash to its digest in the manifest",
            id.Short(), commit.substr(0, 12), c.path));
      }
      CAIRN_RETURN_IF_ERROR(AddBytesAsObject(objects_, bytes).status());
      written_.insert(c.digest);
      if (objects_.ByteSize() >= (8u << 20)) CAIRN_RETURN_IF_ERROR(FlushObjects());
    }
    if (!next_seq_) {
      CAIRN_ASSIGN_OR_RETURN(auto seq_bytes, db_.Get(Table::kMeta, keys::kNextSnapshotSeq));
      next_seq_ = seq_bytes ? keys::DecodeBe64(*seq_bytes).value_or(0) : 0;
    }
    batch_.Put(Table::kSnapshots, SnapshotKey(id), read.manifest);
    batch_.Put(Table::kSnapshotLog, SnapshotLogKey(*next_seq_),
               EncodeSnapshotLogValue(SummaryOf(read.snapshot, s_.store->clock().NowMicros())));
    ++*next_seq_;
    batch_.Put(Table::kMeta, keys::kNextSnapshotSeq, keys::EncodeBe64(*next_seq_));
    batch_.Put(Table::kContentIndex, ContentIndexKey(read.snapshot.content, id), "");
    batch_.Put(Table::kMeta, keys::AppHead(read.snapshot.app), id.digest().Raw());
    done_.insert(id);
    ++report_.snapshots;
    s_.Say(fmt::format("snapshot {} ({} files)", id.Short(), read.snapshot.components.size()));
    return Status::OK();
  }

  Status FlushObjects() {
    if (objects_.Count() == 0) return Status::OK();
    // Unsynced: the synced batch of records that follows syncs the log they are in first.
    CAIRN_RETURN_IF_ERROR(db_.Write(objects_, /*sync=*/false));
    objects_.Clear();
    return Status::OK();
  }

  // One evidence record (a signature or an attestation), checked cryptographically.
  Status Evidence(const ChainLink& link) {
    const std::string what = fmt::format("evidence (git commit {})", link.commit.substr(0, 12));
    CAIRN_ASSIGN_OR_RETURN(Json doc, ParseCanonicalJson(link.bytes, what));
    if (!doc.is_object() || doc.size() != 3 || !doc.contains("kind") || !doc["kind"].is_string() ||
        !doc.contains("snapshot") || !doc["snapshot"].is_string() || !doc.contains("value") ||
        !doc["value"].is_string()) {
      return Status::Corruption(what + ": evidence.json is not {\"kind\",\"snapshot\",\"value\"}");
    }
    auto id = SnapshotId::Parse(doc["snapshot"].get<std::string>());
    if (!id.ok()) return Status::Corruption(what + ": its snapshot is not an id");
    CAIRN_RETURN_IF_ERROR(Snapshot(*id, *link.snapshot_commit));
    const std::string kind = doc["kind"].get<std::string>();
    const std::string value = doc["value"].get<std::string>();
    if (kind == "signature") return SignatureRecord(*id, value, what);
    if (kind == "attestation") return AttestationRecord(*id, value, link, what);
    return Status::Corruption(fmt::format("{}: unknown kind \"{}\"", what, kind));
  }

  // The new events of a merged chain (from `first_new` on) and its head; derived records
  // are put by the caller, from the whole chain.
  void ChainEvents(const ChainPlace& place, const ChainMerge& m) {
    for (size_t i = m.first_new; i < m.all.size(); ++i)
      PutChainEvent(batch_, place, i + 1, m.all[i]);
  }

  Status Commit() {
    CAIRN_RETURN_IF_ERROR(FlushObjects());
    CAIRN_CRASH_POINT("pull.objects-stored");  // objects without records: harmless
    return db_.Write(batch_, /*sync=*/true);
  }

 private:
  Status SignatureRecord(const SnapshotId& id, const std::string& value, const std::string& what) {
    auto sig = DecodeSignatureRecord(SignatureKey(id, KeyId()), value);
    if (!sig.ok()) return Status::Corruption(what + ": " + sig.status().message());
    if (sig->public_key.id() != sig->key_id ||
        !VerifySignature(sig->public_key, SnapshotSigningMessage(id), sig->signature)) {
      return Status::Corruption(fmt::format(
          "{}: the signature of snapshot {} by key {} does not verify: it was forged or altered",
          what, id.Short(), sig->key_id.Short()));
    }
    const std::string key = SignatureKey(id, sig->key_id);
    CAIRN_ASSIGN_OR_RETURN(bool have, db_.Contains(Table::kSignatures, key));
    if (have || !keys_.insert(key).second) return Status::OK();
    batch_.Put(Table::kSignatures, key, value);
    ++report_.evidence;
    return Status::OK();
  }

  Status AttestationRecord(const SnapshotId& id, const std::string& value, const ChainLink& link,
                           const std::string& what) {
    auto a = DecodeAttestationRecord(AttestationKey(id, Digest()), value);
    if (!a.ok()) return Status::Corruption(what + ": " + a.status().message());
    // An attestation's id is its statement's hash (the record's key names it; this record
    // travelled without its key).
    auto hash = a->statement.Hash();
    if (hash.ok()) a->id = *hash;
    if (!hash.ok() || a->statement.snapshot != id || a->public_key.id() != a->key_id ||
        !VerifySignature(a->public_key, AttestationSigningMessage(a->id), a->signature)) {
      return Status::Corruption(fmt::format(
          "{}: the attestation on snapshot {} does not verify (its id, snapshot or signature): it "
          "was forged or altered",
          what, id.Short()));
    }
    for (const Digest& d : ReferencedObjects(*a)) {
      CAIRN_ASSIGN_OR_RETURN(bool present, HasObject(*s_.store, d));
      if (present || written_.contains(d)) continue;
      auto blob = link.objects.find(d.Hex());
      if (blob == link.objects.end()) {
        return Status::Corruption(
            fmt::format("{}: object {} it names is not in its tree", what, d.ToString()));
      }
      CAIRN_ASSIGN_OR_RETURN(std::string bytes, s_.repo->ReadBlob(blob->second, kMaxPulledBlob));
      if (Digest::Of(bytes) != d) {
        return Status::Corruption(
            fmt::format("{}: object {} does not hash to its name", what, d.ToString()));
      }
      CAIRN_RETURN_IF_ERROR(AddBytesAsObject(objects_, bytes).status());
      written_.insert(d);
    }
    const std::string key = AttestationKey(id, a->id);
    CAIRN_ASSIGN_OR_RETURN(bool have, db_.Contains(Table::kAttestations, key));
    if (have || !keys_.insert(key).second) return Status::OK();
    batch_.Put(Table::kAttestations, key, value);
    if (a->statement.seq) {
      CAIRN_ASSIGN_OR_RETURN(auto last, db_.Get(Table::kMeta, keys::kLastAttestationSeq));
      uint64_t have_seq = last ? keys::DecodeBe64(*last).value_or(0) : 0;
      max_attestation_seq_ = std::max({max_attestation_seq_, have_seq, *a->statement.seq});
      batch_.Put(Table::kMeta, keys::kLastAttestationSeq, keys::EncodeBe64(max_attestation_seq_));
    }
    ++report_.evidence;
    return Status::OK();
  }

  Session& s_;
  Db& db_;
  Batch batch_;
  Batch objects_;
  TransferReport report_;
  std::set<SnapshotId> done_;
  std::set<Digest> written_;
  std::set<std::string> keys_;
  std::optional<uint64_t> next_seq_;
  uint64_t max_attestation_seq_ = 0;
};

template <class E>
Result<std::vector<E>> DecodeAll(const std::vector<std::string>& all,
                                 Result<E> (*decode)(std::string_view, std::string_view),
                                 std::string_view noun) {
  std::vector<E> out;
  for (size_t i = 0; i < all.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(E e, decode(all[i], fmt::format("{} {}", noun, i + 1)));
    out.push_back(std::move(e));
  }
  return out;
}

// Derived records of a chain: put every expected one, delete stored ones no longer expected.
Status PutDerived(Importer& imp, const Db& db, Table table, std::string_view prefix,
                  const std::map<std::string, std::string>& expected) {
  Cursor cur = db.NewCursor(table);
  for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
    if (!expected.contains(std::string(cur.key().substr(prefix.size())))) {
      imp.batch().Delete(table, cur.key());
    }
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  for (const auto& [k, v] : expected) imp.batch().Put(table, std::string(prefix) + k, v);
  return Status::OK();
}

Status ImportTrust(Session& s, Importer& imp, const std::string& tip) {
  std::vector<ChainLink> links;
  CAIRN_ASSIGN_OR_RETURN(ChainMerge m,
                         MergeChain(s, std::string(kTrustRef), tip, TrustChain(), false, &links));
  if (m.first_new == m.all.size()) return Status::OK();
  imp.ChainEvents(TrustChain(), m);
  CAIRN_ASSIGN_OR_RETURN(auto events,
                         DecodeAll<TrustEvent>(m.all, DecodeTrustEvent, "trust event"));
  TrustDerivedRecords derived;
  for (size_t i = 0; i < events.size(); ++i) derived.Add(events[i], m.all[i]);
  CAIRN_RETURN_IF_ERROR(PutDerived(imp, s.db(), Table::kTrust, kTrustNamePrefix, derived.names));
  CAIRN_RETURN_IF_ERROR(
      PutDerived(imp, s.db(), Table::kTrust, kTrustRevokedPrefix, derived.revoked));
  for (const auto& [unused, bytes] : derived.root)
    imp.batch().Put(Table::kTrust, kTrustRootKey, bytes);
  imp.report().trust_events += m.all.size() - m.first_new;
  imp.report().lines.push_back(fmt::format("trust: {} new event(s), #{} to #{}",
                                           m.all.size() - m.first_new, m.first_new + 1,
                                           m.all.size()));
  return Status::OK();
}

Status ImportPolicy(Session& s, Importer& imp, const std::string& tip) {
  std::vector<ChainLink> links;
  CAIRN_ASSIGN_OR_RETURN(ChainMerge m,
                         MergeChain(s, std::string(kPolicyRef), tip, PolicyChain(), false, &links));
  if (m.first_new == m.all.size()) return Status::OK();
  imp.ChainEvents(PolicyChain(), m);
  CAIRN_ASSIGN_OR_RETURN(auto events,
                         DecodeAll<PolicyEvent>(m.all, DecodePolicyEvent, "policy event"));
  PolicyDerivedRecords derived;
  for (size_t i = 0; i < events.size(); ++i) {
    derived.Add(events[i], std::string_view(events[i].action()) == "clear", m.all[i]);
  }
  CAIRN_RETURN_IF_ERROR(
      PutDerived(imp, s.db(), Table::kPolicy, kPolicyRecordPrefix, derived.records));
  imp.report().policy_events += m.all.size() - m.first_new;
  imp.report().lines.push_back(fmt::format("policy: {} new event(s), #{} to #{}",
                                           m.all.size() - m.first_new, m.first_new + 1,
                                           m.all.size()));
  return Status::OK();
}

Status ImportDeployment(Session& s, Importer& imp, const std::string& name, const std::string& ref,
                        const std::string& tip) {
  std::vector<ChainLink> links;
  CAIRN_ASSIGN_OR_RETURN(ChainMerge m,
                         MergeChain(s, ref, tip, DeploymentChain(name), true, &links));
  if (m.first_new == m.all.size()) return Status::OK();
  std::vector<Event> events;
  for (size_t i = 0; i < m.all.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(Event e,
                           DecodeEvent(m.all[i], fmt::format("event {} of {}", i + 1, name)));
    if (e.deployment != name) {
      return Status::Corruption(
          fmt::format("{}: event #{} names deployment \"{}\"", ref, e.seq, e.deployment));
    }
    events.push_back(std::move(e));
  }
  for (size_t i = 0; i < m.new_links.size(); ++i) {
    const Event& e = events[m.first_new + i];
    CAIRN_RETURN_IF_ERROR(imp.Snapshot(e.to, *m.new_links[i]->snapshot_commit));
  }
  imp.ChainEvents(DeploymentChain(name), m);
  const Schema& schema = s.db().schema();
  std::map<std::string, LiveHistory> live;
  for (size_t i = 0; i < events.size(); ++i) {
    NoteLiveHistory(&live, events[i]);
    if (i >= m.first_new) {
      imp.batch().Put(Table::kEventTime,
                      EventTimeKey(schema, name, events[i].time_micros, events[i].seq), "");
    }
  }
  for (const auto& [raw, h] : live) {
    CAIRN_ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(raw));
    imp.batch().Put(Table::kLiveHistory, LiveHistoryKey(name, SnapshotId(id)),
                    EncodeLiveHistory(h));
  }
  const Event& last = events.back();
  imp.report().events += m.all.size() - m.first_new;
  imp.report().lines.push_back(fmt::format("{}: {} new event(s), now {} (#{}: {} by {})", name,
                                           m.all.size() - m.first_new, last.to.Short(), last.seq,
                                           ActionName(last.action), last.actor));
  return Status::OK();
}

Result<std::vector<KeyId>> PinnedRoot(const Db& db) {
  CAIRN_ASSIGN_OR_RETURN(auto bytes, db.Get(Table::kMeta, keys::kPinnedRoot));
  std::vector<KeyId> out;
  if (!bytes) return out;
  CAIRN_ASSIGN_OR_RETURN(Json j, ParseCanonicalJson(*bytes, "the pinned root"));
  if (!j.is_array()) return Status::Corruption("the pinned root record is not a list");
  for (const Json& k : j) {
    if (!k.is_string()) return Status::Corruption("the pinned root record holds a non-string");
    CAIRN_ASSIGN_OR_RETURN(KeyId id, KeyId::Parse(k.get<std::string>()));
    out.push_back(id);
  }
  return out;
}

// Judges the store with the import laid over it. Any broken chain, bad event signature or
// root mismatch refuses the whole import; findings about attestations are warnings.
// A pull of named deployments audits the trust and policy chains and those deployments; a
// pull of everything audits the whole store.
Status AuditImport(Session& s, Importer& imp, const std::vector<KeyId>& pinned,
                   const std::vector<DeploymentName>& only) {
  Db& db = s.db();
  CAIRN_RETURN_IF_ERROR(db.SetOverlay(&imp.batch()));
  std::vector<AuditProblem> found;
  Status status = Status::OK();
  std::vector<std::optional<DeploymentName>> scopes;
  if (only.empty()) scopes.emplace_back();
  for (const auto& d : only) scopes.emplace_back(d);
  for (const auto& scope : scopes) {
    auto report = AuditVerify(*s.store, scope, pinned);
    if (!report.ok()) {
      status = report.status();
      break;
    }
    found.insert(found.end(), report->problems.begin(), report->problems.end());
  }
  db.SetOverlay(nullptr).PermitUnchecked();
  CAIRN_RETURN_IF_ERROR(status);
  std::string problems;
  std::set<std::string> said;
  for (const auto& p : found) {
    std::string where = p.chain == AuditChain::kTrust          ? std::string("trust chain")
                        : p.chain == AuditChain::kPolicy       ? std::string("policy chain")
                        : p.chain == AuditChain::kAttestations ? std::string("attestations")
                                                               : "deployment " + p.deployment;
    std::string line =
        fmt::format("{}{}: {}", where, p.seq ? fmt::format(" #{}", p.seq) : "", p.message);
    if (!said.insert(line).second) continue;
    if (p.chain == AuditChain::kAttestations) {
      imp.report().warnings.push_back(line);
    } else {
      problems += "\n" + line;
    }
  }
  if (!problems.empty()) {
    return Status::Corruption(fmt::format(
        "what {} holds fails verification; nothing was imported:{}", s.remote, problems));
  }
  return Status::OK();
}

Result<TransferReport> PullWith(Session& s, const PullOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(auto refs, FetchAll(s));
  Importer imp(s);
  imp.report().remote = s.remote;
  auto tip_of = [&](std::string_view ref) -> std::string {
    auto it = refs.find(std::string(ref));
    return it == refs.end() ? std::string() : it->second;
  };
  std::map<std::string, std::string> verified;  // ref -> tip, written as tracking
  for (std::string_view ref : {kTrustRef, kPolicyRef}) {
    std::string tip = tip_of(ref);
    if (tip.empty()) continue;
    CAIRN_RETURN_IF_ERROR(ref == kTrustRef ? ImportTrust(s, imp, tip) : ImportPolicy(s, imp, tip));
    verified[std::string(ref)] = tip;
  }
  std::vector<std::string> deployments;
  for (const auto& [ref, tip] : refs) {
    if (!ref.starts_with(kDeploymentRefPrefix)) continue;
    auto name = DeploymentOfRef(ref);
    if (!name || !DeploymentName::Parse(*name).ok()) {
      return Status::Corruption(fmt::format(
          "{} on {} is not a ref cairn writes (no deployment is named so); nothing was imported",
          ref, s.remote));
    }
    bool wanted = options.deployments.empty() ||
                  std::any_of(options.deployments.begin(), options.deployments.end(),
                              [&](const DeploymentName& d) { return d.view() == *name; });
    if (!wanted) continue;
    CAIRN_RETURN_IF_ERROR(ImportDeployment(s, imp, *name, ref, tip));
    verified[ref] = tip;
    deployments.push_back(*name);
  }
  for (const auto& d : options.deployments) {
    if (std::find(deployments.begin(), deployments.end(), d.str()) == deployments.end()) {
      return Status::NotFound(fmt::format("{} has no deployment \"{}\"", s.remote, d.view()));
    }
  }
  // Evidence, and every snapshot the remote holds.
  if (std::string tip = tip_of(kEvidenceRef); !tip.empty()) {
    auto tracked = s.tracking.find(std::string(kEvidenceRef));
    std::string stop = tracked != s.tracking.end() && tracked->second != tip ? tracked->second : "";
    if (tracked == s.tracking.end() || tracked->second != tip) {
      CAIRN_ASSIGN_OR_RETURN(
          auto links, ReadChain(*s.repo, tip, stop, "evidence.json", true, true, "evidence"));
      for (const auto& link : links) CAIRN_RETURN_IF_ERROR(imp.Evidence(link));
    }
    verified[std::string(kEvidenceRef)] = tip;
  }
  for (const auto& [ref, tip] : refs) {
    if (!ref.starts_with(kSnapshotRefPrefix)) continue;
    auto id = SnapshotId::Parse(std::string_view(ref).substr(kSnapshotRefPrefix.size()));
    if (!id.ok()) {
      return Status::Corruption(fmt::format("{} on {} does not name a snapshot id", ref, s.remote));
    }
    CAIRN_RETURN_IF_ERROR(imp.Snapshot(*id, tip));
  }
  for (const auto& [ref, tip] : verified)
    imp.batch().Put(Table::kMeta, keys::TrackingKey(s.remote, ref), tip);
  if (options.track_all) {
    for (const auto& name : deployments) {
      imp.batch().Put(Table::kMeta, keys::UpstreamKey(name), s.remote);
    }
  }
  std::vector<KeyId> pinned = options.pinned_root;
  if (pinned.empty()) {
    CAIRN_ASSIGN_OR_RETURN(pinned, PinnedRoot(s.db()));
  } else {
    std::sort(pinned.begin(), pinned.end());
    Json list = Json::array();
    for (const auto& k : pinned) list.push_back(k.ToString());
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(list));
    imp.batch().Put(Table::kMeta, keys::kPinnedRoot, bytes);
  }
  // Objects first (unreferenced until the records land: harmless), so that the audit can read
  // what the records name — an attestation's case file, whose verdicts it recomputes.
  CAIRN_RETURN_IF_ERROR(imp.FlushObjects());
  CAIRN_RETURN_IF_ERROR(AuditImport(s, imp, pinned, options.deployments));
  CAIRN_RETURN_IF_ERROR(imp.Commit());
  return std::move(imp.report());
}

}  // namespace

Result<TransferReport> Pull(Store& store, const std::string& remote, const PullOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(Session s, OpenSession(store, remote, options.transfer));
  return PullWith(s, options);
}

Result<bool> UpstreamMoved(const Store& store, const DeploymentName& deployment,
                           const TransferOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(auto upstream, UpstreamOf(store, deployment));
  if (!upstream) return false;
  CAIRN_ASSIGN_OR_RETURN(RemoteInfo info, GetRemote(store, *upstream));
  CAIRN_ASSIGN_OR_RETURN(auto tracking, ReadTracking(store, *upstream));
  CAIRN_ASSIGN_OR_RETURN(auto repo, GitRepository::OpenOrInitBare(store.path() + "/git"));
  const std::string ref = DeploymentRef(deployment.view());
  CAIRN_ASSIGN_OR_RETURN(
      auto refs, repo->ListRemote(info.url, ref, GitTransferOptions{options.timeout, {}, 0}));
  std::string now;
  for (const auto& r : refs) {
    if (r.name == ref) now = r.oid;
  }
  auto it = tracking.find(ref);
  return now != (it == tracking.end() ? std::string() : it->second);
}

Result<TransferReport> Clone(const std::string& url, const std::string& dir,
                             const std::vector<KeyId>& pinned_root,
                             const TransferOptions& options) {
  if (pinned_root.empty()) {
    return Status::Usage(
        "clone needs --root KEYID (repeated): the root keys you know out of band; the remote's "
        "trust chain must have been made by exactly them");
  }
  CAIRN_RETURN_IF_ERROR(ValidateRemoteUrl(url));
  const std::string path = dir + "/" + kStoreDirName;
  std::error_code ec;
  bool dir_existed = std::filesystem::exists(dir, ec);
  CAIRN_ASSIGN_OR_RETURN(auto store, Store::Init(path));
  auto undo = [&](Status why) -> Status {
    store.reset();
    std::filesystem::remove_all(path, ec);
    if (!dir_existed) std::filesystem::remove(dir, ec);
    return why;
  };
  store.reset();
  StoreOpenOptions open;
  open.read_only = false;
  auto opened = Store::Open(path, open);
  if (!opened.ok()) return undo(opened.status());
  store = std::move(*opened);
  if (Status s = AddRemote(*store, "origin", url); !s.ok()) return undo(s);
  PullOptions pull;
  pull.transfer = options;
  pull.pinned_root = pinned_root;
  pull.track_all = true;
  auto report = Pull(*store, "origin", pull);
  if (!report.ok()) return undo(report.status());
  if (Status s = store->Close(); !s.ok()) return undo(s);
  return report;
}

// ---- pushing ----

namespace {

// The newest event of a chain on the remote, as read from its tip commit.
struct RemoteHead {
  std::string commit;  // "" when the remote has no such ref
  uint64_t seq = 0;
  std::string bytes;
};

Result<RemoteHead> HeadOf(Session& s, const std::string& ref, const std::string& tip,
                          bool with_snapshot) {
  RemoteHead h;
  if (tip.empty()) return h;
  h.commit = tip;
  CAIRN_ASSIGN_OR_RETURN(auto links, ReadChain(*s.repo, tip, "", "event.json", with_snapshot, false,
                                               ref, /*limit=*/1));
  h.bytes = links.back().bytes;
  CAIRN_ASSIGN_OR_RETURN(h.seq, SeqOf(h.bytes, ref));
  return h;
}

// A local chain's events after the remote's head, as commits on top of it. kMoved when the
// remote holds events this store does not (pull first); kCorruption when they differ.
struct ChainPush {
  std::string ref;
  std::optional<std::string> expected_old;
  std::string new_tip;  // "" when nothing to send
  size_t events = 0;
};

// `pending`: an event sealed but not yet stored (a publisher's), sent after the stored ones.
// `snapshots` gets every snapshot the events sent make live.
Result<ChainPush> BuildChainPush(Session& s, GitWriter& writer, const std::string& ref,
                                 const std::string& remote_tip, const ChainPlace& place,
                                 bool with_snapshot, std::string_view pending = {},
                                 std::set<SnapshotId>* snapshots = nullptr) {
  ChainPush p;
  p.ref = ref;
  if (!remote_tip.empty()) p.expected_old = remote_tip;
  CAIRN_ASSIGN_OR_RETURN(auto local, LocalChain(s.db(), place));
  if (!pending.empty()) local.emplace_back(pending);
  CAIRN_ASSIGN_OR_RETURN(RemoteHead head, HeadOf(s, ref, remote_tip, with_snapshot));
  if (head.seq > local.size()) {
    return Status::Moved(fmt::format(
        "{} on {} has {} event(s) this store has not seen (it has {}): run 'cairn pull {}' "
        "first; nothing was sent",
        ref, s.remote, head.seq - local.size(), local.size(), s.remote));
  }
  if (head.seq > 0 && local[head.seq - 1] != head.bytes) {
    return Status::Corruption(fmt::format(
        "{} on {}: its {} #{} differs from this store's: the chains forked; 'cairn pull {}' "
        "shows where; nothing was sent",
        ref, s.remote, place.noun, head.seq, s.remote));
  }
  std::optional<std::string> parent;
  if (!head.commit.empty()) parent = head.commit;
  for (size_t i = head.seq; i < local.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(Json j, ParseCanonicalJson(local[i], place.noun));
    std::string actor = j.value("actor", std::string());
    int64_t time = 0;
    if (j.contains("time") && j["time"].is_string()) {
      auto t = ParseTime(j["time"].get<std::string>());
      if (t.ok()) time = *t;
    }
    std::optional<std::string> snapshot_commit;
    std::string message;
    if (with_snapshot) {
      CAIRN_ASSIGN_OR_RETURN(Event e, DecodeEvent(local[i], place.noun));
      CAIRN_ASSIGN_OR_RETURN(snapshot_commit, writer.SnapshotCommit(e.to));
      if (snapshots != nullptr) snapshots->insert(e.to);
      message =
          fmt::format("{} {} #{}: {} -> {}\n\n{}\n\nactor: {}\nhash: {}\n", ActionName(e.action),
                      e.deployment, e.seq, e.from ? e.from->Short() : "(none)", e.to.Short(),
                      e.reason, e.actor, e.hash.ToString());
    } else {
      message = fmt::format("{} #{}: {}\n\n{}\n\nactor: {}\n", place.noun, i + 1,
                            j.value("action", std::string("set")), j.value("reason", std::string()),
                            actor);
    }
    CAIRN_ASSIGN_OR_RETURN(std::string commit, writer.ChainCommit(local[i], parent, snapshot_commit,
                                                                  actor, time, message));
    parent = commit;
    ++p.events;
  }
  if (p.events > 0) p.new_tip = *parent;
  return p;
}

}  // namespace

namespace {

// Evidence records of `snapshots` the remote's evidence chain lacks, as commits on its tip.
Result<ChainPush> BuildEvidencePush(Session& s, GitWriter& writer, const std::string& remote_tip,
                                    const std::set<SnapshotId>& snapshots) {
  ChainPush p;
  p.ref = std::string(kEvidenceRef);
  if (!remote_tip.empty()) p.expected_old = remote_tip;
  std::set<std::string> present;  // kind + snapshot + value digest
  if (!remote_tip.empty()) {
    CAIRN_ASSIGN_OR_RETURN(
        auto links, ReadChain(*s.repo, remote_tip, "", "evidence.json", true, true, "evidence"));
    for (const auto& l : links) present.insert(Digest::Of(l.bytes).Hex());
  }
  std::optional<std::string> parent;
  if (!remote_tip.empty()) parent = remote_tip;
  const Db& db = s.db();
  for (const SnapshotId& id : snapshots) {
    for (Table table : {Table::kSignatures, Table::kAttestations}) {
      const bool is_sig = table == Table::kSignatures;
      const std::string prefix = is_sig ? SignaturePrefix(id) : AttestationPrefix(id);
      Cursor cur = db.NewCursor(table);
      for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
        std::string value(cur.value());
        Json doc = {{"kind", is_sig ? "signature" : "attestation"},
                    {"snapshot", id.Hex()},
                    {"value", value}};
        CAIRN_ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(doc));
        if (present.contains(Digest::Of(bytes).Hex())) continue;
        std::vector<Digest> objects;
        std::string actor, message;
        int64_t time = 0;
        if (is_sig) {
          CAIRN_ASSIGN_OR_RETURN(SnapshotSignature sig, DecodeSignatureRecord(cur.key(), value));
          actor = sig.actor;
          time = sig.time_micros;
          message = fmt::format("signature of {} by {}\n", id.Short(), sig.key_id.Short());
        } else {
          CAIRN_ASSIGN_OR_RETURN(Attestation a, DecodeAttestationRecord(cur.key(), value));
          objects = ReferencedObjects(a);
          actor = a.statement.actor;
          time = a.statement.time_micros;
          message = fmt::format("attestation {} = {} on {} by {}\n", a.statement.eval,
                                a.statement.score.ToString(), id.Short(), a.key_id.Short());
        }
        CAIRN_ASSIGN_OR_RETURN(std::string commit,
                               writer.EvidenceCommit(is_sig ? "signature" : "attestation", id,
                                                     value, objects, parent, actor, time, message));
        parent = commit;
        present.insert(Digest::Of(bytes).Hex());
        ++p.events;
      }
      CAIRN_RETURN_IF_ERROR(cur.status());
    }
  }
  if (p.events > 0) p.new_tip = *parent;
  return p;
}

// Describes who moved a deployment on the remote, from the event at its tip.
std::string WhoMoved(Session& s, const std::string& ref, const std::string& current) {
  if (current.empty()) return fmt::format("{} is gone from {}", ref, s.remote);
  auto fetched = s.repo->Fetch(
      s.url, {"+" + ref + ":" + FetchedPrefix(s.remote) + ref.substr(kRefsRoot.size())}, s.Git());
  if (!fetched.ok()) return fmt::format("{} moved on {}", ref, s.remote);
  auto links = ReadChain(*s.repo, current, "", "event.json", true, false, ref, /*limit=*/1);
  if (!links.ok() || links->empty()) return fmt::format("{} moved on {}", ref, s.remote);
  auto e = DecodeEvent(links->back().bytes, ref);
  if (!e.ok()) return fmt::format("{} moved on {}", ref, s.remote);
  return fmt::format("{} moved on {} — by {} at {}, to {} (event #{}: \"{}\")", e->deployment,
                     s.remote, e->actor, FormatTime(e->time_micros), e->to.Short(), e->seq,
                     e->reason);
}

// What `ref` is on the server now ("" when absent); nullopt when that cannot be asked.
std::optional<std::string> CurrentOnServer(Session& s, const std::string& ref) {
  auto refs = s.repo->ListRemote(s.url, ref, s.Git());
  if (!refs.ok()) return std::nullopt;
  for (const auto& r : *refs) {
    if (r.name == ref) return r.oid;
  }
  return std::string();
}

// Whether `current` is what the update of `ref` expected to find.
bool Matches(const std::vector<GitPushUpdate>& updates, const std::string& ref,
             const std::string& current) {
  for (const auto& u : updates) {
    if (u.ref == ref) return u.expected_old ? *u.expected_old == current : current.empty();
  }
  return true;
}

// Sends `updates`; a lost lease is kMoved, a refusal kRefused with the server's words.
Status SendUpdates(Session& s, const std::vector<GitPushUpdate>& updates,
                   std::vector<std::string>* accepted) {
  std::string messages;
  GitTransferOptions git = s.Git();
  git.progress = [&](std::string_view m) {
    messages.append(m);
    if (s.options.progress) s.options.progress(m);
  };
  CAIRN_ASSIGN_OR_RETURN(auto outcomes, s.repo->Push(s.url, updates, git));
  std::string refused, moved;
  for (const auto& o : outcomes) {
    if (o.accepted) {
      accepted->push_back(o.ref);
    } else if (o.lease_lost) {
      std::string who = o.ref.starts_with(kDeploymentRefPrefix)
                            ? WhoMoved(s, o.ref, o.current)
                            : fmt::format("{} moved on {}", o.ref, s.remote);
      moved += (moved.empty() ? "" : "; ") + who;
    } else if (auto now = CurrentOnServer(s, o.ref); now && !Matches(updates, o.ref, *now)) {
      // Refused because the ref is no longer what this push was built on: a lost race inside
      // the server ("cannot lock ref ... but expected ...").
      std::string who = o.ref.starts_with(kDeploymentRefPrefix)
                            ? WhoMoved(s, o.ref, *now)
                            : fmt::format("{} moved on {}", o.ref, s.remote);
      moved += (moved.empty() ? "" : "; ") + who;
    } else {
      refused += fmt::format("\n{}: {}", o.ref, o.message);
    }
  }
  if (!moved.empty()) {
    return Status::Moved(
        fmt::format("{}; run 'cairn pull {}'; nothing changed here", moved, s.remote));
  }
  if (!refused.empty()) {
    std::string server = messages.empty() ? "" : "\nthe server said:\n" + messages;
    return Status::Refused(
        fmt::format("{} refused the push (a hook, hidden refs under refs/cairn/, or "
                    "permissions):{}{}",
                    s.remote, refused, server));
  }
  return Status::OK();
}

Status SaveTracking(Session& s, const std::map<std::string, std::string>& tips,
                    const std::vector<std::string>& upstream_of) {
  Batch batch(s.db());
  for (const auto& [ref, tip] : tips)
    batch.Put(Table::kMeta, keys::TrackingKey(s.remote, ref), tip);
  for (const auto& d : upstream_of) batch.Put(Table::kMeta, keys::UpstreamKey(d), s.remote);
  if (batch.Count() == 0) return Status::OK();
  return s.db().Write(batch, /*sync=*/true);
}

}  // namespace

Result<TransferReport> Push(Store& store, const std::string& remote, const PushOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(Session s, OpenSession(store, remote, options.transfer));
  TransferReport report;
  report.remote = remote;
  std::vector<std::string> names;
  for (const auto& d : options.deployments) {
    CAIRN_RETURN_IF_ERROR(GetDeployment(store, d).status());
    names.push_back(d.str());
  }
  if (options.deployments.empty() && options.snapshots.empty()) {
    CAIRN_ASSIGN_OR_RETURN(RemoteInfo info, GetRemote(store, remote));
    names = info.upstream_of;
  }
  CAIRN_ASSIGN_OR_RETURN(auto refs, FetchAll(s));
  auto tip_of = [&](const std::string& ref) {
    auto it = refs.find(ref);
    return it == refs.end() ? std::string() : it->second;
  };
  GitWriter writer(store, *s.repo);
  std::vector<ChainPush> chains;
  std::set<SnapshotId> snapshots;
  snapshots.insert(options.snapshots.begin(), options.snapshots.end());
  CAIRN_ASSIGN_OR_RETURN(
      auto trust, BuildChainPush(s, writer, std::string(kTrustRef), tip_of(std::string(kTrustRef)),
                                 TrustChain(), false));
  chains.push_back(std::move(trust));
  CAIRN_ASSIGN_OR_RETURN(auto policy,
                         BuildChainPush(s, writer, std::string(kPolicyRef),
                                        tip_of(std::string(kPolicyRef)), PolicyChain(), false));
  chains.push_back(std::move(policy));
  for (const auto& name : names) {
    std::string ref = DeploymentRef(name);
    CAIRN_ASSIGN_OR_RETURN(
        auto d, BuildChainPush(s, writer, ref, tip_of(ref), DeploymentChain(name), true));
    CAIRN_ASSIGN_OR_RETURN(auto events, LocalChain(s.db(), DeploymentChain(name)));
    for (const auto& bytes : events) {
      CAIRN_ASSIGN_OR_RETURN(Event e, DecodeEvent(bytes, name));
      snapshots.insert(e.to);
    }
    report.events += d.events;
    report.lines.push_back(d.events ? fmt::format("{}: {} event(s)", name, d.events)
                                    : fmt::format("{}: up to date", name));
    chains.push_back(std::move(d));
  }
  CAIRN_ASSIGN_OR_RETURN(
      auto evidence, BuildEvidencePush(s, writer, tip_of(std::string(kEvidenceRef)), snapshots));
  report.evidence = evidence.events;
  chains.push_back(std::move(evidence));
  report.trust_events = chains[0].events;
  report.policy_events = chains[1].events;
  std::vector<GitPushUpdate> updates;
  for (const SnapshotId& id : snapshots) {
    std::string ref = SnapshotRef(id);
    if (!tip_of(ref).empty()) continue;
    CAIRN_ASSIGN_OR_RETURN(std::string commit, writer.SnapshotCommit(id));
    updates.push_back({ref, commit, std::nullopt});
    ++report.snapshots;
  }
  std::map<std::string, std::string> tips;
  for (const auto& c : chains) {
    if (!c.new_tip.empty()) {
      updates.push_back({c.ref, c.new_tip, c.expected_old});
      tips[c.ref] = c.new_tip;
    } else if (c.expected_old) {
      tips[c.ref] = *c.expected_old;  // in step with the remote
    }
  }
  s.Say(fmt::format("sending {} ref(s) to {}", updates.size(), s.url));
  std::vector<std::string> accepted;
  CAIRN_RETURN_IF_ERROR(SendUpdates(s, updates, &accepted));
  std::vector<std::string> upstream_of;
  for (const auto& d : options.deployments) upstream_of.push_back(d.str());
  CAIRN_RETURN_IF_ERROR(SaveTracking(s, tips, upstream_of));
  if (report.trust_events)
    report.lines.push_back(fmt::format("trust: {} event(s)", report.trust_events));
  if (report.policy_events)
    report.lines.push_back(fmt::format("policy: {} event(s)", report.policy_events));
  return report;
}

// ---- the upstream publisher ----

namespace {

class UpstreamPublisher final : public MovePublisher {
 public:
  UpstreamPublisher(Session s, std::string deployment)
      : s_(std::move(s)), name_(std::move(deployment)), ref_(DeploymentRef(name_)) {}

  Status Publish(const Event& sealed) override {
    GitWriter writer(*s_.store, *s_.repo);
    CAIRN_ASSIGN_OR_RETURN(std::string sealed_bytes, CanonicalJson(sealed.ToJson()));
    std::vector<GitPushUpdate> updates;
    records_.clear();
    // The deployment's events the remote lacks (normally only the new one) on the tip last
    // pulled; then the trust and policy chains when this store has changes the remote lacks
    // (a move signed under trust event #N needs #N there), each with a lease on its tip.
    std::set<SnapshotId> snapshots;
    CAIRN_ASSIGN_OR_RETURN(ChainPush move,
                           BuildChainPush(s_, writer, ref_, Tracked(ref_), DeploymentChain(name_),
                                          true, sealed_bytes, &snapshots));
    // Snapshot refs the server has already are not sent again.
    CAIRN_ASSIGN_OR_RETURN(auto advertised,
                           s_.repo->ListRemote(s_.url, std::string(kSnapshotRefPrefix), s_.Git()));
    std::set<std::string> have;
    for (const auto& r : advertised) have.insert(r.name);
    for (const SnapshotId& id : snapshots) {
      if (have.contains(SnapshotRef(id))) continue;
      CAIRN_ASSIGN_OR_RETURN(std::string commit, writer.SnapshotCommit(id));
      updates.push_back({SnapshotRef(id), commit, std::nullopt});
    }
    updates.push_back({ref_, move.new_tip, move.expected_old});
    for (const auto& [ref, place] : {std::pair(std::string(kTrustRef), TrustChain()),
                                     std::pair(std::string(kPolicyRef), PolicyChain())}) {
      CAIRN_ASSIGN_OR_RETURN(ChainPush chain,
                             BuildChainPush(s_, writer, ref, Tracked(ref), place, false));
      if (chain.new_tip.empty()) continue;
      updates.push_back({ref, chain.new_tip, chain.expected_old});
      records_.emplace_back(keys::TrackingKey(s_.remote, ref), chain.new_tip);
    }
    std::vector<std::string> accepted;
    CAIRN_RETURN_IF_ERROR(SendUpdates(s_, updates, &accepted));
    records_.emplace_back(keys::TrackingKey(s_.remote, ref_), move.new_tip);
    return Status::OK();
  }

  std::vector<std::pair<std::string, std::string>> MetaRecords() const override { return records_; }

 private:
  std::string Tracked(const std::string& ref) const {
    auto it = s_.tracking.find(ref);
    return it == s_.tracking.end() ? std::string() : it->second;
  }

  Session s_;
  std::string name_;
  std::string ref_;
  std::vector<std::pair<std::string, std::string>> records_;
};

// Trust and policy changes of a store whose chains are shared.
class SharedChainPublisher final : public ChainPublisher {
 public:
  explicit SharedChainPublisher(Session s) : s_(std::move(s)) {}

  Status Publish(PublishedChain chain, std::string_view event_bytes) override {
    const bool trust = chain == PublishedChain::kTrust;
    const std::string ref(trust ? kTrustRef : kPolicyRef);
    auto tracked = s_.tracking.find(ref);
    std::string tip = tracked == s_.tracking.end() ? std::string() : tracked->second;
    GitWriter writer(*s_.store, *s_.repo);
    CAIRN_ASSIGN_OR_RETURN(
        ChainPush push, BuildChainPush(s_, writer, ref, tip, trust ? TrustChain() : PolicyChain(),
                                       false, event_bytes));
    std::vector<std::string> accepted;
    CAIRN_RETURN_IF_ERROR(SendUpdates(s_, {{ref, push.new_tip, push.expected_old}}, &accepted));
    records_ = {{keys::TrackingKey(s_.remote, ref), push.new_tip}};
    return Status::OK();
  }

  std::vector<std::pair<std::string, std::string>> MetaRecords() const override { return records_; }

 private:
  Session s_;
  std::vector<std::pair<std::string, std::string>> records_;
};

}  // namespace

Result<std::unique_ptr<MovePublisher>> NewUpstreamPublisher(Store& store,
                                                            const DeploymentName& deployment,
                                                            const TransferOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(auto upstream, UpstreamOf(store, deployment));
  if (!upstream) return std::unique_ptr<MovePublisher>();
  CAIRN_ASSIGN_OR_RETURN(Session s, OpenSession(store, *upstream, options));
  return std::unique_ptr<MovePublisher>(new UpstreamPublisher(std::move(s), deployment.str()));
}

Result<std::unique_ptr<ChainPublisher>> NewChainPublisher(Store& store,
                                                          const TransferOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(auto remotes, ListRemotes(store));
  std::string chosen;
  for (const auto& r : remotes) {
    CAIRN_ASSIGN_OR_RETURN(auto tracking, ReadTracking(store, r.name));
    if (!tracking.contains(std::string(kTrustRef)) && !tracking.contains(std::string(kPolicyRef))) {
      continue;
    }
    if (chosen.empty() || r.name == "origin") chosen = r.name;
  }
  if (chosen.empty()) return std::unique_ptr<ChainPublisher>();
  CAIRN_ASSIGN_OR_RETURN(Session s, OpenSession(store, chosen, options));
  return std::unique_ptr<ChainPublisher>(new SharedChainPublisher(std::move(s)));
}

// ---- remote check ----

Result<RemoteCheck> CheckRemote(Store& store, const std::string& remote,
                                const TransferOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(Session s, OpenSession(store, remote, options));
  RemoteCheck check;
  CAIRN_ASSIGN_OR_RETURN(auto before, s.repo->ListRemote(s.url, std::string(kRefsRoot), s.Git()));
  check.refs = before.size();
  // The probe: an empty tree in a commit of its own, under a unique name.
  CAIRN_ASSIGN_OR_RETURN(std::string blob, s.repo->WriteBlob("cairn remote check\n"));
  CAIRN_ASSIGN_OR_RETURN(std::string tree, s.repo->WriteTree({{"probe", blob, 0100644}}));
  CAIRN_ASSIGN_OR_RETURN(std::string commit, s.repo->WriteCommit(tree, {}, "cairn", "cairn", 0,
                                                                 "cairn remote check probe\n"));
  const std::string probe =
      fmt::format("refs/cairn/probe/{}-{}", getpid(), store.clock().NowMicros());
  std::vector<std::string> accepted;
  Status sent = SendUpdates(s, {{probe, commit, std::nullopt}}, &accepted);
  if (!sent.ok()) return sent;
  check.probe_pushed = true;
  CAIRN_ASSIGN_OR_RETURN(auto after, s.repo->ListRemote(s.url, std::string(kRefsRoot), s.Git()));
  for (const auto& r : after) check.probe_visible = check.probe_visible || r.name == probe;
  accepted.clear();
  Status deleted = SendUpdates(s, {{probe, "", commit}}, &accepted);
  check.probe_deleted = deleted.ok();
  if (!check.probe_visible) {
    return Status::Refused(fmt::format(
        "{} accepted a ref under refs/cairn/ but does not show it (it hides refs/cairn/*: "
        "receive.hideRefs or uploadpack.hideRefs); cairn cannot work through it",
        remote));
  }
  if (!deleted.ok()) return deleted;
  return check;
}

}  // namespace cairn
