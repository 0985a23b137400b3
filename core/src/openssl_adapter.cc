// The OpenSSL boundary: SHA-256 through EVP. Every OpenSSL call of core lives in this file
// (signing joins it later), so OpenSSL's error model stops here.
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "cairn/digest.h"

namespace cairn {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

namespace {
[[noreturn]] void DieOnCryptoFailure(const char* what) {
  // Allocation failure inside libcrypto: there is no correct way to go on hashing.
  std::fprintf(stderr, "cairn: fatal: OpenSSL %s failed\n", what);
  std::abort();
}
}  // namespace

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->ctx == nullptr) DieOnCryptoFailure("EVP_MD_CTX_new");
  if (EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1) {
    DieOnCryptoFailure("EVP_DigestInit_ex");
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::Update(const void* data, size_t size) {
  if (size == 0) return;
  if (EVP_DigestUpdate(impl_->ctx, data, size) != 1) DieOnCryptoFailure("EVP_DigestUpdate");
}

void Sha256::Update(std::string_view data) { Update(data.data(), data.size()); }

Digest Sha256::Finish() {
  Digest::Bytes out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx, out.data(), &len) != 1 || len != Digest::kSize) {
    DieOnCryptoFailure("EVP_DigestFinal_ex");
  }
  return Digest(out);
}

Digest Digest::Of(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

}  // namespace cairn
