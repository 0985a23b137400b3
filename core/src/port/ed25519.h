// Ed25519 through OpenSSL (implemented in openssl_adapter.cc, the only file that calls
// OpenSSL). Keys and signatures cross this boundary as raw bytes; PEM is PKCS#8
// ("BEGIN PRIVATE KEY") for private keys and SubjectPublicKeyInfo ("BEGIN PUBLIC KEY") for
// public keys, the forms `openssl genpkey -algorithm ed25519` reads and writes.
// Every function is safe to call from several threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn::ed25519 {

inline constexpr size_t kSeedSize = 32;
inline constexpr size_t kPublicKeySize = 32;
inline constexpr size_t kSignatureSize = 64;

using Seed = std::array<uint8_t, kSeedSize>;
using PublicBytes = std::array<uint8_t, kPublicKeySize>;
using SignatureBytes = std::array<uint8_t, kSignatureSize>;

// A fresh key pair from OpenSSL's CSPRNG.
Status Generate(Seed* seed, PublicBytes* public_key);
// The public key that belongs to `seed`.
Result<PublicBytes> PublicFromSeed(const Seed& seed);
// The (deterministic) Ed25519 signature of `message`.
Result<SignatureBytes> Sign(const Seed& seed, std::string_view message);
// True only if `signature` is a valid signature of `message` by `public_key`.
bool Verify(const PublicBytes& public_key, std::string_view message,
            const SignatureBytes& signature);

Result<std::string> PrivatePem(const Seed& seed);
Result<std::string> PublicPem(const PublicBytes& public_key);
// Parse PEM text; `what` names the source (a file) in errors. Encrypted private keys and
// keys of other algorithms are refused with kInvalidInput.
Result<Seed> ParsePrivatePem(std::string_view pem, std::string_view what);
Result<PublicBytes> ParsePublicPem(std::string_view pem, std::string_view what);

// Overwrites memory that held secret bytes (not optimised away).
void Wipe(void* data, size_t size);

}  // namespace cairn::ed25519
