// The trust list and its chain of changes (cairn/trust.h). Keys and values of the trust
// family are written here and in trust_records.h; the chain's replay is in audit.cc.
#include "cairn/trust.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "chain/chain_records.h"
#include "chain/hash_chain.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "trust/trust_records.h"

namespace cairn {

// ---- names and records ----

Status ValidateRoleName(std::string_view role) {
  static const std::regex kRole("^[a-z0-9-]{1,32}$");
  if (!std::regex_match(role.begin(), role.end(), kRole)) {
    return Status::Usage(fmt::format(
        "\"{}\" is not a role: use 1 to 32 lowercase letters, digits and '-' (e.g. release, ci)",
        role));
  }
  return Status::OK();
}

const char* TrustActionName(TrustAction action) {
  return action == TrustAction::kAdd ? "add" : "revoke";
}

Result<TrustEvent> DecodeTrustEvent(std::string_view bytes, std::string_view what) {
  CAIRN_ASSIGN_OR_RETURN(Json json, ParseCanonicalJson(bytes, what));
  auto event = TrustEvent::FromJson(json);
  if (!event.ok()) return event.status().WithContext(std::string(what));
  return event;
}

// ---- events ----

Json TrustEvent::ToJson(bool with_hash) const {
  Json j = {{"seq", seq},
            {"time", FormatTime(time_micros)},
            {"actor", actor},
            {"action", TrustActionName(action)},
            {"name", name},
            {"key_id", key_id.ToString()},
            {"roles", roles},
            {"reason", reason},
            {"prev", prev ? Json(prev->ToString()) : Json()}};
  if (public_key) j["public_key"] = public_key->Hex();
  if (with_hash) j["hash"] = hash.ToString();
  return j;
}

Result<TrustEvent> TrustEvent::FromJson(const Json& j) {
  auto bad = [](std::string_view field) {
    return Status::Corruption(fmt::format("trust event field '{}' is missing or mistyped", field));
  };
  try {
    if (!j.is_object()) return bad("(object)");
    TrustEvent e;
    e.seq = j.at("seq").get<uint64_t>();
    auto t = ParseTime(j.at("time").get<std::string>());
    if (!t.ok()) return bad("time");
    e.time_micros = *t;
    e.actor = j.at("actor").get<std::string>();
    std::string action = j.at("action").get<std::string>();
    if (action == "add") {
      e.action = TrustAction::kAdd;
    } else if (action == "revoke") {
      e.action = TrustAction::kRevoke;
    } else {
      return bad("action");
    }
    e.name = j.at("name").get<std::string>();
    auto key_id = KeyId::Parse(j.at("key_id").get<std::string>());
    if (!key_id.ok()) return bad("key_id");
    e.key_id = *key_id;
    e.roles = j.at("roles").get<std::vector<std::string>>();
    e.reason = j.at("reason").get<std::string>();
    if (j.contains("public_key")) {
      auto pk = PublicKey::ParseHex(j.at("public_key").get<std::string>());
      if (!pk.ok()) return bad("public_key");
      e.public_key = *pk;
    }
    if ((e.action == TrustAction::kAdd) != e.public_key.has_value()) return bad("public_key");
    if (const char* field = ReadChainLinks(j, &e.prev, &e.hash)) return bad(field);
    return e;
  } catch (const Json::exception& ex) {
    return Status::Corruption(fmt::format("trust event is malformed: {}", ex.what()));
  }
}

Result<Digest> TrustEvent::ComputeHash() const { return ChainHash(ToJson(/*with_hash=*/false)); }

// ---- reading ----

namespace {

// Decodes every value under `prefix` of the trust family.
Result<std::vector<TrustEvent>> ScanEvents(const Store& store, std::string_view prefix) {
  std::vector<TrustEvent> out;
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kTrust);
  for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
    // Name keys are text; event and revocation keys end in binary.
    std::string what = prefix == kTrustNamePrefix
                           ? fmt::format("trust record of \"{}\"", cur.key().substr(prefix.size()))
                           : fmt::format("a trust record under \"{}\"", prefix);
    CAIRN_ASSIGN_OR_RETURN(TrustEvent e, DecodeTrustEvent(cur.value(), what));
    out.push_back(std::move(e));
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  return out;
}

Result<std::optional<TrustEvent>> LoadHead(const Store& store) {
  CAIRN_ASSIGN_OR_RETURN(auto value, StoreInternal::db(store).Get(Table::kTrust, kTrustHeadKey));
  if (!value) return std::optional<TrustEvent>();
  CAIRN_ASSIGN_OR_RETURN(TrustEvent head, DecodeTrustEvent(*value, "the trust chain head"));
  return std::optional<TrustEvent>(std::move(head));
}

}  // namespace

Result<TrustState> TrustState::Load(const Store& store) {
  TrustState state;
  CAIRN_ASSIGN_OR_RETURN(auto head, LoadHead(store));
  state.head_seq_ = head ? head->seq : 0;
  CAIRN_ASSIGN_OR_RETURN(auto revocations, ScanEvents(store, kTrustRevokedPrefix));
  for (auto& r : revocations) state.revoked_.emplace(r.key_id, std::move(r));
  CAIRN_ASSIGN_OR_RETURN(auto adds, ScanEvents(store, kTrustNamePrefix));
  for (auto& a : adds) {
    if (a.action != TrustAction::kAdd || !a.public_key) {
      return Status::Corruption(fmt::format("trust record of \"{}\" is not an add event", a.name));
    }
    TrustEntry entry;
    entry.name = a.name;
    entry.public_key = *a.public_key;
    entry.key_id = a.key_id;
    entry.roles = a.roles;
    if (auto it = state.revoked_.find(a.key_id); it != state.revoked_.end()) {
      entry.revocation = it->second;
    }
    entry.added = std::move(a);
    state.entries_.push_back(std::move(entry));
  }
  return state;
}

const TrustEntry* TrustState::Find(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

KeyTrust TrustState::StatusOf(const KeyId& key) const {
  if (revoked_.contains(key)) return KeyTrust::kRevoked;
  for (const auto& e : entries_) {
    if (e.key_id == key) return KeyTrust::kTrusted;
  }
  return KeyTrust::kUnknown;
}

std::vector<const TrustEntry*> TrustState::EntriesFor(const KeyId& key) const {
  std::vector<const TrustEntry*> out;
  for (const auto& e : entries_) {
    if (e.key_id == key) out.push_back(&e);
  }
  return out;
}

std::vector<std::string> TrustState::RolesOf(const KeyId& key) const {
  std::vector<std::string> roles;
  if (StatusOf(key) != KeyTrust::kTrusted) return roles;
  for (const auto* e : EntriesFor(key)) roles.insert(roles.end(), e->roles.begin(), e->roles.end());
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  return roles;
}

Result<std::vector<TrustEvent>> ReadTrustEvents(const Store& store) {
  return ScanEvents(store, kTrustEventPrefix);
}

// ---- changing ----

namespace {

// Fills seq, time, prev and hash from the chain head, then writes the event, the new head
// and `record_key` (a copy of the event) in one synced batch.
Result<TrustEvent> AppendTrustEvent(Store& store, TrustEvent e, const std::string& record_key) {
  if (store.read_only()) return Status::Internal("changing trust needs a writable store");
  Db& db = StoreInternal::db(store);
  CAIRN_ASSIGN_OR_RETURN(auto head, LoadHead(store));
  LinkAfter(head ? &*head : nullptr, store.clock().NowMicros(), &e);
  CAIRN_ASSIGN_OR_RETURN(e.hash, e.ComputeHash());
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(e.ToJson()));
  Batch batch(db);
  PutChainEvent(batch, TrustChain(), e.seq, bytes);
  batch.Put(Table::kTrust, record_key, bytes);
  CAIRN_RETURN_IF_ERROR(db.Write(batch, /*sync=*/true));
  return e;
}

}  // namespace

Result<TrustEvent> AddTrust(Store& store, const std::string& name, const PublicKey& key,
                            const std::vector<std::string>& roles,
                            const TrustChangeOptions& options) {
  CAIRN_RETURN_IF_ERROR(ValidateKeyName(name));
  if (roles.empty()) {
    return Status::Usage(fmt::format(
        "give \"{}\" at least one role (--role release, --role ci, ...): roles say what a "
        "signature by this key vouches for",
        name));
  }
  for (const auto& role : roles) CAIRN_RETURN_IF_ERROR(ValidateRoleName(role));
  CAIRN_ASSIGN_OR_RETURN(TrustState state, TrustState::Load(store));
  if (const TrustEntry* existing = state.Find(name)) {
    return Status::Conflict(fmt::format(
        "trust name \"{}\" already exists (key {}, added {} by {}{}): names are never reused; "
        "choose another name",
        name, existing->key_id.Short(), FormatTime(existing->added.time_micros),
        existing->added.actor, existing->revoked() ? ", revoked" : ""));
  }
  KeyId id = key.id();
  if (state.StatusOf(id) == KeyTrust::kRevoked) {
    const TrustEntry* via = state.EntriesFor(id).front();
    return Status::Conflict(fmt::format(
        "key {} was revoked at {} (as \"{}\": {}): a revoked key is never trusted again, under "
        "any name; generate a new key",
        id.Short(), FormatTime(via->revocation->time_micros), via->revocation->name,
        via->revocation->reason));
  }
  TrustEvent e;
  e.actor = options.actor;
  e.action = TrustAction::kAdd;
  e.name = name;
  e.key_id = id;
  e.public_key = key;
  e.roles = roles;
  std::sort(e.roles.begin(), e.roles.end());
  e.roles.erase(std::unique(e.roles.begin(), e.roles.end()), e.roles.end());
  e.reason = options.reason;
  return AppendTrustEvent(store, std::move(e), TrustNameKey(name));
}

Result<TrustEvent> RevokeTrust(Store& store, const std::string& name,
                               const TrustChangeOptions& options) {
  CAIRN_RETURN_IF_ERROR(ValidateKeyName(name));
  if (options.reason.empty()) {
    return Status::Usage("say why with --reason TEXT: it is recorded in the trust chain");
  }
  CAIRN_ASSIGN_OR_RETURN(TrustState state, TrustState::Load(store));
  const TrustEntry* entry = state.Find(name);
  if (entry == nullptr) {
    return Status::NotFound(fmt::format("no trusted name \"{}\" (see 'cairn trust list')", name));
  }
  if (entry->revoked()) {
    return Status::Conflict(
        fmt::format("key {} of \"{}\" was already revoked at {} (as \"{}\")", entry->key_id.Short(),
                    name, FormatTime(entry->revocation->time_micros), entry->revocation->name));
  }
  TrustEvent e;
  e.actor = options.actor;
  e.action = TrustAction::kRevoke;
  e.name = name;
  e.key_id = entry->key_id;
  e.roles = entry->roles;
  e.reason = options.reason;
  return AppendTrustEvent(store, std::move(e), TrustRevokedKey(entry->key_id));
}

}  // namespace cairn
