// Object records in the `objects` family (docs/format.md, "objects"):
//   key   = 32 raw digest bytes
//   value = tag byte, then
//     0x00 raw:     the object's bytes
//     0x01 zstd:    le64 size, one zstd frame
//     0x02 chunked: le64 size, le32 chunk size, N x 32-byte chunk digests
// Chunk objects are ordinary raw/zstd records of at most the chunk size.
//
// Every record has an entry in `object_meta` written in the same batch (docs/format.md):
//   key   = 32 raw digest bytes
//   value = le64 size, u8 encoding (0 raw, 1 zstd, 2 chunked), le64 stored bytes,
//           le32 chunk count
// Existence and size checks read only this small family, never the (blob) record.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cairn/digest.h"
#include "cairn/object.h"
#include "port/rocks.h"

namespace cairn {

class Compressor;
class Decompressor;

struct ObjectRecord {
  ObjectEncoding encoding = ObjectEncoding::kRaw;
  uint64_t size = 0;
  std::string_view payload;    // raw bytes or zstd frame (views into the value)
  uint32_t chunk_size = 0;     // kChunked
  std::vector<Digest> chunks;  // kChunked
};

// Encodes a small object (<= kChunkSize): compressed when that saves at least 1/16.
Status EncodeInlineObject(std::string_view data, Compressor& compressor, std::string* out);
// Encodes a chunk list.
std::string EncodeChunkedObject(uint64_t size, uint32_t chunk_size,
                                const std::vector<Digest>& chunks);
// Parses a stored value; kCorruption naming `digest` when it is malformed.
Result<ObjectRecord> DecodeObjectRecord(const Digest& digest, std::string_view value);
// The bytes of an inline record, verified against `digest`.
Status InlineObjectBytes(const Digest& digest, const ObjectRecord& record,
                         Decompressor& decompressor, std::string* out);

std::string EncodeObjectMeta(const ObjectInfo& info);
Result<ObjectInfo> DecodeObjectMeta(const Digest& digest, std::string_view value);

// Adds an object's record and its meta entry to `batch`. `record` must be an encoded
// record (EncodeInlineObject / EncodeChunkedObject) of an object of `size` bytes.
Status AddObjectToBatch(Batch& batch, const Digest& digest, std::string_view record, uint64_t size);
// Stores `data` as an object (chunked above kChunkSize) in `batch`; returns its digest.
Result<Digest> AddBytesAsObject(Batch& batch, std::string_view data);

}  // namespace cairn
