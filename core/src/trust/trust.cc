// The trust list and its chain of changes (cairn/trust.h). Keys and values of the trust
// family are written here and in trust_records.h; the chain's replay is in audit.cc.
#include "cairn/trust.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <set>

#include "cairn/policy.h"
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
  switch (action) {
    case TrustAction::kAdd:
      return "add";
    case TrustAction::kRevoke:
      return "revoke";
    case TrustAction::kRoot:
      return "root";
  }
  return "?";
}

bool RootSpec::HasKey(const KeyId& id) const {
  for (const auto& k : keys) {
    if (k.id() == id) return true;
  }
  return false;
}

std::vector<KeyId> RootSpec::KeyIds() const {
  std::vector<KeyId> out;
  for (const auto& k : keys) out.push_back(k.id());
  return out;
}

Json ChangeSignaturesJson(const std::vector<ChangeSignature>& signatures) {
  Json out = Json::array();
  for (const auto& s : signatures) {
    out.push_back({{"key_id", s.key_id.ToString()}, {"sig", s.sig.Hex()}});
  }
  return out;
}

const char* ReadChangeSignatures(const Json& json, std::vector<ChangeSignature>* out) {
  if (!json.is_array() || json.empty()) return "signatures";
  for (const Json& s : json) {
    if (!s.is_object() || s.size() != 2 || !s.contains("key_id") || !s.contains("sig") ||
        !s["key_id"].is_string() || !s["sig"].is_string()) {
      return "signatures";
    }
    auto id = KeyId::Parse(s["key_id"].get<std::string>());
    if (!id.ok()) return "signatures.key_id";
    auto sig = Signature::ParseHex(s["sig"].get<std::string>());
    if (!sig.ok()) return "signatures.sig";
    out->push_back(ChangeSignature{*id, *sig});
  }
  return nullptr;
}

void TrustDerivedRecords::Add(const TrustEvent& e, std::string_view bytes) {
  switch (e.action) {
    case TrustAction::kRoot:
      root[""] = std::string(bytes);
      break;
    case TrustAction::kAdd:
      names.emplace(e.name, std::string(bytes));
      break;
    case TrustAction::kRevoke:
      revoked.emplace(std::string(e.key_id.digest().Raw()), std::string(bytes));
      break;
  }
}

Result<TrustEvent> DecodeTrustEvent(std::string_view bytes, std::string_view what) {
  CAIRN_ASSIGN_OR_RETURN(Json json, ParseCanonicalJson(bytes, what));
  auto event = TrustEvent::FromJson(json);
  if (!event.ok()) return event.status().WithContext(std::string(what));
  return event;
}

// ---- events ----

Json TrustEvent::ToJson(bool with_hash) const {
  Json j = {{"seq", seq},       {"time", FormatTime(time_micros)},
            {"actor", actor},   {"action", TrustActionName(action)},
            {"reason", reason}, {"prev", prev ? Json(prev->ToString()) : Json()}};
  if (root) {
    Json keys = Json::array();
    for (const auto& k : root->keys) keys.push_back(k.Hex());
    j["root"] = {{"keys", std::move(keys)},
                 {"threshold", root->threshold},
                 {"policy_seq", root->policy_seq}};
  } else {
    j["name"] = name;
    j["key_id"] = key_id.ToString();
    j["roles"] = roles;
  }
  if (public_key) j["public_key"] = public_key->Hex();
  if (compromised_since) j["compromised_since"] = FormatTime(*compromised_since);
  if (with_hash) {
    j["hash"] = hash.ToString();
    if (!signatures.empty()) j["signatures"] = ChangeSignaturesJson(signatures);
  }
  return j;
}

namespace {

// The "root" member of a root event; nullptr when well-formed, else the bad field.
const char* ReadRootSpec(const Json& j, RootSpec* out) {
  if (!j.is_object() || j.size() != 3 || !j.contains("keys") || !j["keys"].is_array()) {
    return "root";
  }
  for (const Json& k : j["keys"]) {
    if (!k.is_string()) return "root.keys";
    auto pk = PublicKey::ParseHex(k.get<std::string>());
    if (!pk.ok()) return "root.keys";
    out->keys.push_back(*pk);
  }
  if (!j.contains("threshold") || !j["threshold"].is_number_unsigned()) return "root.threshold";
  uint64_t threshold = j["threshold"].get<uint64_t>();
  if (threshold == 0 || threshold > out->keys.size()) return "root.threshold";
  out->threshold = static_cast<uint32_t>(threshold);
  if (!j.contains("policy_seq") || !j["policy_seq"].is_number_unsigned()) {
    return "root.policy_seq";
  }
  out->policy_seq = j["policy_seq"].get<uint64_t>();
  return nullptr;
}

}  // namespace

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
    } else if (action == "root") {
      e.action = TrustAction::kRoot;
    } else {
      return bad("action");
    }
    if (e.action == TrustAction::kRoot) {
      if (j.contains("name") || j.contains("key_id") || j.contains("roles")) return bad("root");
      RootSpec spec;
      if (!j.contains("root")) return bad("root");
      if (const char* field = ReadRootSpec(j.at("root"), &spec)) return bad(field);
      e.root = std::move(spec);
    } else {
      if (j.contains("root")) return bad("root");
      e.name = j.at("name").get<std::string>();
      auto key_id = KeyId::Parse(j.at("key_id").get<std::string>());
      if (!key_id.ok()) return bad("key_id");
      e.key_id = *key_id;
      e.roles = j.at("roles").get<std::vector<std::string>>();
    }
    e.reason = j.at("reason").get<std::string>();
    if (j.contains("compromised_since")) {
      if (e.action != TrustAction::kRevoke) return bad("compromised_since");
      auto since = ParseTime(j.at("compromised_since").get<std::string>());
      if (!since.ok()) return bad("compromised_since");
      e.compromised_since = *since;
    }
    if (j.contains("signatures")) {
      if (const char* field = ReadChangeSignatures(j.at("signatures"), &e.signatures)) {
        return bad(field);
      }
    }
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
  CAIRN_ASSIGN_OR_RETURN(auto root, StoreInternal::db(store).Get(Table::kTrust, kTrustRootKey));
  if (root) {
    CAIRN_ASSIGN_OR_RETURN(TrustEvent r, DecodeTrustEvent(*root, "the trust root record"));
    if (!r.root) return Status::Corruption("the trust root record is not a root event");
    state.root_ = Root{std::move(*r.root), r.seq, r.time_micros};
  }
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

// ---- signing changes ----

uint32_t CountRootSignatures(const RootSpec& root, std::string_view message,
                             const std::vector<ChangeSignature>& signatures,
                             std::vector<std::string>* problems) {
  std::set<KeyId> counted;
  for (const auto& s : signatures) {
    const PublicKey* key = nullptr;
    for (const auto& k : root.keys) {
      if (k.id() == s.key_id) key = &k;
    }
    if (key == nullptr) {
      problems->push_back(fmt::format("key {} is not a root key", s.key_id.Short()));
    } else if (!VerifySignature(*key, message, s.sig)) {
      problems->push_back(
          fmt::format("root key {}'s signature does not verify over the change", s.key_id.Short()));
    } else if (!counted.insert(s.key_id).second) {
      problems->push_back(fmt::format("root key {} signed twice (counted once)", s.key_id.Short()));
    }
  }
  return static_cast<uint32_t>(counted.size());
}

std::optional<std::string> RootApprovalShortfall(const RootSpec& root, std::string_view message,
                                                 const std::vector<ChangeSignature>& signatures) {
  std::vector<std::string> problems;
  uint32_t have = CountRootSignatures(root, message, signatures, &problems);
  if (have >= root.threshold) return std::nullopt;
  std::string out = fmt::format("{} of {} root signatures", have, root.threshold);
  for (const auto& p : problems) out += "; " + p;
  return out;
}

Result<std::vector<ChangeSignature>> SignChange(const std::optional<Root>& root,
                                                std::string_view message,
                                                const std::vector<const PrivateKey*>& keys,
                                                std::string_view what) {
  if (!root) {
    if (!keys.empty()) {
      return Status::Usage(fmt::format(
          "the store has no root, so a {} takes no --key; make a root first with 'cairn trust "
          "init --root PUBKEY... --threshold K --key PRIVATE...'",
          what));
    }
    return std::vector<ChangeSignature>();
  }
  // One signature per distinct root key: a key given twice counts once.
  std::vector<ChangeSignature> out;
  std::set<KeyId> signed_by;
  for (const PrivateKey* key : keys) {
    if (!root->spec.HasKey(key->id())) {
      return Status::Usage(fmt::format(
          "--key {}: not a root key of this store (see 'cairn trust list'); a {} is approved by "
          "root keys only; nothing changed",
          key->id().Short(), what));
    }
    if (!signed_by.insert(key->id()).second) continue;
    CAIRN_ASSIGN_OR_RETURN(Signature sig, key->Sign(message));
    out.push_back(ChangeSignature{key->id(), sig});
  }
  size_t have = out.size();
  if (have < root->spec.threshold) {
    return Status::GateBlocked(fmt::format(
        "a {} needs the signatures of {} of the {} {} keys{}; {} given: add --key "
        "ROOT_PRIVATE.pem for each further root key; nothing changed",
        what, root->spec.threshold, root->spec.keys.size(), root->seq == 0 ? "new root" : "root",
        root->seq == 0 ? "" : fmt::format(" (the root of trust event #{})", root->seq), have));
  }
  return out;
}

// ---- changing ----

namespace {

// Keys a rooted change may be signed with: a rotation's keys are checked by two roots, so
// a key of only one of them must not be refused by the other.
std::vector<const PrivateKey*> KeysOf(const RootSpec& spec,
                                      const std::vector<const PrivateKey*>& keys) {
  std::vector<const PrivateKey*> out;
  for (const PrivateKey* k : keys) {
    if (spec.HasKey(k->id())) out.push_back(k);
  }
  return out;
}

// Fills seq, time, prev and hash from the chain head, collects the root signatures the
// change needs (`roots`: the roots whose thresholds it must meet), then writes the event,
// the new head and `record_keys` (copies of the event) in one synced batch.
Result<TrustEvent> AppendTrustEvent(Store& store, TrustEvent e,
                                    const std::vector<std::string>& record_keys,
                                    const std::vector<std::optional<Root>>& roots,
                                    const std::vector<const PrivateKey*>& keys,
                                    ChainPublisher* publisher,
                                    bool each_root_its_own_keys = false) {
  if (store.read_only()) return Status::Internal("changing trust needs a writable store");
  Db& db = StoreInternal::db(store);
  CAIRN_ASSIGN_OR_RETURN(auto head, LoadHead(store));
  CAIRN_RETURN_IF_ERROR(
      LinkAfter(head ? &*head : nullptr, store.clock().NowMicros(), &e, "trust event"));
  CAIRN_ASSIGN_OR_RETURN(e.hash, e.ComputeHash());
  std::string message = TrustChangeSigningMessage(e.hash);
  for (const auto& root : roots) {
    CAIRN_ASSIGN_OR_RETURN(
        auto sigs,
        SignChange(root, message, each_root_its_own_keys && root ? KeysOf(root->spec, keys) : keys,
                   root && root->seq == 0 ? "new root" : "trust change"));
    for (auto& sig : sigs) {
      bool have = false;
      for (const auto& s : e.signatures) have = have || s.key_id == sig.key_id;
      if (!have) e.signatures.push_back(sig);
    }
  }
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(e.ToJson()));
  if (publisher != nullptr)
    CAIRN_RETURN_IF_ERROR(publisher->Publish(PublishedChain::kTrust, bytes));
  Batch batch(db);
  PutChainEvent(batch, TrustChain(), e.seq, bytes);
  for (const auto& key : record_keys) batch.Put(Table::kTrust, key, bytes);
  if (publisher != nullptr) {
    for (const auto& [key, value] : publisher->MetaRecords()) batch.Put(Table::kMeta, key, value);
  }
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
  if (state.root() && state.root()->spec.HasKey(id)) {
    return Status::Conflict(fmt::format(
        "key {} is a root key: root keys approve trust and policy changes and sign nothing else; "
        "trust another key as \"{}\"",
        id.Short(), name));
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
  return AppendTrustEvent(store, std::move(e), {TrustNameKey(name)}, {state.root()}, options.keys,
                          options.publisher);
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
  e.compromised_since = options.compromised_since;
  if (e.compromised_since && *e.compromised_since > store.clock().NowMicros()) {
    return Status::Usage("--compromised-since: the time is in the future");
  }
  return AppendTrustEvent(store, std::move(e), {TrustRevokedKey(entry->key_id)}, {state.root()},
                          options.keys, options.publisher);
}

Result<TrustEvent> InitRoot(Store& store, RootSpec spec, const TrustChangeOptions& options) {
  constexpr size_t kMaxRootKeys = 16;
  if (spec.keys.empty() || spec.keys.size() > kMaxRootKeys) {
    return Status::Usage(fmt::format("--root: give 1 to {} root public keys", kMaxRootKeys));
  }
  std::sort(spec.keys.begin(), spec.keys.end(),
            [](const PublicKey& a, const PublicKey& b) { return a.id() < b.id(); });
  for (size_t i = 1; i < spec.keys.size(); ++i) {
    if (spec.keys[i] == spec.keys[i - 1]) {
      return Status::Usage(fmt::format("--root: key {} is given twice; each root key counts once",
                                       spec.keys[i].id().Short()));
    }
  }
  if (spec.threshold == 0 || spec.threshold > spec.keys.size()) {
    return Status::Usage(fmt::format("--threshold {}: must be 1 to {} (the number of root keys)",
                                     spec.threshold, spec.keys.size()));
  }
  if (options.reason.empty()) {
    return Status::Usage("say why with --reason TEXT: it is recorded in the trust chain");
  }
  CAIRN_ASSIGN_OR_RETURN(TrustState state, TrustState::Load(store));
  for (const auto& k : spec.keys) {
    KeyTrust standing = state.StatusOf(k.id());
    if (standing != KeyTrust::kUnknown) {
      return Status::Conflict(fmt::format(
          "--root: key {} is {} as a signer (\"{}\"): a root key must sign nothing but trust and "
          "policy changes; generate a new key for the root",
          k.id().Short(), standing == KeyTrust::kRevoked ? "revoked" : "trusted",
          state.EntriesFor(k.id()).front()->name));
    }
  }
  if (state.root() && state.root()->spec.KeyIds() == spec.KeyIds() &&
      state.root()->spec.threshold == spec.threshold) {
    return Status::Conflict("the store's root is already exactly these keys and threshold");
  }
  CAIRN_ASSIGN_OR_RETURN(spec.policy_seq, PolicyHeadSeq(store));
  TrustEvent e;
  e.actor = options.actor;
  e.action = TrustAction::kRoot;
  e.reason = options.reason;
  Root next{spec, 0, 0};
  e.root = std::move(spec);
  for (const PrivateKey* k : options.keys) {
    bool known = next.spec.HasKey(k->id()) || (state.root() && state.root()->spec.HasKey(k->id()));
    if (!known) {
      return Status::Usage(fmt::format(
          "--key {}: neither a new nor a current root key; nothing changed", k->id().Short()));
    }
  }
  // The new root must approve itself; a rotation needs the current root's approval too. Each
  // root counts only its own keys among those given.
  std::vector<std::optional<Root>> roots = {next};
  if (state.root()) roots.push_back(state.root());
  return AppendTrustEvent(store, std::move(e), {std::string(kTrustRootKey)}, roots, options.keys,
                          options.publisher, /*each_root_its_own_keys=*/true);
}

}  // namespace cairn
