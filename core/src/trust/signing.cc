// Keys, key ids, key files and signed messages (cairn/signing.h). The cryptography itself is
// in openssl_adapter.cc (ed25519.h).
#include "cairn/signing.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <regex>
#include <sstream>

#include "cairn/snapshot.h"
#include "port/ed25519.h"
#include "util/fs_util.h"

namespace cairn {
namespace {

constexpr std::string_view kSnapshotDomain{"cairn-snapshot-v1\0", 18};
constexpr std::string_view kEventDomain{"cairn-event-v1\0", 15};
constexpr std::string_view kAttestationDomain{"cairn-attestation-v1\0", 21};
constexpr std::string_view kTrustChangeDomain{"cairn-trust-change-v1\0", 22};
constexpr std::string_view kPolicyChangeDomain{"cairn-policy-change-v1\0", 23};

// PEM files are small; anything larger is not a key.
constexpr std::streamsize kMaxPemBytes = 64 << 10;

int LowercaseHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Lowercase hex only: stored records are canonical, one spelling per value.
template <size_t N>
bool FromHex(std::string_view hex, std::array<uint8_t, N>* out) {
  if (hex.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    int hi = LowercaseHexValue(hex[2 * i]);
    int lo = LowercaseHexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

Result<std::string> ReadPemFile(const std::string& path, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(fmt::format("read {}", what), path, errno);
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidInput(fmt::format("{} {} is not a regular file", what, path));
  }
  if (st.st_size > kMaxPemBytes) {
    return Status::InvalidInput(
        fmt::format("{} {} is {} bytes: too large for a PEM key", what, path, st.st_size));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus(fmt::format("open {}", what), path, errno);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IO(fmt::format("read {} {} failed", what, path));
  return text.str();
}

}  // namespace

// ---- KeyId ----

Result<KeyId> KeyId::Parse(std::string_view text) {
  auto d = Digest::Parse(text);
  if (!d.ok()) {
    return Status::InvalidInput(
        fmt::format("'{}' is not a key id: expected \"sha256:\" and 64 hex digits", text));
  }
  return KeyId(*d);
}

// ---- PublicKey ----

Result<PublicKey> PublicKey::FromPem(std::string_view pem, std::string_view what) {
  CAIRN_ASSIGN_OR_RETURN(auto bytes, ed25519::ParsePublicPem(pem, what));
  return PublicKey(bytes);
}

Result<PublicKey> PublicKey::Load(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::string pem, ReadPemFile(path, "public key file"));
  return FromPem(pem, path);
}

Result<PublicKey> PublicKey::ParseHex(std::string_view hex) {
  Bytes bytes{};
  if (!FromHex(hex, &bytes)) {
    return Status::InvalidInput(
        fmt::format("'{}' is not a public key: expected 64 lowercase hex digits", hex));
  }
  return PublicKey(bytes);
}

std::string PublicKey::Hex() const { return ToHex(bytes_.data(), bytes_.size()); }

Result<std::string> PublicKey::Pem() const { return ed25519::PublicPem(bytes_); }

KeyId PublicKey::id() const {
  return KeyId(
      Digest::Of(std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size())));
}

// ---- Signature ----

Result<Signature> Signature::ParseHex(std::string_view hex) {
  Bytes bytes{};
  if (!FromHex(hex, &bytes)) {
    return Status::InvalidInput(
        fmt::format("a signature must be 128 lowercase hex digits, not {} characters", hex.size()));
  }
  return Signature(bytes);
}

std::string Signature::Hex() const { return ToHex(bytes_.data(), bytes_.size()); }

const char* SignatureStatusName(SignatureStatus status) {
  switch (status) {
    case SignatureStatus::kValid:
      return "valid";
    case SignatureStatus::kUnknownKey:
      return "unknown key";
    case SignatureStatus::kRevoked:
      return "revoked";
    case SignatureStatus::kBad:
      return "bad";
  }
  return "bad";
}

bool VerifySignature(const PublicKey& key, std::string_view message, const Signature& signature) {
  return ed25519::Verify(key.bytes(), message, signature.bytes());
}

// ---- PrivateKey ----

PrivateKey::~PrivateKey() { ed25519::Wipe(seed_.data(), seed_.size()); }

PrivateKey::PrivateKey(PrivateKey&& other) noexcept : seed_(other.seed_), public_(other.public_) {
  ed25519::Wipe(other.seed_.data(), other.seed_.size());
}

PrivateKey& PrivateKey::operator=(PrivateKey&& other) noexcept {
  if (this != &other) {
    seed_ = other.seed_;
    public_ = other.public_;
    ed25519::Wipe(other.seed_.data(), other.seed_.size());
  }
  return *this;
}

Result<PrivateKey> PrivateKey::Generate() {
  PrivateKey key;
  PublicKey::Bytes pub{};
  CAIRN_RETURN_IF_ERROR(ed25519::Generate(&key.seed_, &pub));
  key.public_ = PublicKey(pub);
  return key;
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem, std::string_view what) {
  PrivateKey key;
  CAIRN_ASSIGN_OR_RETURN(key.seed_, ed25519::ParsePrivatePem(pem, what));
  CAIRN_ASSIGN_OR_RETURN(auto pub, ed25519::PublicFromSeed(key.seed_));
  key.public_ = PublicKey(pub);
  return key;
}

Result<PrivateKey> PrivateKey::Load(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::string pem, ReadPemFile(path, "private key file"));
  auto key = FromPem(pem, path);
  ed25519::Wipe(pem.data(), pem.size());
  return key;
}

Result<std::string> PrivateKey::Pem() const { return ed25519::PrivatePem(seed_); }

Result<Signature> PrivateKey::Sign(std::string_view message) const {
  CAIRN_ASSIGN_OR_RETURN(auto sig, ed25519::Sign(seed_, message));
  return Signature(sig);
}

// ---- messages ----

std::string SnapshotSigningMessage(const SnapshotId& id) {
  return std::string(kSnapshotDomain) + std::string(id.digest().Raw());
}

std::string EventSigningMessage(const Digest& event_hash) {
  return std::string(kEventDomain) + std::string(event_hash.Raw());
}

std::string AttestationSigningMessage(const Digest& attestation_id) {
  return std::string(kAttestationDomain) + std::string(attestation_id.Raw());
}

std::string TrustChangeSigningMessage(const Digest& event_hash) {
  return std::string(kTrustChangeDomain) + std::string(event_hash.Raw());
}

std::string PolicyChangeSigningMessage(const Digest& event_hash) {
  return std::string(kPolicyChangeDomain) + std::string(event_hash.Raw());
}

// ---- key files ----

Status ValidateKeyName(std::string_view name) {
  static const std::regex kName("^[a-z0-9][a-z0-9._-]{0,63}$");
  if (!std::regex_match(name.begin(), name.end(), kName) ||
      name.find("..") != std::string_view::npos) {
    return Status::Usage(fmt::format(
        "\"{}\" is not a key name: use 1 to 64 lowercase letters, digits, '.', '_' and '-', "
        "starting with a letter or digit (e.g. alice, release-ci)",
        name));
  }
  return Status::OK();
}

// Durability: each file is created with O_EXCL (an existing file is never replaced, not
// even by a symlink planted in its place), written, fsynced, and the directory fsynced.
Result<KeyFiles> GenerateKeyFiles(const std::string& name, const std::string& dir) {
  CAIRN_RETURN_IF_ERROR(ValidateKeyName(name));
  KeyFiles files;
  files.private_path = dir + "/" + name + ".pem";
  files.public_path = dir + "/" + name + ".pub.pem";
  for (const auto& path : {files.private_path, files.public_path}) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      return Status::Conflict(fmt::format(
          "{} already exists: key files are never overwritten (choose another name or --out)",
          path));
    }
  }
  CAIRN_RETURN_IF_ERROR(MakeDir(Env::Default(), dir, /*exist_ok=*/true, 0700));
  CAIRN_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::Generate());
  CAIRN_ASSIGN_OR_RETURN(std::string private_pem, key.Pem());
  CAIRN_ASSIGN_OR_RETURN(std::string public_pem, key.public_key().Pem());
  Status s = WriteNewFile(Env::Default(), files.private_path, private_pem, 0600);
  ed25519::Wipe(private_pem.data(), private_pem.size());
  CAIRN_RETURN_IF_ERROR(s);  // EEXIST (a file appeared since the check): kConflict
  s = WriteNewFile(Env::Default(), files.public_path, public_pem, 0644);
  if (!s.ok()) {
    // Leave nothing half-made: a private key without its public half is removed again.
    ::unlink(files.private_path.c_str());
    return s;
  }
  CAIRN_RETURN_IF_ERROR(FsyncDir(Env::Default(), dir));
  files.public_key = key.public_key();
  return files;
}

}  // namespace cairn
