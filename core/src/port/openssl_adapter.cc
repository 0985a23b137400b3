// The OpenSSL boundary: SHA-256 (direct), SHA-1 for git object ids, Ed25519 through EVP, PEM
// encoding of Ed25519 keys.
// Every OpenSSL call of core lives in this file, so OpenSSL's error model stops here:
// failures become a Status naming the operation and OpenSSL's own reason.
// SHA256_Init/Update/Final (and SHA1_*) are deprecated in OpenSSL 3 (see Sha256 below).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cairn/digest.h"
#include "port/ed25519.h"
#include "port/sha1.h"

namespace cairn {

struct Sha256::Impl {
  SHA256_CTX ctx;
};

namespace {
[[noreturn]] void DieOnCryptoFailure(const char* what) {
  // Allocation failure inside libcrypto: there is no correct way to go on hashing.
  std::fprintf(stderr, "cairn: fatal: OpenSSL %s failed\n", what);
  std::abort();
}
}  // namespace

// SHA-256 through libcrypto's direct SHA256_* functions, not EVP: in OpenSSL 3 the first
// EVP digest of a process fetches it from a provider, which loads the configuration file and
// fills a name map with every legacy algorithm name: 3.6 million instructions, a fifth of
// a whole `cairn promote`. The direct functions are deprecated in 3.0 but compute the same
// digest with the same code; nothing is fetched.
Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (SHA256_Init(&impl_->ctx) != 1) DieOnCryptoFailure("SHA256_Init");
}

Sha256::~Sha256() { OPENSSL_cleanse(&impl_->ctx, sizeof impl_->ctx); }

void Sha256::Update(const void* data, size_t size) {
  if (size == 0) return;
  if (SHA256_Update(&impl_->ctx, data, size) != 1) DieOnCryptoFailure("SHA256_Update");
}

void Sha256::Update(std::string_view data) { Update(data.data(), data.size()); }

Digest Sha256::Finish() {
  Digest::Bytes out{};
  static_assert(sizeof(out) == SHA256_DIGEST_LENGTH);
  if (SHA256_Final(out.data(), &impl_->ctx) != 1) DieOnCryptoFailure("SHA256_Final");
  return Digest(out);
}

struct Sha1::Impl {
  SHA_CTX ctx;
};

Sha1::Sha1() : impl_(std::make_unique<Impl>()) {
  if (SHA1_Init(&impl_->ctx) != 1) DieOnCryptoFailure("SHA1_Init");
}

Sha1::~Sha1() = default;

void Sha1::Update(const void* data, size_t size) {
  if (size == 0) return;
  if (SHA1_Update(&impl_->ctx, data, size) != 1) DieOnCryptoFailure("SHA1_Update");
}

std::string Sha1::FinishHex() {
  unsigned char out[SHA_DIGEST_LENGTH];
  if (SHA1_Final(out, &impl_->ctx) != 1) DieOnCryptoFailure("SHA1_Final");
  return ToHex(out, sizeof out);
}

Digest Digest::Of(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

// ---- Ed25519 ----

namespace ed25519 {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Bio = std::unique_ptr<BIO, BioFree>;

// OpenSSL's queued errors as one line; the queue is left empty for the next call.
std::string TakeErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? "" : "; ";
    out += buf;
  }
  return out.empty() ? "no reason given" : out;
}

Status Failed(std::string_view op) {
  return Status::Internal(fmt::format("OpenSSL {} failed: {}", op, TakeErrors()));
}

Result<Pkey> FromSeed(const Seed& seed) {
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!key) return Failed("EVP_PKEY_new_raw_private_key");
  return key;
}

Result<Pkey> FromPublic(const PublicBytes& pub) {
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size()));
  if (!key) return Failed("EVP_PKEY_new_raw_public_key");
  return key;
}

Result<PublicBytes> RawPublic(EVP_PKEY* key) {
  PublicBytes pub{};
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(key, pub.data(), &len) != 1 || len != pub.size()) {
    return Failed("EVP_PKEY_get_raw_public_key");
  }
  return pub;
}

Result<std::string> BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return Failed("BIO_get_mem_data");
  return std::string(data, static_cast<size_t>(len));
}

// Never prompt for a passphrase: cairn reads unencrypted PEM files only.
int NoPassphrase(char*, int, int, void*) { return 0; }

}  // namespace

Status Generate(Seed* seed, PublicBytes* public_key) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  if (!ctx) return Failed("EVP_PKEY_CTX_new_id");
  if (EVP_PKEY_keygen_init(ctx.get()) != 1) return Failed("EVP_PKEY_keygen_init");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_keygen(ctx.get(), &raw) != 1) return Failed("EVP_PKEY_keygen");
  Pkey key(raw);
  size_t len = seed->size();
  if (EVP_PKEY_get_raw_private_key(key.get(), seed->data(), &len) != 1 || len != seed->size()) {
    return Failed("EVP_PKEY_get_raw_private_key");
  }
  CAIRN_ASSIGN_OR_RETURN(*public_key, RawPublic(key.get()));
  return Status::OK();
}

Result<PublicBytes> PublicFromSeed(const Seed& seed) {
  CAIRN_ASSIGN_OR_RETURN(Pkey key, FromSeed(seed));
  return RawPublic(key.get());
}

Result<SignatureBytes> Sign(const Seed& seed, std::string_view message) {
  CAIRN_ASSIGN_OR_RETURN(Pkey key, FromSeed(seed));
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return Failed("EVP_MD_CTX_new");
  // Ed25519 is "pure": no digest is named, the whole message is signed in one call.
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return Failed("EVP_DigestSignInit");
  }
  SignatureBytes sig{};
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), sig.data(), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != sig.size()) {
    return Failed("EVP_DigestSign");
  }
  return sig;
}

bool Verify(const PublicBytes& public_key, std::string_view message,
            const SignatureBytes& signature) {
  auto key = FromPublic(public_key);
  if (!key.ok()) return false;  // not a valid curve point: nothing can verify under it
  MdCtx ctx(EVP_MD_CTX_new());
  bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) == 1 &&
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  ERR_clear_error();  // a failed verification queues a reason we do not report
  return ok;
}

Result<std::string> PrivatePem(const Seed& seed) {
  CAIRN_ASSIGN_OR_RETURN(Pkey key, FromSeed(seed));
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio) return Failed("BIO_new");
  if (PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Failed("PEM_write_bio_PrivateKey");
  }
  return BioText(bio.get());
}

Result<std::string> PublicPem(const PublicBytes& public_key) {
  CAIRN_ASSIGN_OR_RETURN(Pkey key, FromPublic(public_key));
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio) return Failed("BIO_new");
  if (PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) return Failed("PEM_write_bio_PUBKEY");
  return BioText(bio.get());
}

namespace {
Result<Pkey> ReadPem(std::string_view pem, std::string_view what, bool is_private) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Failed("BIO_new_mem_buf");
  Pkey key(is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr)
                      : PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    std::string reason = TakeErrors();
    return Status::InvalidInput(fmt::format(
        "{} is not an unencrypted PEM {} key ({})", what,
        is_private ? "private (\"BEGIN PRIVATE KEY\")" : "public (\"BEGIN PUBLIC KEY\")", reason));
  }
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return Status::InvalidInput(fmt::format("{} holds a {} key; cairn uses Ed25519 keys", what,
                                            OBJ_nid2sn(EVP_PKEY_get_id(key.get()))));
  }
  return key;
}
}  // namespace

Result<Seed> ParsePrivatePem(std::string_view pem, std::string_view what) {
  CAIRN_ASSIGN_OR_RETURN(Pkey key, ReadPem(pem, what, /*is_private=*/true));
  Seed seed{};
  size_t len = seed.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), seed.data(), &len) != 1 || len != seed.size()) {
    return Failed("EVP_PKEY_get_raw_private_key");
  }
  return seed;
}

Result<PublicBytes> ParsePublicPem(std::string_view pem, std::string_view what) {
  CAIRN_ASSIGN_OR_RETURN(Pkey key, ReadPem(pem, what, /*is_private=*/false));
  return RawPublic(key.get());
}

void Wipe(void* data, size_t size) { OPENSSL_cleanse(data, size); }

}  // namespace ed25519
}  // namespace cairn

// ---- BigInt (port/bignum.h) over BIGNUM ----

#include <openssl/bn.h>

#include "port/bignum.h"

namespace cairn {

struct BigInt::Impl {
  BIGNUM* bn = nullptr;
  Impl() : bn(BN_new()) {
    if (bn == nullptr) DieOnCryptoFailure("BN_new");
  }
  ~Impl() { BN_free(bn); }
};

namespace {
struct BnCtx {
  BN_CTX* ctx = BN_CTX_new();
  BnCtx() {
    if (ctx == nullptr) DieOnCryptoFailure("BN_CTX_new");
  }
  ~BnCtx() { BN_CTX_free(ctx); }
};
void Must(int ok, const char* what) {
  if (ok != 1) DieOnCryptoFailure(what);
}
}  // namespace

BigInt::BigInt() : impl_(std::make_unique<Impl>()) {}
BigInt::BigInt(int64_t v) : BigInt() {
  uint64_t mag = v < 0 ? ~static_cast<uint64_t>(v) + 1 : static_cast<uint64_t>(v);
  Must(BN_set_word(impl_->bn, mag), "BN_set_word");
  BN_set_negative(impl_->bn, v < 0 ? 1 : 0);
}
BigInt::BigInt(const BigInt& other) : BigInt() {
  if (BN_copy(impl_->bn, other.impl_->bn) == nullptr) DieOnCryptoFailure("BN_copy");
}
BigInt::BigInt(BigInt&& other) noexcept : impl_(std::move(other.impl_)) {}
BigInt& BigInt::operator=(const BigInt& other) {
  if (this != &other) {
    if (!impl_) impl_ = std::make_unique<Impl>();
    if (BN_copy(impl_->bn, other.impl_->bn) == nullptr) DieOnCryptoFailure("BN_copy");
  }
  return *this;
}
BigInt& BigInt::operator=(BigInt&& other) noexcept {
  impl_.swap(other.impl_);
  return *this;
}
BigInt::~BigInt() = default;

BigInt operator+(const BigInt& a, const BigInt& b) {
  BigInt r;
  Must(BN_add(r.impl_->bn, a.impl_->bn, b.impl_->bn), "BN_add");
  return r;
}
BigInt operator-(const BigInt& a, const BigInt& b) {
  BigInt r;
  Must(BN_sub(r.impl_->bn, a.impl_->bn, b.impl_->bn), "BN_sub");
  return r;
}
BigInt operator*(const BigInt& a, const BigInt& b) {
  BigInt r;
  BnCtx ctx;
  Must(BN_mul(r.impl_->bn, a.impl_->bn, b.impl_->bn, ctx.ctx), "BN_mul");
  return r;
}
int BigInt::Sign() const {
  if (BN_is_zero(impl_->bn)) return 0;
  return BN_is_negative(impl_->bn) ? -1 : 1;
}
int Compare(const BigInt& a, const BigInt& b) { return BN_cmp(a.impl_->bn, b.impl_->bn); }

BigInt BigInt::FloorDiv(const BigInt& a, const BigInt& b) {
  BigInt q, rem;
  BnCtx ctx;
  // BN_div truncates toward zero; the remainder takes the dividend's sign.
  Must(BN_div(q.impl_->bn, rem.impl_->bn, a.impl_->bn, b.impl_->bn, ctx.ctx), "BN_div");
  if (rem.Sign() != 0 && rem.Sign() != b.Sign()) q -= 1;
  return q;
}
BigInt BigInt::CeilDiv(const BigInt& a, const BigInt& b) {
  return BigInt(0) - FloorDiv(BigInt(0) - a, b);
}
BigInt BigInt::FloorSqrt(const BigInt& a) {
  if (a.Sign() <= 0) return BigInt(0);
  // Newton's iteration from a power of two above √a; it decreases to ⌊√a⌋.
  BigInt x;
  Must(BN_set_word(x.impl_->bn, 1), "BN_set_word");
  Must(BN_lshift(x.impl_->bn, x.impl_->bn, (BN_num_bits(a.impl_->bn) + 1) / 2 + 1), "BN_lshift");
  for (;;) {
    BigInt y = FloorDiv(x + FloorDiv(a, x), BigInt(2));
    if (y >= x) return x;
    x = std::move(y);
  }
}
BigInt BigInt::CeilSqrt(const BigInt& a) {
  BigInt r = FloorSqrt(a);
  return r * r == a || a.Sign() <= 0 ? r : r + 1;
}
std::string BigInt::ToString() const {
  char* text = BN_bn2dec(impl_->bn);
  if (text == nullptr) DieOnCryptoFailure("BN_bn2dec");
  std::string out(text);
  OPENSSL_free(text);
  return out;
}
int64_t BigInt::ToInt64Saturated() const {
  if (*this > BigInt(INT64_MAX)) return INT64_MAX;
  if (*this < BigInt(INT64_MIN)) return INT64_MIN;
  BigInt mag = Sign() < 0 ? BigInt(0) - *this : *this;
  uint64_t w = BN_get_word(mag.impl_->bn);
  return Sign() < 0 ? static_cast<int64_t>(~w + 1) : static_cast<int64_t>(w);
}

}  // namespace cairn
