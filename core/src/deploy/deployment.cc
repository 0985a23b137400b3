#include "cairn/deployment.h"

#include <fmt/format.h>

#include "cairn/clock.h"
#include "cairn/policy.h"
#include "cairn/trust.h"
#include "chain/chain_records.h"
#include "chain/hash_chain.h"
#include "deploy/deployment_records.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "util/crash_point.h"

namespace cairn {

// ---- events ----

const char* ActionName(EventAction action) {
  return action == EventAction::kPromote ? "promote" : "rollback";
}

Json Event::ToJson(bool with_hash) const {
  Json j = {{"deployment", deployment},
            {"seq", seq},
            {"time", FormatTime(time_micros)},
            {"actor", actor},
            {"action", ActionName(action)},
            {"from", from ? Json(from->Hex()) : Json()},
            {"to", to.Hex()},
            {"reason", reason},
            {"top", top},
            {"below", below},
            {"prev", prev ? Json(prev->ToString()) : Json()}};
  if (forced) j["forced"] = true;
  if (!checks.empty()) {
    Json list = Json::array();
    for (const auto& c : checks) list.push_back(c.ToJson());
    j["checks"] = std::move(list);
  }
  if (signed_by) {
    j["signed_by"] = {{"key_id", signed_by->key_id.ToString()},
                      {"trust_seq", signed_by->trust_seq}};
    if (!signed_by->name.empty()) j["signed_by"]["name"] = signed_by->name;
  }
  if (policy_seq) j["policy_seq"] = *policy_seq;
  if (hooks) {
    Json list = Json::array();
    for (const auto& h : *hooks) {
      list.push_back({{"stage", h.stage},
                      {"name", h.name},
                      {"digest", h.digest.ToString()},
                      {"exit", h.exit_code}});
    }
    j["hooks"] = std::move(list);
  }
  if (with_hash) {
    j["hash"] = hash.ToString();
    if (signature) {
      j["signature"] = {{"key_id", signature->key_id.ToString()}, {"sig", signature->sig.Hex()}};
    }
  }
  return j;
}

Result<Event> Event::FromJson(const Json& j) {
  auto bad = [](std::string_view field) {
    return Status::Corruption(fmt::format("event field '{}' is missing or mistyped", field));
  };
  try {
    Event e;
    if (!j.is_object()) return bad("(object)");
    e.deployment = j.at("deployment").get<std::string>();
    e.seq = j.at("seq").get<uint64_t>();
    auto t = ParseTime(j.at("time").get<std::string>());
    if (!t.ok()) return bad("time");
    e.time_micros = *t;
    e.actor = j.at("actor").get<std::string>();
    std::string action = j.at("action").get<std::string>();
    if (action == "promote") {
      e.action = EventAction::kPromote;
    } else if (action == "rollback") {
      e.action = EventAction::kRollback;
    } else {
      return bad("action");
    }
    if (!j.at("from").is_null()) {
      auto from = SnapshotId::Parse(j.at("from").get<std::string>());
      if (!from.ok()) return bad("from");
      e.from = *from;
    }
    auto to = SnapshotId::Parse(j.at("to").get<std::string>());
    if (!to.ok()) return bad("to");
    e.to = *to;
    e.reason = j.at("reason").get<std::string>();
    e.top = j.at("top").get<uint64_t>();
    e.below = j.at("below").get<uint64_t>();
    e.forced = j.value("forced", false);
    if (j.contains("checks")) {
      if (!j.at("checks").is_array()) return bad("checks");
      for (const Json& c : j.at("checks")) {
        auto check = PolicyCheck::FromJson(c);
        if (!check.ok()) return check.status().WithContext("checks");
        e.checks.push_back(std::move(*check));
      }
    }
    if (j.contains("signed_by")) {
      const Json& sb = j.at("signed_by");
      auto key_id = KeyId::Parse(sb.at("key_id").get<std::string>());
      if (!key_id.ok()) return bad("signed_by.key_id");
      e.signed_by = EventSigner{*key_id, sb.at("trust_seq").get<uint64_t>(), ""};
      if (sb.contains("name")) {
        e.signed_by->name = sb.at("name").get<std::string>();
        if (e.signed_by->name.empty()) return bad("signed_by.name");
      }
    }
    if (j.contains("policy_seq")) {
      if (!j.at("policy_seq").is_number_unsigned()) return bad("policy_seq");
      e.policy_seq = j.at("policy_seq").get<uint64_t>();
    }
    if (j.contains("hooks")) {
      const Json& list = j.at("hooks");
      if (!list.is_array()) return bad("hooks");
      e.hooks.emplace();
      for (const Json& h : list) {
        if (!h.is_object() || h.size() != 4 || !h.at("exit").is_number_integer()) {
          return bad("hooks");
        }
        auto digest = Digest::Parse(h.at("digest").get<std::string>());
        if (!digest.ok()) return bad("hooks.digest");
        e.hooks->push_back(HookRecord{h.at("stage").get<std::string>(),
                                      h.at("name").get<std::string>(), *digest,
                                      h.at("exit").get<int>()});
      }
    }
    if (const char* field = ReadChainLinks(j, &e.prev, &e.hash)) return bad(field);
    if (j.contains("signature")) {
      const Json& sg = j.at("signature");
      auto key_id = KeyId::Parse(sg.at("key_id").get<std::string>());
      if (!key_id.ok()) return bad("signature.key_id");
      auto sig = Signature::ParseHex(sg.at("sig").get<std::string>());
      if (!sig.ok()) return bad("signature.sig");
      e.signature = EventSignature{*key_id, *sig};
    }
    return e;
  } catch (const Json::exception& ex) {
    return Status::Corruption(fmt::format("event is malformed: {}", ex.what()));
  }
}

Result<Digest> Event::ComputeHash() const { return ChainHash(ToJson(/*with_hash=*/false)); }

// ---- reading ----

Result<Deployment> GetDeployment(const Store& store, const DeploymentName& name) {
  CAIRN_ASSIGN_OR_RETURN(auto value,
                         StoreInternal::db(store).Get(Table::kDeployments, DeploymentKey(name)));
  if (!value) {
    return Status::NotFound(
        fmt::format("no deployment \"{}\" (it is created by its first 'cairn promote REV --to {}')",
                    name.view(), name.view()));
  }
  CAIRN_ASSIGN_OR_RETURN(Event last, DecodeEvent(*value, "deployment " + name.str()));
  return Deployment{name, last.to, std::move(last)};
}

Result<std::vector<Deployment>> ListDeployments(const Store& store) {
  std::vector<Deployment> out;
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kDeployments);
  for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
    auto name = DeploymentName::Parse(cur.key());
    if (!name.ok()) {
      return Status::Corruption("a deployment pointer is stored under a key that is not a name: " +
                                name.status().message());
    }
    CAIRN_ASSIGN_OR_RETURN(Event last, DecodeEvent(cur.value(), "deployment " + name->str()));
    out.push_back(Deployment{*name, last.to, std::move(last)});
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  return out;
}

Result<Event> GetEvent(const Store& store, const DeploymentName& name, uint64_t seq) {
  CAIRN_ASSIGN_OR_RETURN(auto value,
                         StoreInternal::db(store).Get(Table::kEvents, EventKey(name, seq)));
  if (!value) return Status::NotFound(fmt::format("{} has no event {}", name.view(), seq));
  return DecodeEvent(*value, fmt::format("event {} of {}", seq, name.view()));
}

Result<std::vector<Event>> ReadEvents(const Store& store, const DeploymentName& name,
                                      std::optional<int64_t> since, std::optional<int64_t> until) {
  CAIRN_RETURN_IF_ERROR(GetDeployment(store, name).status());  // it must exist
  std::vector<Event> out;
  std::string prefix = DeploymentPrefix(name);
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kEventTime);
  std::string start =
      since ? EventTimeKey(StoreInternal::db(store).schema(), name, *since, 0) : prefix;
  for (cur.Seek(start); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
    uint64_t seq = SeqOfEventTimeKey(cur.key());
    CAIRN_ASSIGN_OR_RETURN(Event e, GetEvent(store, name, seq));
    if (until && e.time_micros > *until) break;
    out.push_back(std::move(e));
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  return out;
}

Result<Event> LiveAt(const Store& store, const DeploymentName& name, int64_t time_micros) {
  CAIRN_RETURN_IF_ERROR(GetDeployment(store, name).status());  // it must exist
  // The last event at or before `time`: seek past it, step back once.
  std::string prefix = DeploymentPrefix(name);
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kEventTime);
  cur.Seek(EventTimeKey(StoreInternal::db(store).schema(), name, time_micros, UINT64_MAX));
  if (cur.Valid()) {
    cur.Prev();
  } else {
    cur.SeekToLast();
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  if (!cur.Valid() || !cur.key().starts_with(prefix)) {
    return Status::NotFound(fmt::format("nothing was live on {} at {} (before its first promotion)",
                                        name.view(), FormatTime(time_micros)));
  }
  return GetEvent(store, name, SeqOfEventTimeKey(cur.key()));
}

Result<LiveHistory> GetLiveHistory(const Store& store, const DeploymentName& name,
                                   const SnapshotId& snapshot) {
  CAIRN_ASSIGN_OR_RETURN(auto value, StoreInternal::db(store).Get(Table::kLiveHistory,
                                                                  LiveHistoryKey(name, snapshot)));
  if (!value) return LiveHistory{};
  return DecodeLiveHistory(*value);
}

// ---- moving ----

namespace {

struct Current {
  std::optional<Deployment> deployment;  // none before the first promotion
};

Result<Current> LoadCurrent(const Store& store, const DeploymentName& name) {
  auto d = GetDeployment(store, name);
  if (d.ok()) return Current{std::move(*d)};
  if (d.status().IsNotFound()) return Current{};
  return d.status();
}

Status CheckExpect(const Current& cur, const DeploymentName& name, const MoveOptions& o) {
  if (!o.expect) return Status::OK();
  if (!cur.deployment) {
    return Status::Moved(fmt::format("{} has never been promoted, not {} as expected", name.view(),
                                     o.expect->Short()));
  }
  if (cur.deployment->live != *o.expect) {
    return Status::Moved(
        fmt::format("{} is now {} (moved by {} at {}), not {} as expected; nothing changed", name,
                    cur.deployment->live.Short(), cur.deployment->last.actor,
                    FormatTime(cur.deployment->last.time_micros), o.expect->Short()));
  }
  return Status::OK();
}

// The signing key of a move must be trusted now; returns who signs: the key, the trust
// chain's last seq and the key's trusted name (the first, by name, of its names).
Result<EventSigner> CheckSigningKey(const Store& store, const PrivateKey& key) {
  CAIRN_ASSIGN_OR_RETURN(TrustState trust, TrustState::Load(store));
  switch (trust.StatusOf(key.id())) {
    case KeyTrust::kTrusted:
      return EventSigner{key.id(), trust.head_seq(), trust.EntriesFor(key.id()).front()->name};
    case KeyTrust::kRevoked:
      return Status::Conflict(fmt::format(
          "signing key {} is revoked: it may not sign a move (sign with another trusted key); "
          "nothing changed",
          key.id().Short()));
    case KeyTrust::kUnknown:
      break;
  }
  return Status::Conflict(fmt::format(
      "signing key {} is not in the trust list: add it with 'cairn trust add NAME PUBKEY_FILE "
      "--role ROLE' (or drop --key / CAIRN_KEY); nothing changed",
      key.id().Short()));
}

// A move is dated by this machine's clock, which must be neither behind the deployment's last
// event (a clock that went back is refused, not hidden) nor before the snapshot it makes live
// was created. kConflict naming both times.
Status CheckMoveTime(const Store& store, const Current& cur, const DeploymentName& name,
                     const SnapshotId& to, int64_t now) {
  if (cur.deployment) {
    Event probe;
    CAIRN_RETURN_IF_ERROR(LinkAfter(&cur.deployment->last, now, &probe, "event of " + name.str()));
  }
  CAIRN_ASSIGN_OR_RETURN(int64_t created, SnapshotCreatedMicros(store, to));
  if (now < created) {
    return Status::Conflict(fmt::format(
        "this machine's clock says {}, before snapshot {} was created ({}): a move cannot be "
        "dated before what it makes live; fix the clock; nothing changed",
        FormatTime(now), to.Short(), FormatTime(created)));
  }
  return Status::OK();
}

// Fills seq, time, prev, hash (and signature, with a key) from the current state, then
// writes pointer, event, time index and live history in one synced batch.
Result<Event> Append(Store& store, const DeploymentName& name, const Current& cur, Event e,
                     std::optional<SnapshotId> rolled_back, const PrivateKey* key,
                     MovePublisher* publisher) {
  if (store.read_only()) return Status::Internal("moving a deployment needs a writable store");
  Db& db = StoreInternal::db(store);
  const Event* last = cur.deployment ? &cur.deployment->last : nullptr;
  CAIRN_RETURN_IF_ERROR(LinkAfter(last, store.clock().NowMicros(), &e, "event of " + name.str()));
  // (CheckMoveTime ran before the gate; LinkAfter checks the clock against the chain again.)
  if (last != nullptr) e.from = last->to;
  if (e.action == EventAction::kPromote || e.top == 0) e.top = e.seq;
  CAIRN_ASSIGN_OR_RETURN(e.hash, e.ComputeHash());
  if (key != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(Signature sig, key->Sign(EventSigningMessage(e.hash)));
    e.signature = EventSignature{key->id(), sig};
  }
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(e.ToJson()));
  // Team mode: the remote's ref update decides; nothing is written here unless it accepted.
  if (publisher != nullptr) {
    CAIRN_RETURN_IF_ERROR(publisher->Publish(e));
    CAIRN_CRASH_POINT("publish.pushed");  // on the remote, not yet here: the next pull takes it
  }

  Batch batch(db);
  if (publisher != nullptr) {
    for (const auto& [key, value] : publisher->MetaRecords()) batch.Put(Table::kMeta, key, value);
  }
  PutChainEvent(batch, DeploymentChain(name), e.seq, bytes);
  batch.Put(Table::kEventTime,
            EventTimeKey(StoreInternal::db(store).schema(), name, e.time_micros, e.seq), "");
  CAIRN_ASSIGN_OR_RETURN(LiveHistory to_history, GetLiveHistory(store, name, e.to));
  if (!to_history.was_live) {
    to_history.first_seq = e.seq;
    batch.Put(Table::kLiveHistory, LiveHistoryKey(name, e.to), EncodeLiveHistory(to_history));
  }
  if (rolled_back) {
    CAIRN_ASSIGN_OR_RETURN(LiveHistory h, GetLiveHistory(store, name, *rolled_back));
    h.rolled_back_seq = e.seq;
    batch.Put(Table::kLiveHistory, LiveHistoryKey(name, *rolled_back), EncodeLiveHistory(h));
  }
  CAIRN_RETURN_IF_ERROR(db.Write(batch, /*sync=*/true));
  // The move is durable now. Every writer's open starts a new log file and every open
  // replays them all, so fold them into table files now and then; a failure here does not
  // undo the move (and the next writer retries), so it must not report the move as failed.
  db.Checkpoint().PermitUnchecked();
  return e;
}

Status RequireReason(const MoveOptions& o) {
  if (o.reason.empty()) {
    return Status::Usage("say why with --reason TEXT: it is recorded in the audit log");
  }
  return Status::OK();
}

}  // namespace

namespace {
// Names the signer (a signed event's actor is the key's trusted name), asks the caller's
// gate (if any) about the planned move, then writes it.
Result<Event> GateThenAppend(Store& store, const DeploymentName& name, const Current& cur, Event e,
                             std::optional<SnapshotId> rolled_back, const MoveOptions& options) {
  if (options.key != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(e.signed_by, CheckSigningKey(store, *options.key));
    if (options.actor_given && options.actor != e.signed_by->name) {
      return Status::Usage(fmt::format(
          "--actor {}: a signed move's actor is its signer's trusted name, here \"{}\" (key "
          "{}); drop --actor; nothing changed",
          options.actor, e.signed_by->name, e.signed_by->key_id.Short()));
    }
    e.actor = e.signed_by->name;
  }
  // Refuse a bad clock before the gate runs hooks for a move that cannot be written.
  CAIRN_RETURN_IF_ERROR(CheckMoveTime(store, cur, name, e.to, store.clock().NowMicros()));
  if (options.gate) {
    CAIRN_ASSIGN_OR_RETURN(e.policy_seq, PolicyHeadSeq(store));
    if (cur.deployment) e.from = cur.deployment->live;
    CAIRN_ASSIGN_OR_RETURN(GateVerdict verdict, options.gate(e));
    e.checks = std::move(verdict.checks);
    if (verdict.records_hooks) e.hooks = std::move(verdict.hooks);
    if (e.action == EventAction::kRollback && verdict.forced) e.forced = true;
  }
  return Append(store, name, cur, std::move(e), rolled_back, options.key, options.publisher);
}
}  // namespace

Result<Event> Promote(Store& store, const DeploymentName& name, const SnapshotId& snapshot,
                      const MoveOptions& options) {
  CAIRN_RETURN_IF_ERROR(RequireReason(options));
  CAIRN_ASSIGN_OR_RETURN(bool exists, HasSnapshot(store, snapshot));
  if (!exists) return Status::NotFound(fmt::format("no snapshot {}", snapshot.Hex()));
  CAIRN_ASSIGN_OR_RETURN(Current cur, LoadCurrent(store, name));
  CAIRN_RETURN_IF_ERROR(CheckExpect(cur, name, options));
  if (cur.deployment && cur.deployment->live == snapshot) {
    return Status::Conflict(fmt::format("{} is already live on {} (since {}): nothing to do",
                                        snapshot.Short(), name.view(),
                                        FormatTime(cur.deployment->last.time_micros)));
  }
  Event e;
  e.deployment = name.str();
  e.actor = options.actor;
  e.action = EventAction::kPromote;
  e.to = snapshot;
  e.reason = options.reason;
  e.below = cur.deployment ? cur.deployment->last.top : 0;
  return GateThenAppend(store, name, cur, std::move(e), std::nullopt, options);
}

Result<std::string> WhyNotAWalkBack(const Store& store, const DeploymentName& name,
                                    const SnapshotId& to, uint64_t stack_entry) {
  CAIRN_ASSIGN_OR_RETURN(LiveHistory h, GetLiveHistory(store, name, to));
  if (!h.was_live) return fmt::format("{} was never live on {}", to.Short(), name.view());
  // On the stack, the entry's stay ended with the promotion above it: only a rollback after
  // the entry judged it. Off the stack, any rollback from it counts.
  if (h.rolled_back_seq == 0 || h.rolled_back_seq < stack_entry) return std::string();
  CAIRN_ASSIGN_OR_RETURN(Event rb, GetEvent(store, name, h.rolled_back_seq));
  return fmt::format("{} was rolled back from {} at {} (event #{}: \"{}\")", to.Short(),
                     name.view(), FormatTime(rb.time_micros), rb.seq, rb.reason);
}

namespace {
// A rollback target that is not a plain walk back needs --force; returns whether the move is
// forced. kUsage without force.
Result<bool> NeedsForce(const Store& store, const DeploymentName& name, const SnapshotId& to,
                        uint64_t stack_entry, bool force) {
  CAIRN_ASSIGN_OR_RETURN(std::string why, WhyNotAWalkBack(store, name, to, stack_entry));
  if (why.empty()) return false;
  if (force) return true;
  return Status::Usage(fmt::format(
      "{}: rollback returns only to snapshots that were live here and not rolled back from "
      "here since; use --force to roll back to it anyway (it then passes every gate of a "
      "promotion, and the event is marked forced); nothing changed",
      why));
}
}  // namespace

Result<Event> Rollback(Store& store, const DeploymentName& name, const RollbackOptions& options) {
  CAIRN_RETURN_IF_ERROR(RequireReason(options.move));
  if (options.steps == 0) return Status::Usage("--steps must be at least 1");
  CAIRN_ASSIGN_OR_RETURN(Current cur, LoadCurrent(store, name));
  if (!cur.deployment) {
    return Status::NotFound(fmt::format("no deployment \"{}\": nothing to roll back", name.view()));
  }
  CAIRN_RETURN_IF_ERROR(CheckExpect(cur, name, options.move));
  const Deployment& d = *cur.deployment;

  Event e;
  e.deployment = name.str();
  e.actor = options.move.actor;
  e.action = EventAction::kRollback;
  e.reason = options.move.reason;

  if (options.to) {
    if (*options.to == d.live) {
      return Status::Conflict(
          fmt::format("{} is already live on {}", options.to->Short(), name.view()));
    }
    CAIRN_ASSIGN_OR_RETURN(bool exists, HasSnapshot(store, *options.to));
    if (!exists) return Status::NotFound(fmt::format("no snapshot {}", options.to->Hex()));
    CAIRN_ASSIGN_OR_RETURN(LiveHistory h, GetLiveHistory(store, name, *options.to));
    e.to = *options.to;
    // Walk down the stack to it if it is there (cost: the distance walked); otherwise it
    // becomes a new stack entry above the current one.
    uint64_t node = h.was_live ? d.last.top : 0;  // never live here: not on the stack
    while (node != 0) {
      CAIRN_ASSIGN_OR_RETURN(Event pushed, GetEvent(store, name, node));
      if (pushed.to == *options.to) break;
      if (pushed.seq <= h.first_seq) {
        node = 0;
        break;
      }
      node = pushed.below;
    }
    if (node != 0) {
      e.top = node;
    } else {
      e.below = d.last.top;  // a new entry: Append makes top = its own seq
      e.top = 0;
    }
    CAIRN_ASSIGN_OR_RETURN(e.forced, NeedsForce(store, name, e.to, e.top, options.force));
    return GateThenAppend(store, name, cur, std::move(e), d.live, options.move);
  }

  // Walk `steps` entries down the stack: each entry is the promotion that made a snapshot
  // live; `below` is what was live before it.
  uint64_t node = d.last.top;
  for (uint32_t i = 0; i < options.steps; ++i) {
    CAIRN_ASSIGN_OR_RETURN(Event pushed, GetEvent(store, name, node));
    node = pushed.below;
    if (node == 0) {
      return Status::NotFound(fmt::format(
          "{} has nothing {} to roll back to: {} was the first snapshot promoted there{}",
          name.view(), options.steps == 1 ? "earlier" : fmt::format("{} steps back", options.steps),
          pushed.to.Short(), i == 0 ? "" : fmt::format(" ({} steps back)", i)));
    }
  }
  CAIRN_ASSIGN_OR_RETURN(Event target, GetEvent(store, name, node));
  e.to = target.to;
  e.top = node;
  if (e.to == d.live) {
    return Status::Conflict(fmt::format("{} is already live on {}", e.to.Short(), name.view()));
  }
  CAIRN_ASSIGN_OR_RETURN(e.forced, NeedsForce(store, name, e.to, e.top, options.force));
  return GateThenAppend(store, name, cur, std::move(e), d.live, options.move);
}

}  // namespace cairn
