#include "store/object_codec.h"

#include <fmt/format.h>

#include "port/zstd_codec.h"
#include "store/schema.h"

namespace cairn {
namespace {
constexpr char kTagRaw = 0x00;
constexpr char kTagZstd = 0x01;
constexpr char kTagChunked = 0x02;

Status Malformed(const Digest& d, std::string_view why) {
  return Status::Corruption(fmt::format("object {} has a malformed record: {}", d.ToString(), why));
}
}  // namespace

const char* EncodingName(ObjectEncoding encoding) {
  switch (encoding) {
    case ObjectEncoding::kRaw:
      return "raw";
    case ObjectEncoding::kZstd:
      return "zstd";
    case ObjectEncoding::kChunked:
      return "chunked";
  }
  return "?";
}

Status EncodeInlineObject(std::string_view data, Compressor& compressor, std::string* out) {
  std::string frame;
  CAIRN_RETURN_IF_ERROR(compressor.Compress(data, &frame));
  out->clear();
  if (frame.size() + 9 < data.size() - data.size() / 16) {
    out->reserve(frame.size() + 9);
    out->push_back(kTagZstd);
    keys::AppendLe64(out, data.size());
    out->append(frame);
  } else {
    out->reserve(data.size() + 1);
    out->push_back(kTagRaw);
    out->append(data);
  }
  return Status::OK();
}

std::string EncodeChunkedObject(uint64_t size, uint32_t chunk_size,
                                const std::vector<Digest>& chunks) {
  std::string out;
  out.reserve(13 + chunks.size() * Digest::kSize);
  out.push_back(kTagChunked);
  keys::AppendLe64(&out, size);
  keys::AppendLe32(&out, chunk_size);
  for (const auto& c : chunks) out.append(c.Raw());
  return out;
}

Result<ObjectRecord> DecodeObjectRecord(const Digest& digest, std::string_view value) {
  if (value.empty()) return Malformed(digest, "empty value");
  ObjectRecord r;
  switch (value[0]) {
    case kTagRaw:
      r.encoding = ObjectEncoding::kRaw;
      r.payload = value.substr(1);
      r.size = r.payload.size();
      return r;
    case kTagZstd:
      if (value.size() < 9) return Malformed(digest, "truncated zstd header");
      r.encoding = ObjectEncoding::kZstd;
      r.size = keys::ReadLe64(value.data() + 1);
      r.payload = value.substr(9);
      if (r.size > kChunkSize) return Malformed(digest, "inline object larger than a chunk");
      return r;
    case kTagChunked: {
      if (value.size() < 13) return Malformed(digest, "truncated chunk list header");
      r.encoding = ObjectEncoding::kChunked;
      r.size = keys::ReadLe64(value.data() + 1);
      r.chunk_size = keys::ReadLe32(value.data() + 9);
      std::string_view list = value.substr(13);
      if (r.chunk_size == 0 || r.chunk_size > kChunkSize || list.size() % Digest::kSize != 0) {
        return Malformed(digest, "bad chunk list");
      }
      size_t n = list.size() / Digest::kSize;
      uint64_t expected = (r.size + r.chunk_size - 1) / r.chunk_size;
      if (n != expected) return Malformed(digest, "chunk count does not match the size");
      r.chunks.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        CAIRN_ASSIGN_OR_RETURN(Digest c,
                               Digest::FromRaw(list.substr(i * Digest::kSize, Digest::kSize)));
        r.chunks.push_back(c);
      }
      return r;
    }
    default:
      return Malformed(digest, fmt::format("unknown encoding tag {}", static_cast<int>(value[0])));
  }
}

Status InlineObjectBytes(const Digest& digest, const ObjectRecord& record,
                         Decompressor& decompressor, std::string* out) {
  if (record.encoding == ObjectEncoding::kRaw) {
    out->assign(record.payload);
  } else if (record.encoding == ObjectEncoding::kZstd) {
    CAIRN_RETURN_IF_ERROR(
        decompressor.Decompress(record.payload, record.size, out, "object " + digest.ToString()));
  } else {
    return Status::Internal("InlineObjectBytes on a chunked object");
  }
  if (Digest::Of(*out) != digest) {
    out->clear();
    return Status::Corruption(fmt::format(
        "object {} is corrupt: its bytes hash to a different digest", digest.ToString()));
  }
  return Status::OK();
}

std::string EncodeObjectMeta(const ObjectInfo& info) {
  std::string out;
  keys::AppendLe64(&out, info.size);
  out.push_back(static_cast<char>(info.encoding));
  keys::AppendLe64(&out, info.stored_bytes);
  keys::AppendLe32(&out, static_cast<uint32_t>(info.chunks));
  return out;
}

Result<ObjectInfo> DecodeObjectMeta(const Digest& digest, std::string_view value) {
  if (value.size() != 21 || static_cast<uint8_t>(value[8]) > 2) {
    return Malformed(digest, "bad object_meta entry");
  }
  ObjectInfo info;
  info.digest = digest;
  info.size = keys::ReadLe64(value.data());
  info.encoding = static_cast<ObjectEncoding>(value[8]);
  info.stored_bytes = keys::ReadLe64(value.data() + 9);
  info.chunks = keys::ReadLe32(value.data() + 17);
  return info;
}

Status AddObjectToBatch(Batch& batch, const Digest& digest, std::string_view record,
                        uint64_t size) {
  CAIRN_ASSIGN_OR_RETURN(ObjectRecord decoded, DecodeObjectRecord(digest, record));
  if (decoded.size != size) return Status::Internal("object record and size disagree");
  ObjectInfo info;
  info.digest = digest;
  info.size = size;
  info.encoding = decoded.encoding;
  info.stored_bytes = record.size();
  info.chunks = decoded.chunks.size();
  batch.Put(Table::kObjects, ObjectKey(digest), record);
  batch.Put(Table::kObjectMeta, ObjectKey(digest), EncodeObjectMeta(info));
  return Status::OK();
}

Result<Digest> AddBytesAsObject(Batch& batch, std::string_view data) {
  Compressor compressor(3);
  Digest whole = Digest::Of(data);
  std::string record;
  if (data.size() <= kChunkSize) {
    CAIRN_RETURN_IF_ERROR(EncodeInlineObject(data, compressor, &record));
    CAIRN_RETURN_IF_ERROR(AddObjectToBatch(batch, whole, record, data.size()));
    return whole;
  }
  std::vector<Digest> chunks;
  for (size_t off = 0; off < data.size(); off += kChunkSize) {
    std::string_view piece = data.substr(off, kChunkSize);
    Digest d = Digest::Of(piece);
    chunks.push_back(d);
    CAIRN_RETURN_IF_ERROR(EncodeInlineObject(piece, compressor, &record));
    CAIRN_RETURN_IF_ERROR(AddObjectToBatch(batch, d, record, piece.size()));
  }
  record = EncodeChunkedObject(data.size(), static_cast<uint32_t>(kChunkSize), chunks);
  CAIRN_RETURN_IF_ERROR(AddObjectToBatch(batch, whole, record, data.size()));
  return whole;
}

}  // namespace cairn
