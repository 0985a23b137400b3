// The store's schema: which logical tables a store has, where each one lives in each store
// format, and how every key is built. This file pair is the only code that names a RocksDB
// column family or lays out the bytes of a key; docs/format.md mirrors it byte by byte.
//
// Format 1 kept each table in a column family of its own. Format 2 keeps three families:
// `objects` (blob files), `stat_cache` (host-local, droppable) and `default` ("meta"),
// where every other table lives under a one-byte prefix. Callers name a Table and a key
// *within* the table; the Db (port/rocks.h) adds the prefix and picks the family, so the
// same code reads both formats. Everything here is pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn {

class SnapshotId;
class Digest;
class KeyId;

// The logical tables. The values are stable: they index Schema tables.
enum class Table : uint8_t {
  kMeta = 0,      // store-wide records: format version, snapshot counter, app heads
  kObjects,       // digest -> object record (port: blob files)
  kSnapshots,     // snapshot id -> canonical manifest
  kSnapshotLog,   // be64 sequence -> snapshot id + summary (creation order)
  kStatCache,     // absolute file path -> stat fingerprint + digest (host-local)
  kContentIndex,  // content digest + snapshot id -> "" (snapshots with equal components)
  kObjectMeta,    // digest -> size, encoding, stored bytes, chunks (small: no blob reads)
  kDeployments,   // name -> canonical JSON of its last event (the pointer)
  kEvents,        // name \0 be64 seq -> canonical event JSON
  kEventTime,     // name \0 time key, be64 seq -> "" (what was live when)
  kLiveHistory,   // name \0 snapshot id -> le64 first seq, le64 rolled-back seq
  kSignatures,    // snapshot id + key id -> canonical JSON signature record
  kTrust,         // trust chain: events, head, trusted names, revoked keys
  kAttestations,  // snapshot id + attestation id -> canonical JSON attestation record
  kPolicy,        // policy chain: events, head, each deployment's policy
  kCount,
};
const char* TableName(Table table);

// One store format's layout.
class Schema {
 public:
  static const Schema& Format1();
  static const Schema& Format2();
  int version() const { return version_; }
  // The store directory's database subdirectory: "db" (format 1), "db2" (format 2).
  const char* db_dir() const { return db_dir_; }
  // Families this format has, in the order they are opened ("default" first).
  const std::vector<std::string>& families() const { return families_; }
  // Index into families() of the family holding `table`.
  size_t FamilyOf(Table table) const { return family_of_[static_cast<size_t>(table)]; }
  // Bytes before every key of `table` in its family ("" when the family holds it alone).
  std::string_view PrefixOf(Table table) const { return prefix_of_[static_cast<size_t>(table)]; }
  // The table that owns `full_key` of the family named `family` (a key as RocksDB stores it,
  // prefix included), and the key within that table; nullopt when no table of this format
  // owns it.
  std::optional<std::pair<Table, std::string_view>> TableOf(std::string_view family,
                                                            std::string_view full_key) const;

  // The time part of an event_time key. Format 2: big-endian offset binary (the time with
  // its sign bit flipped), so keys sort in time order for every int64 time, including
  // times before 1970. Format 1 stored the two's-complement bits as unsigned, which sorts
  // negative times after every positive one; format 1 is only read, and a negative query
  // time is clamped to 0 there (no format-1 event is dated before 1970).
  std::string TimeKey(int64_t micros) const;

 private:
  Schema(int version, const char* db_dir);
  int version_;
  const char* db_dir_;
  std::vector<std::string> families_;
  std::vector<size_t> family_of_;
  std::vector<std::string> prefix_of_;
};

// ---- keys within tables (identical in every format unless a Schema is taken) ----

namespace keys {
// kMeta
inline constexpr std::string_view kFormatVersion = "format-version";       // decimal text
inline constexpr std::string_view kNextSnapshotSeq = "next-snapshot-seq";  // be64
// "1" once the store has an acknowledgement record (db2/ACKED): it must not vanish.
inline constexpr std::string_view kAckedWrites = "acked-writes";
// be64: the seq of the last attestation recorded (EvalStatement::seq).
inline constexpr std::string_view kLastAttestationSeq = "last-attestation-seq";
std::string AppHead(std::string_view app);  // "app-head/<app>" -> raw snapshot id
// Team mode (remote/remote_records.h): "remote/<name>" -> the remote's URL;
// "upstream/<deployment>" -> the name of the remote the deployment moves through;
// "tracking/<remote>\0<git ref>" -> the last verified tip of that ref on the remote (40 hex).
inline constexpr std::string_view kRemotePrefix = "remote/";
// The root key ids pinned at clone (canonical JSON array of "sha256:…"): every pull's trust
// chain must hold a root of exactly these keys.
inline constexpr std::string_view kPinnedRoot = "pinned-root";
inline constexpr std::string_view kUpstreamPrefix = "upstream/";
std::string RemoteKey(std::string_view name);
std::string UpstreamKey(std::string_view deployment);
std::string TrackingKey(std::string_view remote, std::string_view ref);
std::string TrackingPrefix(std::string_view remote);

// Fixed-width big-endian integers: sort in numeric order as RocksDB keys.
std::string EncodeBe64(uint64_t v);
std::optional<uint64_t> DecodeBe64(std::string_view bytes);
// Little-endian integers inside values.
void AppendLe64(std::string* out, uint64_t v);
void AppendLe32(std::string* out, uint32_t v);
uint64_t ReadLe64(const char* p);
uint32_t ReadLe32(const char* p);
}  // namespace keys

// kObjects, kObjectMeta: the 32 raw bytes of the digest.
std::string ObjectKey(const Digest& digest);
// kSnapshots: the 32 raw bytes of the id.
std::string SnapshotKey(const SnapshotId& id);
// kSnapshotLog: be64 sequence number.
std::string SnapshotLogKey(uint64_t seq);
// kContentIndex: content digest + snapshot id.
std::string ContentIndexKey(const Digest& content, const SnapshotId& id);
// kStatCache: the file's absolute path.
std::string StatCacheKey(std::string_view root, std::string_view relative_path);
// kStatCache: "git-blob:" and a git blob id (40 hex digits) -> the 32-byte SHA-256 of its
// bytes. Never an absolute path, so never a file's entry.
std::string GitBlobCacheKey(std::string_view oid);

// kDeployments: the name. kEvents, kEventTime, kLiveHistory: name, \0, then the rest.
// Deployment names never contain \0, so "name \0" is an exact prefix.
std::string DeploymentKey(std::string_view name);
std::string DeploymentPrefix(std::string_view name);
std::string EventKey(std::string_view name, uint64_t seq);
// The format-2 event_time key of a format-1 one (only the time is re-encoded); keys too
// short to hold a time and a seq are returned as they are.
std::string Format2EventTimeKey(std::string_view format1_key);
std::string EventTimeKey(const Schema& schema, std::string_view name, int64_t time_micros,
                         uint64_t seq);
// The seq at the end of an event_time key (0 if the key is too short).
uint64_t SeqOfEventTimeKey(std::string_view key);
std::string LiveHistoryKey(std::string_view name, const SnapshotId& id);

// kSignatures: snapshot id + key id; the prefix is the snapshot id.
std::string SignatureKey(const SnapshotId& snapshot, const KeyId& key);
std::string SignaturePrefix(const SnapshotId& snapshot);
// kAttestations: snapshot id + attestation id.
std::string AttestationKey(const SnapshotId& snapshot, const Digest& id);
std::string AttestationPrefix(const SnapshotId& snapshot);

// Hash-chain events (deployments, trust, policy): the chain's prefix, then be64 seq.
std::string ChainEventKey(std::string_view events_prefix, uint64_t seq);
// The seq of an event key under `events_prefix`; nullopt when it is not one.
std::optional<uint64_t> SeqOfChainEventKey(std::string_view events_prefix, std::string_view key);

// kTrust
inline constexpr std::string_view kTrustHeadKey = "head";
inline constexpr std::string_view kTrustEventPrefix = "event/";
inline constexpr std::string_view kTrustNamePrefix = "name/";
inline constexpr std::string_view kTrustRevokedPrefix = "revoked/";
inline constexpr std::string_view kTrustRootKey = "root";  // the newest root event
std::string TrustEventKey(uint64_t seq);
std::string TrustNameKey(std::string_view name);
std::string TrustRevokedKey(const KeyId& key);

// kPolicy
inline constexpr std::string_view kPolicyHeadKey = "head";
inline constexpr std::string_view kPolicyEventPrefix = "event/";
inline constexpr std::string_view kPolicyRecordPrefix = "policy/";
std::string PolicyEventKey(uint64_t seq);
std::string PolicyRecordKey(std::string_view deployment);

}  // namespace cairn
