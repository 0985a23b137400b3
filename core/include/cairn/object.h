// Objects: immutable byte strings addressed by their SHA-256, stored once, compressed.
//
// Every read re-hashes what it returns; bytes that do not match their address are never
// handed out — the read fails with kCorruption naming the object. Objects larger than
// kChunkSize are stored as a list of chunk objects and streamed, so memory stays bounded
// whatever their size. All functions are safe to call from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "cairn/digest.h"
#include "cairn/store.h"

namespace cairn {

// Objects up to this size are stored in one record; larger ones are split into chunks of
// exactly this size (the last may be shorter).
inline constexpr uint64_t kChunkSize = 1 << 20;

enum class ObjectEncoding { kRaw, kZstd, kChunked };
const char* EncodingName(ObjectEncoding encoding);

struct ObjectInfo {
  Digest digest;
  uint64_t size = 0;          // bytes of the object itself
  uint64_t stored_bytes = 0;  // bytes of its record (chunk records not included)
  ObjectEncoding encoding = ObjectEncoding::kRaw;
  size_t chunks = 0;  // number of chunk objects (kChunked only)
};

// The record's facts, without reading chunk data. kNotFound if absent.
Result<ObjectInfo> StatObject(const Store& store, const Digest& digest);

// True if the object (and, for chunked objects, its record) is present.
Result<bool> HasObject(const Store& store, const Digest& digest);

// The whole object, verified. Refuses (kUsage) objects larger than `max_size`.
Result<std::string> ReadObject(const Store& store, const Digest& digest,
                               uint64_t max_size = 64ull << 20);

// Streams the object to `sink` piece by piece. Each piece is verified before it is passed
// on (chunks by their own digest, small objects whole) and the whole digest is checked at
// the end. A failing sink stops the stream and its Status is returned.
Status StreamObject(const Store& store, const Digest& digest,
                    const std::function<Status(std::string_view)>& sink);

}  // namespace cairn
