// BigInt: a signed integer of any size (OpenSSL BIGNUM underneath, in openssl_adapter.cc).
// The eval gates' integer rule multiplies sums of squares of billionths by squared counts:
// products far beyond 128 bits, which must be exact for `audit verify` to recompute a
// verdict bit for bit. A plain value type; allocation failure aborts, like hashing does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace cairn {

class BigInt {
 public:
  BigInt();
  BigInt(int64_t v);  // NOLINT(google-explicit-constructor): integers mix freely
  BigInt(const BigInt& other);
  BigInt(BigInt&& other) noexcept;
  BigInt& operator=(const BigInt& other);
  BigInt& operator=(BigInt&& other) noexcept;
  ~BigInt();

  friend BigInt operator+(const BigInt& a, const BigInt& b);
  friend BigInt operator-(const BigInt& a, const BigInt& b);
  friend BigInt operator*(const BigInt& a, const BigInt& b);
  BigInt& operator+=(const BigInt& b) { return *this = *this + b; }
  BigInt& operator-=(const BigInt& b) { return *this = *this - b; }

  // -1, 0 or 1.
  int Sign() const;
  // <0, 0, >0 as a is below, equal to or above b.
  friend int Compare(const BigInt& a, const BigInt& b);
  friend bool operator<(const BigInt& a, const BigInt& b) { return Compare(a, b) < 0; }
  friend bool operator>(const BigInt& a, const BigInt& b) { return Compare(a, b) > 0; }
  friend bool operator<=(const BigInt& a, const BigInt& b) { return Compare(a, b) <= 0; }
  friend bool operator>=(const BigInt& a, const BigInt& b) { return Compare(a, b) >= 0; }
  friend bool operator==(const BigInt& a, const BigInt& b) { return Compare(a, b) == 0; }

  // ⌊a / b⌋ and ⌈a / b⌉ (toward −∞ and +∞, whatever the signs); b must not be 0.
  static BigInt FloorDiv(const BigInt& a, const BigInt& b);
  static BigInt CeilDiv(const BigInt& a, const BigInt& b);
  // ⌊√a⌋ and ⌈√a⌉ for a >= 0 (0 for a negative a).
  static BigInt FloorSqrt(const BigInt& a);
  static BigInt CeilSqrt(const BigInt& a);

  std::string ToString() const;  // decimal, "-" for negatives
  // The value when it fits in int64, else the nearest end of int64's range.
  int64_t ToInt64Saturated() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn
