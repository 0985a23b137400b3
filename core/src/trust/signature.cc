// Snapshot signatures (cairn/signature.h) and the signatures family's records
// (signature_records.h).
#include "cairn/signature.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "cairn/object.h"
#include "store/store_internal.h"
#include "trust/signature_records.h"

namespace cairn {

// ---- records ----

Result<std::string> EncodeSignatureRecord(const SnapshotSignature& s) {
  return CanonicalJson(Json{{"actor", s.actor},
                            {"key_id", s.key_id.ToString()},
                            {"public_key", s.public_key.Hex()},
                            {"sig", s.signature.Hex()},
                            {"time", FormatTime(s.time_micros)}});
}

Result<SnapshotSignature> DecodeSignatureRecord(std::string_view key, std::string_view value) {
  if (key.size() != 2 * Digest::kSize) {
    return Status::Corruption(fmt::format("a signature key has {} bytes, expected 64", key.size()));
  }
  CAIRN_ASSIGN_OR_RETURN(Digest snapshot, Digest::FromRaw(key.substr(0, Digest::kSize)));
  SnapshotSignature s;
  s.snapshot = SnapshotId(snapshot);
  std::string what = fmt::format("signature record of snapshot {}", s.snapshot.Short());
  CAIRN_ASSIGN_OR_RETURN(Json j, ParseCanonicalJson(value, what));
  auto bad = [&](std::string_view field) {
    return Status::Corruption(fmt::format("{}: field '{}' is missing or mistyped", what, field));
  };
  try {
    if (!j.is_object() || j.size() != 5) return bad("(object of 5 fields)");
    if (const char* field = ReadSignerFields(j, &s.key_id, &s.public_key, &s.signature)) {
      return bad(field);
    }
    auto t = ParseTime(j.at("time").get<std::string>());
    if (!t.ok()) return bad("time");
    s.time_micros = *t;
    s.actor = j.at("actor").get<std::string>();
  } catch (const Json::exception& ex) {
    return Status::Corruption(fmt::format("{} is malformed: {}", what, ex.what()));
  }
  return s;
}

const char* ReadSignerFields(const Json& j, KeyId* key_id, PublicKey* public_key,
                             Signature* signature) {
  auto id = KeyId::Parse(j.at("key_id").get<std::string>());
  if (!id.ok()) return "key_id";
  *key_id = *id;
  auto pk = PublicKey::ParseHex(j.at("public_key").get<std::string>());
  if (!pk.ok()) return "public_key";
  *public_key = *pk;
  auto sig = Signature::ParseHex(j.at("sig").get<std::string>());
  if (!sig.ok()) return "sig";
  *signature = *sig;
  return nullptr;
}

SignerVerdict JudgeSigner(const TrustState& trust, const KeyId& key_id, const PublicKey& public_key,
                          std::string_view message, const Signature& signature,
                          std::string_view forged_detail) {
  SignerVerdict v;
  if (public_key.id() != key_id) {
    v.detail = "the record's public key does not hash to its key id";
    return v;
  }
  for (const TrustEntry* e : trust.EntriesFor(key_id)) {
    if (e->public_key != public_key) {
      v.detail =
          fmt::format("the record's public key differs from the one trusted as \"{}\"", e->name);
      return v;
    }
  }
  if (!VerifySignature(public_key, message, signature)) {
    v.detail = std::string(forged_detail);
    return v;
  }
  switch (trust.StatusOf(key_id)) {
    case KeyTrust::kTrusted:
      v.status = SignatureStatus::kValid;
      v.roles = trust.RolesOf(key_id);
      break;
    case KeyTrust::kRevoked: {
      const TrustEvent& r = *trust.EntriesFor(key_id).front()->revocation;
      v.status = SignatureStatus::kRevoked;
      v.detail = fmt::format("key revoked at {} by {} (as \"{}\"): {}", FormatTime(r.time_micros),
                             r.actor, r.name, r.reason);
      break;
    }
    case KeyTrust::kUnknown:
      v.status = SignatureStatus::kUnknownKey;
      v.detail = "the key is not in the trust list (cairn trust add NAME PUBKEY_FILE --role ROLE)";
      break;
  }
  return v;
}

std::vector<SignerName> SignerNames(const TrustState& trust, const KeyId& key) {
  std::vector<SignerName> names;
  for (const TrustEntry* e : trust.EntriesFor(key)) names.push_back(SignerName{e->name, e->roles});
  return names;
}

Status CheckKeyMaySign(const TrustState& trust, const KeyId& key) {
  if (trust.StatusOf(key) != KeyTrust::kRevoked) return Status::OK();
  const TrustEntry* via = trust.EntriesFor(key).front();
  return Status::Conflict(fmt::format("key {} was revoked at {} (as \"{}\": {}): it may not sign",
                                      key.Short(), FormatTime(via->revocation->time_micros),
                                      via->revocation->name, via->revocation->reason));
}

Result<SnapshotSignature> MakeSnapshotSignature(const SnapshotId& id, const PrivateKey& key,
                                                const std::string& actor, int64_t time_micros) {
  SnapshotSignature s;
  s.snapshot = id;
  s.key_id = key.id();
  s.public_key = key.public_key();
  CAIRN_ASSIGN_OR_RETURN(s.signature, key.Sign(SnapshotSigningMessage(id)));
  s.time_micros = time_micros;
  s.actor = actor;
  return s;
}

// ---- signing ----

namespace {
bool Verifies(const SnapshotSignature& s) {
  return s.public_key.id() == s.key_id &&
         VerifySignature(s.public_key, SnapshotSigningMessage(s.snapshot), s.signature);
}
}  // namespace

// Durability: the record is written in one synced batch (a single key).
Result<SignResult> SignSnapshot(Store& store, const SnapshotId& id, const PrivateKey& key,
                                const SignOptions& options) {
  if (store.read_only()) return Status::Internal("signing needs a writable store");
  CAIRN_ASSIGN_OR_RETURN(bool exists, HasSnapshot(store, id));
  if (!exists) return Status::NotFound(fmt::format("no snapshot {}", id.Hex()));
  CAIRN_ASSIGN_OR_RETURN(TrustState trust, TrustState::Load(store));
  CAIRN_RETURN_IF_ERROR(CheckKeyMaySign(trust, key.id()));
  SignResult result;
  result.key_trust = trust.StatusOf(key.id());
  Db& db = StoreInternal::db(store);
  std::string record_key = SignatureKey(id, key.id());
  CAIRN_ASSIGN_OR_RETURN(auto existing, db.Get(Table::kSignatures, record_key));
  if (existing) {
    auto old = DecodeSignatureRecord(record_key, *existing);
    // A good record stays as it is (its time and actor are the first signing's); a bad one
    // is replaced by the good signature made now.
    if (old.ok() && Verifies(*old)) {
      result.signature = std::move(*old);
      result.already_signed = true;
      return result;
    }
  }
  CAIRN_ASSIGN_OR_RETURN(result.signature,
                         MakeSnapshotSignature(id, key, options.actor, store.clock().NowMicros()));
  CAIRN_ASSIGN_OR_RETURN(std::string value, EncodeSignatureRecord(result.signature));
  Batch batch(db);
  batch.Put(Table::kSignatures, record_key, value);
  CAIRN_RETURN_IF_ERROR(db.Write(batch, /*sync=*/true));
  return result;
}

Result<std::vector<SnapshotSignature>> ListSnapshotSignatures(const Store& store,
                                                              const SnapshotId& id) {
  std::vector<SnapshotSignature> out;
  std::string prefix = SignaturePrefix(id);
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kSignatures);
  for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
    CAIRN_ASSIGN_OR_RETURN(SnapshotSignature s, DecodeSignatureRecord(cur.key(), cur.value()));
    out.push_back(std::move(s));
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  return out;
}

// ---- verification ----

namespace {

SignatureCheck Judge(std::string_view key, std::string_view value, const TrustState& trust) {
  SignatureCheck check;
  auto key_id = Digest::FromRaw(key.substr(Digest::kSize));
  if (key_id.ok()) check.key_id = KeyId(*key_id);
  check.names = SignerNames(trust, check.key_id);
  auto bad = [&](std::string detail) {
    check.status = SignatureStatus::kBad;
    check.detail = std::move(detail);
    return check;
  };
  auto record = DecodeSignatureRecord(key, value);
  if (!record.ok()) return bad(record.status().message());
  check.time_micros = record->time_micros;
  check.actor = record->actor;
  if (record->key_id != check.key_id) {
    return bad(fmt::format("the record names key {} but is stored under key {}",
                           record->key_id.Short(), check.key_id.Short()));
  }
  SignerVerdict v = JudgeSigner(trust, check.key_id, record->public_key,
                                SnapshotSigningMessage(record->snapshot), record->signature,
                                "the signature does not verify over this snapshot's id (forged, "
                                "altered, or copied from another snapshot)");
  check.status = v.status;
  check.detail = std::move(v.detail);
  check.roles = std::move(v.roles);
  return check;
}

}  // namespace

Result<std::vector<SignatureCheck>> CheckSnapshotSignatures(const Store& store,
                                                            const SnapshotId& id,
                                                            const TrustState& trust) {
  std::vector<SignatureCheck> out;
  std::string prefix = SignaturePrefix(id);
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kSignatures);
  for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
    out.push_back(Judge(cur.key(), cur.value(), trust));
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  return out;
}

size_t CountValidSigners(const std::vector<SignatureCheck>& checks, std::string_view role) {
  std::set<KeyId> signers;
  for (const auto& c : checks) {
    if (c.status != SignatureStatus::kValid) continue;
    if (!role.empty() && std::find(c.roles.begin(), c.roles.end(), role) == c.roles.end()) {
      continue;
    }
    signers.insert(c.key_id);
  }
  return signers.size();
}

bool SnapshotVerification::any_bad() const {
  return std::any_of(signatures.begin(), signatures.end(),
                     [](const SignatureCheck& c) { return c.status == SignatureStatus::kBad; });
}

Result<SnapshotVerification> VerifySnapshot(const Store& store, const SnapshotId& id,
                                            const VerifyOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(Snapshot snapshot, LoadSnapshot(store, id));
  CAIRN_ASSIGN_OR_RETURN(TrustState trust, TrustState::Load(store));
  SnapshotVerification v;
  v.id = id;
  CAIRN_ASSIGN_OR_RETURN(v.signatures, CheckSnapshotSignatures(store, id, trust));
  if (!options.deep) return v;
  // Each distinct object once, re-read and re-hashed piece by piece (bounded memory).
  std::set<Digest> seen;
  ProgressUpdate progress{"verifying", 0, snapshot.components.size(), 0, snapshot.TotalSize()};
  for (const Component& c : snapshot.components) {
    ++progress.done;
    progress.bytes_done += c.size;
    if (!seen.insert(c.digest).second) continue;
    Status s = StreamObject(store, c.digest, [](std::string_view) { return Status::OK(); });
    ++v.objects_checked;
    if (!s.ok()) v.object_problems.push_back(fmt::format("{}: {}", c.path, s.ToString()));
    if (options.progress) options.progress->Update(progress);
  }
  if (options.progress) options.progress->Finish();
  return v;
}

}  // namespace cairn
