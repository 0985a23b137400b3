#include "port/zstd_codec.h"

#include <fmt/format.h>
#include <zstd.h>

namespace cairn {

struct Compressor::Impl {
  ZSTD_CCtx* ctx = nullptr;
  int level = 3;
};

Compressor::Compressor(int level) : impl_(std::make_unique<Impl>()) {
  impl_->ctx = ZSTD_createCCtx();
  impl_->level = level;
}
Compressor::~Compressor() { ZSTD_freeCCtx(impl_->ctx); }

Status Compressor::Compress(std::string_view in, std::string* out) {
  if (impl_->ctx == nullptr) return Status::Internal("zstd: could not create a context");
  out->resize(ZSTD_compressBound(in.size()));
  size_t n =
      ZSTD_compressCCtx(impl_->ctx, out->data(), out->size(), in.data(), in.size(), impl_->level);
  if (ZSTD_isError(n)) {
    return Status::Internal(fmt::format("zstd compression failed: {}", ZSTD_getErrorName(n)));
  }
  out->resize(n);
  return Status::OK();
}

struct Decompressor::Impl {
  ZSTD_DCtx* ctx = nullptr;
};

Decompressor::Decompressor() : impl_(std::make_unique<Impl>()) { impl_->ctx = ZSTD_createDCtx(); }
Decompressor::~Decompressor() { ZSTD_freeDCtx(impl_->ctx); }

Status Decompressor::Decompress(std::string_view in, size_t expected_size, std::string* out,
                                std::string_view what) {
  if (impl_->ctx == nullptr) return Status::Internal("zstd: could not create a context");
  unsigned long long frame_size = ZSTD_getFrameContentSize(in.data(), in.size());
  if (frame_size == ZSTD_CONTENTSIZE_ERROR || frame_size != expected_size) {
    return Status::Corruption(fmt::format(
        "{}: compressed data does not declare the recorded size {}", what, expected_size));
  }
  out->resize(expected_size);
  size_t n = ZSTD_decompressDCtx(impl_->ctx, out->data(), out->size(), in.data(), in.size());
  if (ZSTD_isError(n) || n != expected_size) {
    return Status::Corruption(fmt::format("{}: compressed data is damaged ({})", what,
                                          ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
  }
  return Status::OK();
}

}  // namespace cairn
