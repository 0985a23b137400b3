// Key and value encodings of the meta and snapshot-log families (docs/format.md). Object
// records are encoded in object_codec.*, stat-cache entries in stat_cache.*.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::keys {

// meta family
inline constexpr std::string_view kFormatVersion = "format-version";       // decimal text
inline constexpr std::string_view kNextSnapshotSeq = "next-snapshot-seq";  // be64
std::string AppHead(std::string_view app);  // "app-head/<app>" -> raw snapshot id

// Fixed-width big-endian integers: sort in numeric order as RocksDB keys.
std::string EncodeBe64(uint64_t v);
std::optional<uint64_t> DecodeBe64(std::string_view bytes);
void AppendLe64(std::string* out, uint64_t v);
void AppendLe32(std::string* out, uint32_t v);
uint64_t ReadLe64(const char* p);
uint32_t ReadLe32(const char* p);

}  // namespace cairn::keys
