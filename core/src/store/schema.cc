#include "store/schema.h"

#include "cairn/digest.h"
#include "cairn/signing.h"
#include "cairn/snapshot.h"

namespace cairn {

namespace {
constexpr const char* kTableNames[] = {
    "meta",          "objects",     "snapshots",   "snapshot_log", "stat_cache",
    "content_index", "object_meta", "deployments", "events",       "event_time",
    "live_history",  "signatures",  "trust",       "attestations", "policy"};
static_assert(std::size(kTableNames) == static_cast<size_t>(Table::kCount));

// Format 2's one-byte prefixes in the `default` family (docs/format.md, "Format 2").
// Printable, so that a key dump (`ldb scan`) can be read; never reused for another table.
constexpr char kFormat2Prefix[] = {'M',   // kMeta
                                   0,     // kObjects: family of its own
                                   's',   // kSnapshots
                                   'l',   // kSnapshotLog
                                   0,     // kStatCache: family of its own
                                   'c',   // kContentIndex
                                   'o',   // kObjectMeta
                                   'd',   // kDeployments
                                   'e',   // kEvents
                                   't',   // kEventTime
                                   'h',   // kLiveHistory
                                   'g',   // kSignatures
                                   'T',   // kTrust
                                   'a',   // kAttestations
                                   'p'};  // kPolicy
static_assert(std::size(kFormat2Prefix) == static_cast<size_t>(Table::kCount));
}  // namespace

const char* TableName(Table table) { return kTableNames[static_cast<size_t>(table)]; }

Schema::Schema(int version, const char* db_dir) : version_(version), db_dir_(db_dir) {
  constexpr size_t n = static_cast<size_t>(Table::kCount);
  family_of_.assign(n, 0);
  prefix_of_.assign(n, "");
  if (version == 1) {
    // One family per table; the meta table is RocksDB's "default" family.
    families_.push_back("default");
    for (size_t t = 1; t < n; ++t) {
      family_of_[t] = families_.size();
      families_.push_back(kTableNames[t]);
    }
    return;
  }
  families_ = {"default", "objects", "stat_cache"};
  for (size_t t = 0; t < n; ++t) {
    if (static_cast<Table>(t) == Table::kObjects) {
      family_of_[t] = 1;
    } else if (static_cast<Table>(t) == Table::kStatCache) {
      family_of_[t] = 2;
    } else {
      prefix_of_[t] = std::string(1, kFormat2Prefix[t]);
    }
  }
}

std::optional<std::pair<Table, std::string_view>> Schema::TableOf(std::string_view family,
                                                                  std::string_view full_key) const {
  for (size_t t = 0; t < static_cast<size_t>(Table::kCount); ++t) {
    if (families_[family_of_[t]] != family) continue;
    const std::string& prefix = prefix_of_[t];
    if (full_key.starts_with(prefix)) {
      return std::make_pair(static_cast<Table>(t), full_key.substr(prefix.size()));
    }
  }
  return std::nullopt;
}

const Schema& Schema::Format1() {
  static const Schema schema(1, "db");
  return schema;
}

const Schema& Schema::Format2() {
  static const Schema schema(2, "db2");
  return schema;
}

std::string Schema::TimeKey(int64_t micros) const {
  if (version_ == 1) return keys::EncodeBe64(static_cast<uint64_t>(micros < 0 ? 0 : micros));
  return keys::EncodeBe64(static_cast<uint64_t>(micros) ^ (uint64_t{1} << 63));
}

// ---- integers ----

namespace keys {

std::string AppHead(std::string_view app) { return "app-head/" + std::string(app); }
std::string RemoteKey(std::string_view name) {
  return std::string(kRemotePrefix) + std::string(name);
}
std::string UpstreamKey(std::string_view deployment) {
  return std::string(kUpstreamPrefix) + std::string(deployment);
}
std::string TrackingPrefix(std::string_view remote) {
  std::string key = "tracking/";
  key += remote;
  key.push_back('\0');
  return key;
}
std::string TrackingKey(std::string_view remote, std::string_view ref) {
  return TrackingPrefix(remote) + std::string(ref);
}

std::string EncodeBe64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::optional<uint64_t> DecodeBe64(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

void AppendLe64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void AppendLe32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t ReadLe64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint32_t ReadLe32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace keys

// ---- keys ----

std::string ObjectKey(const Digest& digest) { return std::string(digest.Raw()); }
std::string SnapshotKey(const SnapshotId& id) { return std::string(id.digest().Raw()); }
std::string SnapshotLogKey(uint64_t seq) { return keys::EncodeBe64(seq); }
std::string ContentIndexKey(const Digest& content, const SnapshotId& id) {
  return std::string(content.Raw()) + std::string(id.digest().Raw());
}
std::string StatCacheKey(std::string_view root, std::string_view relative_path) {
  std::string key(root);
  key += '/';
  key += relative_path;
  return key;
}

std::string GitBlobCacheKey(std::string_view oid) { return "git-blob:" + std::string(oid); }

std::string DeploymentKey(std::string_view name) { return std::string(name); }
std::string DeploymentPrefix(std::string_view name) { return std::string(name) + '\0'; }
std::string ChainEventKey(std::string_view events_prefix, uint64_t seq) {
  return std::string(events_prefix) + keys::EncodeBe64(seq);
}
std::optional<uint64_t> SeqOfChainEventKey(std::string_view events_prefix, std::string_view key) {
  if (!key.starts_with(events_prefix)) return std::nullopt;
  return keys::DecodeBe64(key.substr(events_prefix.size()));
}
std::string EventKey(std::string_view name, uint64_t seq) {
  return ChainEventKey(DeploymentPrefix(name), seq);
}
std::string Format2EventTimeKey(std::string_view key) {
  if (key.size() < 17) return std::string(key);
  size_t time_at = key.size() - 16;
  uint64_t bits = *keys::DecodeBe64(key.substr(time_at, 8));
  std::string out(key.substr(0, time_at));
  out += Schema::Format2().TimeKey(static_cast<int64_t>(bits));
  out += key.substr(key.size() - 8);
  return out;
}
std::string EventTimeKey(const Schema& schema, std::string_view name, int64_t time_micros,
                         uint64_t seq) {
  return DeploymentPrefix(name) + schema.TimeKey(time_micros) + keys::EncodeBe64(seq);
}
uint64_t SeqOfEventTimeKey(std::string_view key) {
  if (key.size() < 8) return 0;
  return keys::DecodeBe64(key.substr(key.size() - 8)).value_or(0);
}
std::string LiveHistoryKey(std::string_view name, const SnapshotId& id) {
  return DeploymentPrefix(name) + std::string(id.digest().Raw());
}

std::string SignaturePrefix(const SnapshotId& snapshot) {
  return std::string(snapshot.digest().Raw());
}
std::string SignatureKey(const SnapshotId& snapshot, const KeyId& key) {
  return SignaturePrefix(snapshot) + std::string(key.digest().Raw());
}
std::string AttestationPrefix(const SnapshotId& snapshot) {
  return std::string(snapshot.digest().Raw());
}
std::string AttestationKey(const SnapshotId& snapshot, const Digest& id) {
  return AttestationPrefix(snapshot) + std::string(id.Raw());
}

std::string TrustEventKey(uint64_t seq) { return ChainEventKey(kTrustEventPrefix, seq); }
std::string TrustNameKey(std::string_view name) {
  return std::string(kTrustNamePrefix) + std::string(name);
}
std::string TrustRevokedKey(const KeyId& key) {
  return std::string(kTrustRevokedPrefix) + std::string(key.digest().Raw());
}

std::string PolicyEventKey(uint64_t seq) { return ChainEventKey(kPolicyEventPrefix, seq); }
std::string PolicyRecordKey(std::string_view deployment) {
  return std::string(kPolicyRecordPrefix) + std::string(deployment);
}

}  // namespace cairn
