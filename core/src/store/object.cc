// Reading objects. Writing lives in object_writer.cc.
#include "cairn/object.h"

#include <fmt/format.h>

#include "port/zstd_codec.h"
#include "store/object_codec.h"
#include "store/store_internal.h"

namespace cairn {
namespace {

Result<std::string> GetRecord(const Store& store, const Digest& digest) {
  CAIRN_ASSIGN_OR_RETURN(auto value,
                         StoreInternal::db(store).Get(Table::kObjects, ObjectKey(digest)));
  if (!value)
    return Status::NotFound(fmt::format("object {} is not in the store", digest.ToString()));
  return std::move(*value);
}

// A chunk referenced by a chunk list that is missing is corruption, not "not found".
Status ChunkBytes(const Store& store, const Digest& parent, const Digest& chunk, Decompressor& dec,
                  std::string* out) {
  auto value = GetRecord(store, chunk);
  if (!value.ok()) {
    if (value.status().IsNotFound()) {
      return Status::Corruption(
          fmt::format("object {} is missing its chunk {}", parent.ToString(), chunk.ToString()));
    }
    return value.status();
  }
  CAIRN_ASSIGN_OR_RETURN(auto record, DecodeObjectRecord(chunk, *value));
  if (record.encoding == ObjectEncoding::kChunked) {
    return Status::Corruption(fmt::format("chunk {} of object {} is itself chunked",
                                          chunk.ToString(), parent.ToString()));
  }
  return InlineObjectBytes(chunk, record, dec, out);
}

}  // namespace

Result<ObjectInfo> StatObject(const Store& store, const Digest& digest) {
  CAIRN_ASSIGN_OR_RETURN(auto value,
                         StoreInternal::db(store).Get(Table::kObjectMeta, ObjectKey(digest)));
  if (!value)
    return Status::NotFound(fmt::format("object {} is not in the store", digest.ToString()));
  return DecodeObjectMeta(digest, *value);
}

Result<bool> HasObject(const Store& store, const Digest& digest) {
  return StoreInternal::db(store).Contains(Table::kObjectMeta, ObjectKey(digest));
}

Result<std::string> ReadObject(const Store& store, const Digest& digest, uint64_t max_size) {
  CAIRN_ASSIGN_OR_RETURN(auto info, StatObject(store, digest));
  if (info.size > max_size) {
    return Status::Usage(fmt::format("object {} has {} bytes, more than the {} this read allows",
                                     digest.ToString(), info.size, max_size));
  }
  std::string out;
  out.reserve(info.size);
  CAIRN_RETURN_IF_ERROR(StreamObject(store, digest, [&](std::string_view piece) {
    out.append(piece);
    return Status::OK();
  }));
  return out;
}

Status StreamObject(const Store& store, const Digest& digest,
                    const std::function<Status(std::string_view)>& sink) {
  auto value = GetRecord(store, digest);
  if (!value.ok() && value.status().IsNotFound()) {
    CAIRN_ASSIGN_OR_RETURN(bool listed, HasObject(store, digest));
    if (listed) {
      return Status::Corruption(
          fmt::format("object {} is listed but its record is missing", digest.ToString()));
    }
  }
  if (!value.ok()) return value.status();
  CAIRN_ASSIGN_OR_RETURN(auto record, DecodeObjectRecord(digest, *value));
  Decompressor dec;
  std::string bytes;
  if (record.encoding != ObjectEncoding::kChunked) {
    CAIRN_RETURN_IF_ERROR(InlineObjectBytes(digest, record, dec, &bytes));
    return sink(bytes);
  }
  Sha256 whole;
  uint64_t total = 0;
  for (size_t i = 0; i < record.chunks.size(); ++i) {
    CAIRN_RETURN_IF_ERROR(ChunkBytes(store, digest, record.chunks[i], dec, &bytes));
    bool last = i + 1 == record.chunks.size();
    if (bytes.size() > record.chunk_size || (!last && bytes.size() != record.chunk_size)) {
      return Status::Corruption(
          fmt::format("object {}: chunk {} has the wrong size", digest.ToString(), i));
    }
    total += bytes.size();
    whole.Update(bytes);
    // The last chunk is held back until the whole digest is known to be right.
    if (!last) CAIRN_RETURN_IF_ERROR(sink(bytes));
  }
  if (total != record.size || whole.Finish() != digest) {
    return Status::Corruption(fmt::format(
        "object {} is corrupt: its chunks do not add up to its digest", digest.ToString()));
  }
  return sink(bytes);
}

}  // namespace cairn
