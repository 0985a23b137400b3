// The zstd boundary: one-shot compression and bounded decompression with reusable
// contexts. A Compressor/Decompressor must not be shared between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn {

class Compressor {
 public:
  explicit Compressor(int level);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
  // Replaces *out with one zstd frame holding `in`.
  Status Compress(std::string_view in, std::string* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Decompressor {
 public:
  Decompressor();
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;
  // Decompresses one frame that must expand to exactly `expected_size` bytes; anything
  // else (including a larger frame) is kCorruption mentioning `what`.
  Status Decompress(std::string_view in, size_t expected_size, std::string* out,
                    std::string_view what);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn
