// Streaming SHA-1, for checking git object ids (port/libgit2_adapter.cc) — nothing else:
// cairn's own digests are SHA-256 (cairn/digest.h). Implemented by OpenSSL
// (port/openssl_adapter.cc), which uses the CPU's SHA instructions where it has them.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace cairn {

class Sha1 {
 public:
  Sha1();
  ~Sha1();
  Sha1(const Sha1&) = delete;
  Sha1& operator=(const Sha1&) = delete;

  void Update(const void* data, size_t size);
  std::string FinishHex();  // 40 lowercase hex digits

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn
