#include "cairn/digest.h"

#include <fmt/format.h>

namespace cairn {
namespace {
constexpr std::string_view kPrefix = "sha256:";

}  // namespace

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsHex(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (HexDigitValue(c) < 0) return false;
  }
  return true;
}

Result<Digest> Digest::Parse(std::string_view text, bool allow_bare) {
  std::string_view hex = text;
  if (hex.starts_with(kPrefix)) {
    hex.remove_prefix(kPrefix.size());
  } else if (!allow_bare) {
    return Status::InvalidInput(
        fmt::format("'{}' is not a digest: expected \"sha256:\" followed by 64 hex digits", text));
  }
  if (hex.size() != 64 || !IsHex(hex)) {
    return Status::InvalidInput(
        fmt::format("'{}' is not a digest: expected 64 hex digits after \"sha256:\"", text));
  }
  Bytes bytes{};
  for (size_t i = 0; i < kSize; ++i) {
    bytes[i] = static_cast<uint8_t>(HexDigitValue(hex[2 * i]) * 16 + HexDigitValue(hex[2 * i + 1]));
  }
  return Digest(bytes);
}

Result<Digest> Digest::FromRaw(std::string_view raw) {
  if (raw.size() != kSize) {
    return Status::Corruption(fmt::format("a stored digest has {} bytes, expected 32", raw.size()));
  }
  Bytes bytes{};
  for (size_t i = 0; i < kSize; ++i) bytes[i] = static_cast<uint8_t>(raw[i]);
  return Digest(bytes);
}

std::string ToHex(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * size, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

std::string Digest::Hex() const { return ToHex(bytes_.data(), kSize); }

std::string Digest::ToString() const { return std::string(kPrefix) + Hex(); }

}  // namespace cairn
