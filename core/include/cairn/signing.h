// Signing keys: Ed25519 key pairs, key ids, key files, and the domain-separated messages
// cairn signs (docs/trust.md, docs/format.md "Signed messages").
//
// A key id is "sha256:" + hex of the SHA-256 of the raw 32-byte public key. Signatures are
// detached: cairn never signs bare data, only a message that starts with a prefix naming
// what it is ("cairn-snapshot-v1\0", "cairn-event-v1\0"), so a signature made for one
// purpose can never be presented as another. All types are plain values; every function is
// safe to call from several threads. A PrivateKey wipes its secret bytes when destroyed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/digest.h"
#include "cairn/status.h"

namespace cairn {

class SnapshotId;

// The identity of a public key: SHA-256 of its 32 raw bytes.
class KeyId {
 public:
  KeyId() = default;
  explicit KeyId(const Digest& d) : digest_(d) {}
  // Parses "sha256:<64 hex>".
  static Result<KeyId> Parse(std::string_view text);
  std::string ToString() const { return digest_.ToString(); }
  // "sha256:" + the first 16 hex digits, for tables.
  std::string Short() const { return "sha256:" + digest_.Hex().substr(0, 16); }
  const Digest& digest() const { return digest_; }
  friend bool operator==(const KeyId&, const KeyId&) = default;
  friend auto operator<=>(const KeyId&, const KeyId&) = default;

 private:
  Digest digest_;
};

class PublicKey {
 public:
  static constexpr size_t kSize = 32;
  using Bytes = std::array<uint8_t, kSize>;

  PublicKey() { bytes_.fill(0); }
  explicit PublicKey(const Bytes& bytes) : bytes_(bytes) {}
  // A PEM "BEGIN PUBLIC KEY" Ed25519 key; `what` names the source in errors.
  static Result<PublicKey> FromPem(std::string_view pem, std::string_view what);
  // Reads a PEM public key file. kNotFound if it does not exist.
  static Result<PublicKey> Load(const std::string& path);
  // 64 hex digits of the raw key (the form stored in trust records).
  static Result<PublicKey> ParseHex(std::string_view hex);

  std::string Hex() const;
  Result<std::string> Pem() const;
  KeyId id() const;
  const Bytes& bytes() const { return bytes_; }
  friend bool operator==(const PublicKey&, const PublicKey&) = default;

 private:
  Bytes bytes_;
};

// A detached Ed25519 signature (64 bytes), printed as 128 lowercase hex digits.
class Signature {
 public:
  static constexpr size_t kSize = 64;
  using Bytes = std::array<uint8_t, kSize>;

  Signature() { bytes_.fill(0); }
  explicit Signature(const Bytes& bytes) : bytes_(bytes) {}
  static Result<Signature> ParseHex(std::string_view hex);
  std::string Hex() const;
  const Bytes& bytes() const { return bytes_; }
  friend bool operator==(const Signature&, const Signature&) = default;

 private:
  Bytes bytes_;
};

class PrivateKey {
 public:
  // A new key pair from the operating system's randomness.
  static Result<PrivateKey> Generate();
  // A PEM "BEGIN PRIVATE KEY" (PKCS#8, unencrypted) Ed25519 key; `what` names the source.
  static Result<PrivateKey> FromPem(std::string_view pem, std::string_view what);
  // Reads a PEM private key file (`--key FILE`, $CAIRN_KEY). kNotFound if it does not exist.
  static Result<PrivateKey> Load(const std::string& path);

  // Move-only: a secret has one owner, and the seed a key moved from is wiped.
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  PrivateKey(PrivateKey&& other) noexcept;
  PrivateKey& operator=(PrivateKey&& other) noexcept;
  ~PrivateKey();

  const PublicKey& public_key() const { return public_; }
  KeyId id() const { return public_.id(); }
  Result<std::string> Pem() const;
  // Signs `message` as given. Callers sign only the messages built below.
  Result<Signature> Sign(std::string_view message) const;

 private:
  PrivateKey() = default;
  std::array<uint8_t, 32> seed_{};
  PublicKey public_;
};

// How a signature stands against the trust list (docs/trust.md, "Verification").
enum class SignatureStatus {
  kValid,       // it verifies and its key is trusted (and was not revoked)
  kUnknownKey,  // it verifies, but its key is not in the trust list
  kRevoked,     // it verifies, but its key was revoked
  kBad,         // it does not verify: forged, altered, or made for something else
};
// "valid", "unknown key", "revoked", "bad".
const char* SignatureStatusName(SignatureStatus status);

// True only if `signature` is `key`'s signature of exactly `message`.
bool VerifySignature(const PublicKey& key, std::string_view message, const Signature& signature);

// "cairn-snapshot-v1" 0x00 followed by the 32 raw bytes of the snapshot id (50 bytes).
std::string SnapshotSigningMessage(const SnapshotId& id);
// "cairn-event-v1" 0x00 followed by the 32 raw bytes of the event's hash (47 bytes).
std::string EventSigningMessage(const Digest& event_hash);

// "cairn-attestation-v1" 0x00 followed by the 32 raw bytes of the attestation id (53 bytes).
std::string AttestationSigningMessage(const Digest& attestation_id);

// "cairn-trust-change-v1" 0x00 followed by the 32 raw bytes of a trust event's hash (54
// bytes): what a root key signs to approve a trust change.
std::string TrustChangeSigningMessage(const Digest& event_hash);
// "cairn-policy-change-v1" 0x00 followed by the 32 raw bytes of a policy event's hash (55
// bytes): what a root key signs to approve a policy change.
std::string PolicyChangeSigningMessage(const Digest& event_hash);

// Key names (file names, trust names): [a-z0-9][a-z0-9._-]{0,63}, no "..".
Status ValidateKeyName(std::string_view name);

// The files written by GenerateKeyFiles.
struct KeyFiles {
  std::string private_path;  // DIR/NAME.pem, mode 0600
  std::string public_path;   // DIR/NAME.pub.pem, mode 0644 (less the umask)
  PublicKey public_key;
};

// Generates a key pair and writes it as DIR/NAME.pem and DIR/NAME.pub.pem. Neither file is
// ever overwritten: if either exists the call fails with kConflict and writes nothing.
// Both files are created with O_EXCL, fsynced, and the directory is fsynced; if writing the
// public key fails, the private key just written is removed again.
Result<KeyFiles> GenerateKeyFiles(const std::string& name, const std::string& dir);

}  // namespace cairn
