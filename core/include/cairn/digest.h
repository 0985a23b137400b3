// Digest: a SHA-256 value, the address of every object and the id of every snapshot.
//
// Printed forms: objects are "sha256:<64 lowercase hex>", snapshot ids are the bare 64 hex
// digits (git-like). Sha256 streams bytes of any length through OpenSSL's EVP interface.
// Digest is a plain value; a Sha256 instance must not be shared between threads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn {

class Digest {
 public:
  static constexpr size_t kSize = 32;
  using Bytes = std::array<uint8_t, kSize>;

  Digest() { bytes_.fill(0); }
  explicit Digest(const Bytes& bytes) : bytes_(bytes) {}

  // Parses "sha256:<64 hex>". The bare 64-hex form is accepted only when `allow_bare`.
  static Result<Digest> Parse(std::string_view text, bool allow_bare = false);
  // Interprets exactly 32 raw bytes (a database key).
  static Result<Digest> FromRaw(std::string_view raw);
  // SHA-256 of `data`, in one call.
  static Digest Of(std::string_view data);

  std::string Hex() const;       // 64 lowercase hex digits
  std::string ToString() const;  // "sha256:" + Hex()
  std::string_view Raw() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  const Bytes& bytes() const { return bytes_; }

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;

 private:
  Bytes bytes_;
};

// Streaming SHA-256. Update() any number of times, then Finish() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  void Update(const void* data, size_t size);
  Digest Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True if `text` is 1..64 lowercase-or-uppercase hex digits.
bool IsHex(std::string_view text);

// The value of one hex digit (either case), or -1 if `c` is not one.
int HexDigitValue(char c);

// `size` bytes as 2 * size lowercase hex digits.
std::string ToHex(const uint8_t* data, size_t size);

}  // namespace cairn
