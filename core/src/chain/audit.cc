// audit verify: recomputes every deployment's hash chain, the trust chain and the policy
// chain (replayed in policy.cc) from the stored events, and checks every event signature
// against the trust list of its time.
#include "cairn/audit.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "cairn/clock.h"
#include "cairn/deployment.h"
#include "cairn/hooks.h"
#include "cairn/policy.h"
#include "cairn/policy_eval.h"
#include "cairn/snapshot.h"
#include "cairn/trust.h"
#include "chain/hash_chain.h"
#include "deploy/deployment_records.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "trust/attestation_records.h"
#include "trust/signature_records.h"
#include "trust/trust_records.h"

namespace cairn {

// ---- the trust chain ----

KeyTrust TrustChainAudit::StatusAt(const KeyId& key, uint64_t seq) const {
  auto it = keys.find(key);
  if (it == keys.end()) return KeyTrust::kUnknown;
  if (it->second.revoked_seq != 0 && it->second.revoked_seq <= seq) return KeyTrust::kRevoked;
  if (it->second.added_seq != 0 && it->second.added_seq <= seq) return KeyTrust::kTrusted;
  return KeyTrust::kUnknown;
}

namespace {

// Whether `e` carries the approval of `root` (threshold distinct root keys); why not if not.
std::optional<std::string> MissingApproval(const Root& root, const std::string& message,
                                           const std::vector<ChangeSignature>& signatures,
                                           std::string_view what) {
  auto shortfall = RootApprovalShortfall(root.spec, message, signatures);
  if (!shortfall) return std::nullopt;
  return fmt::format(
      "{} was not approved by the {}: {}", what,
      root.seq == 0 ? "new root it makes" : fmt::format("root of trust event #{}", root.seq),
      *shortfall);
}

// The rules InitRoot enforces, checked again on a stored root event.
std::optional<std::string> BrokenRootRule(const TrustEvent& e, const TrustChainAudit& out) {
  const RootSpec& spec = *e.root;
  for (size_t i = 1; i < spec.keys.size(); ++i) {
    if (!(spec.keys[i - 1].id() < spec.keys[i].id()))
      return "its root keys are not sorted and unique";
  }
  for (const auto& k : spec.keys) {
    if (out.StatusAt(k.id(), e.seq) != KeyTrust::kUnknown) {
      return fmt::format("root key {} is also a trusted signer", k.id().Short());
    }
  }
  if (!out.roots.empty() && out.roots.back().spec.policy_seq > spec.policy_seq) {
    return "its policy_seq is lower than the previous root's";
  }
  std::string message = TrustChangeSigningMessage(e.hash);
  if (auto missing = MissingApproval(Root{spec, 0, 0}, message, e.signatures, "the root")) {
    return missing;
  }
  if (!out.roots.empty()) {
    return MissingApproval(out.roots.back(), message, e.signatures, "the root rotation");
  }
  return std::nullopt;
}

// The rules AddTrust and RevokeTrust enforce, checked again on the stored event.
std::optional<std::string> BrokenTrustRule(const TrustEvent& e,
                                           const std::map<std::string, TrustEvent>& names,
                                           const TrustChainAudit& out) {
  if (e.action == TrustAction::kRoot) return BrokenRootRule(e, out);
  if (!out.roots.empty()) {
    if (auto missing = MissingApproval(out.roots.back(), TrustChangeSigningMessage(e.hash),
                                       e.signatures, "the change")) {
      return missing;
    }
  } else if (!e.signatures.empty()) {
    return "it carries root signatures, but the store had no root";
  }
  if (e.action == TrustAction::kAdd) {
    if (!out.roots.empty() && out.roots.back().spec.HasKey(e.key_id)) {
      return fmt::format("it trusts root key {} as a signer", e.key_id.Short());
    }
    if (e.public_key->id() != e.key_id) return "its key id is not the SHA-256 of its public key";
    if (!ValidateKeyName(e.name).ok()) return fmt::format("\"{}\" is not a valid name", e.name);
    if (names.contains(e.name)) return fmt::format("it adds \"{}\", which already exists", e.name);
    if (out.StatusAt(e.key_id, e.seq) == KeyTrust::kRevoked) {
      return fmt::format("it trusts key {}, which was revoked before", e.key_id.Short());
    }
    if (e.roles.empty()) return "it grants no role";
    for (const auto& role : e.roles) {
      if (!ValidateRoleName(role).ok()) return fmt::format("\"{}\" is not a valid role", role);
    }
    if (!std::is_sorted(e.roles.begin(), e.roles.end()) ||
        std::adjacent_find(e.roles.begin(), e.roles.end()) != e.roles.end()) {
      return "its roles are not sorted and unique";
    }
    return std::nullopt;
  }
  auto it = names.find(e.name);
  if (it == names.end()) return fmt::format("it revokes \"{}\", which was never added", e.name);
  if (it->second.key_id != e.key_id) {
    return fmt::format("it revokes key {} but \"{}\" holds key {}", e.key_id.Short(), e.name,
                       it->second.key_id.Short());
  }
  if (out.StatusAt(e.key_id, e.seq) == KeyTrust::kRevoked) return "its key was already revoked";
  return std::nullopt;
}

}  // namespace

Result<TrustChainAudit> AuditTrustChain(const Store& store) {
  const Db& db = StoreInternal::db(store);
  TrustChainAudit out;
  auto problem = [&](uint64_t seq, std::string message) {
    out.problem = AuditProblem{"", seq, std::move(message), AuditChain::kTrust};
    return out;
  };
  std::map<std::string, TrustEvent> names;  // name -> its add event
  TrustDerivedRecords derived;
  auto rules = [&](const TrustEvent& e, const TrustEvent*,
                   std::string_view bytes) -> Result<std::optional<std::string>> {
    if (auto broken = BrokenTrustRule(e, names, out)) return broken;
    derived.Add(e, bytes);
    if (e.action == TrustAction::kRoot) {
      out.roots.push_back(Root{*e.root, e.seq, e.time_micros});
      return std::optional<std::string>();
    }
    KeyHistory& h = out.keys[e.key_id];
    if (e.action == TrustAction::kAdd) {
      h.public_key = *e.public_key;
      if (h.added_seq == 0) h.added_seq = e.seq;
      h.names.push_back(e.name);
      names.emplace(e.name, e);
    } else {
      h.revoked_seq = e.seq;
      h.compromised_since = e.compromised_since;
    }
    return std::optional<std::string>();
  };
  CAIRN_ASSIGN_OR_RETURN(auto replay,
                         ReplayChain<TrustEvent>(db, TrustChain(), DecodeTrustEvent, rules));
  out.events = replay.events;
  out.head_seq = replay.head_seq;
  if (replay.broken) return problem(replay.broken->seq, replay.broken->message);
  CAIRN_ASSIGN_OR_RETURN(auto bad_name,
                         CheckDerivedRecords(db, Table::kTrust, kTrustNamePrefix, derived.names,
                                             "trust name", "trust event"));
  if (bad_name) return problem(0, bad_name->message);
  CAIRN_ASSIGN_OR_RETURN(
      auto bad_revoked, CheckDerivedRecords(db, Table::kTrust, kTrustRevokedPrefix, derived.revoked,
                                            "revocation", "trust event"));
  if (bad_revoked) return problem(0, bad_revoked->message);
  CAIRN_ASSIGN_OR_RETURN(auto bad_root,
                         CheckDerivedRecords(db, Table::kTrust, kTrustRootKey, derived.root,
                                             "root record", "trust event"));
  if (bad_root) return problem(0, bad_root->message);
  return out;
}

// ---- deployment chains ----

namespace {

// Judges a signed event against the trust chain as it stood at the event's trust_seq.
EventSignatureCheck JudgeEventSignature(const Event& e, const TrustChainAudit& trust) {
  EventSignatureCheck check;
  check.deployment = e.deployment;
  check.seq = e.seq;
  check.key_id = e.signed_by->key_id;
  auto it = trust.keys.find(check.key_id);
  if (it == trust.keys.end()) {
    check.status = SignatureStatus::kUnknownKey;
    check.detail = "signed by a key the trust chain never held";
    return check;
  }
  check.names = it->second.names;
  if (!VerifySignature(it->second.public_key, EventSigningMessage(e.hash), e.signature->sig)) {
    check.status = SignatureStatus::kBad;
    check.detail = "the signature does not verify over the event's hash";
    return check;
  }
  switch (trust.StatusAt(check.key_id, e.signed_by->trust_seq)) {
    case KeyTrust::kTrusted:
      check.status = SignatureStatus::kValid;
      if (it->second.revoked_seq != 0) {
        check.detail = fmt::format("key revoked later (trust event #{})", it->second.revoked_seq);
        const auto& since = it->second.compromised_since;
        if (since && e.time_micros >= *since) {
          check.status = SignatureStatus::kRevoked;
          check.detail = fmt::format(
              "signed at {}, after the key was compromised (since {}, revoked by trust event "
              "#{})",
              FormatTime(e.time_micros), FormatTime(*since), it->second.revoked_seq);
        }
      }
      break;
    case KeyTrust::kRevoked:
      check.status = SignatureStatus::kRevoked;
      check.detail = fmt::format("the key was revoked (trust event #{}) before it signed",
                                 it->second.revoked_seq);
      break;
    case KeyTrust::kUnknown:
      check.status = SignatureStatus::kUnknownKey;
      check.detail = fmt::format("the key was not trusted yet when it signed (trust event #{})",
                                 e.signed_by->trust_seq);
      break;
  }
  return check;
}

// How the signature fields of an event break the chain, if they do.
std::optional<std::string> BrokenSignatureLink(const Event& e, uint64_t min_trust_seq,
                                               const TrustChainAudit& trust) {
  if (e.signed_by && !e.signature) {
    return fmt::format(
        "it declares signer {} but carries no signature: the signature was "
        "removed",
        e.signed_by->key_id.Short());
  }
  if (!e.signed_by && e.signature) {
    return "it carries a signature its hashed part does not declare: the signature was added "
           "afterwards";
  }
  if (!e.signed_by) return std::nullopt;
  if (e.signature->key_id != e.signed_by->key_id) {
    return fmt::format("its signature is by key {} but it declares signer {}",
                       e.signature->key_id.Short(), e.signed_by->key_id.Short());
  }
  if (e.signed_by->trust_seq > trust.head_seq) {
    return fmt::format("it names trust event #{}, which does not exist", e.signed_by->trust_seq);
  }
  if (e.signed_by->trust_seq < min_trust_seq) {
    return fmt::format(
        "it names trust event #{}, older than an earlier event of the chain did "
        "(#{})",
        e.signed_by->trust_seq, min_trust_seq);
  }
  return std::nullopt;
}

// The policy in force for `deployment` once policy events 1..seq had happened, and the ones
// before and after it: what a move's policy_seq is judged by.
struct PolicyWindow {
  std::optional<std::pair<uint64_t, Policy>> before, at, after;
};
PolicyWindow WindowAt(const PolicyChainAudit& policy, const std::string& deployment, uint64_t seq) {
  PolicyWindow w;
  auto it = policy.history.find(deployment);
  if (it == policy.history.end()) return w;
  const auto& h = it->second;
  size_t i = 0;
  while (i < h.size() && h[i].first <= seq) ++i;
  // h[0..i) happened by `seq`.
  if (i >= 1) w.at = h[i - 1];
  if (i >= 2) w.before = h[i - 2];
  if (i < h.size()) w.after = h[i];
  return w;
}

// A move made under a policy weaker than both the one before it and the one after it — a
// window opened to let one move through ("clear, promote, set again") — is flagged.
std::optional<std::string> WeakerPolicyWindow(const Event& e, const PolicyChainAudit& policy) {
  if (!e.policy_seq) return std::nullopt;
  PolicyWindow w = WindowAt(policy, e.deployment, *e.policy_seq);
  if (!w.at || !w.before || !w.after) return std::nullopt;
  auto than_before = LoosenedRules(w.at->second, w.before->second);
  auto than_after = LoosenedRules(w.at->second, w.after->second);
  if (than_before.empty() || than_after.empty()) return std::nullopt;
  std::string rules;
  for (const auto& r : than_before) {
    if (std::find(than_after.begin(), than_after.end(), r) != than_after.end()) {
      rules += (rules.empty() ? "" : "; ") + r;
    }
  }
  if (rules.empty()) rules = than_before.front();
  return fmt::format(
      "it was gated by policy event #{}, weaker than the policy before it (#{}) and after it "
      "(#{}): {}",
      w.at->first, w.before->first, w.after->first, rules);
}

// The gate hooks of one deployment's moves, event by event. A move whose record holds no hook
// of a stage, while the nearest moves before and after it that apply that stage ran some, is
// reported (the hooks were removed for that move); so is a move with no record at all once
// moves record their hooks (it was made without the gate). Events from before hook records
// existed are counted, never reported.
class HookTrail {
 public:
  // The problems `e` settles: (seq, message) pairs.
  std::vector<std::pair<uint64_t, std::string>> Add(const Event& e) {
    std::vector<std::pair<uint64_t, std::string>> found;
    if (!e.hooks) {
      if (last_record_ == 0) {
        ++before_records_;
      } else {
        found.emplace_back(e.seq, fmt::format("it has no record of gate hooks, though event #{} "
                                              "before it has one: it was made without the gate",
                                              last_record_));
      }
      return found;
    }
    last_record_ = e.seq;
    // A promotion runs pre-promote hooks; a walk-back rollback pre-rollback hooks; a forced
    // rollback was judged as a promotion and runs both.
    std::vector<HookStage> stages;
    if (e.action == EventAction::kPromote || e.forced) stages.push_back(HookStage::kPrePromote);
    if (e.action == EventAction::kRollback) stages.push_back(HookStage::kPreRollback);
    for (HookStage stage : stages) {
      Trail& t = trails_[stage];
      std::string name = HookStageName(stage);
      bool ran = std::any_of(e.hooks->begin(), e.hooks->end(),
                             [&](const HookRecord& h) { return h.stage == name; });
      if (!ran) {
        if (t.last_ran != 0) t.silent.push_back(e.seq);
        continue;
      }
      for (uint64_t seq : t.silent) {
        found.emplace_back(
            seq, fmt::format("it ran no {} hooks, though the moves before it (#{}) and after it "
                             "(#{}) did: were the hooks removed for this move?",
                             name, t.last_ran, e.seq));
      }
      t.silent.clear();
      t.last_ran = e.seq;
    }
    return found;
  }
  uint64_t before_records() const { return before_records_; }

 private:
  struct Trail {
    uint64_t last_ran = 0;         // the last event that ran hooks of the stage
    std::vector<uint64_t> silent;  // events since then that applied the stage and ran none
  };
  std::map<HookStage, Trail> trails_;
  uint64_t last_record_ = 0;
  uint64_t before_records_ = 0;
};

// Snapshots' created times, each read once per audit: a chain's events keep naming the same
// few snapshots, and a large manifest is megabytes.
class CreatedTimes {
 public:
  explicit CreatedTimes(const Store& store) : store_(store) {}
  // nullopt when it cannot be read (a missing or damaged snapshot is reported on its own).
  std::optional<int64_t> Of(const SnapshotId& id) {
    auto [it, fresh] = times_.try_emplace(id);
    if (fresh) {
      auto created = SnapshotCreatedMicros(store_, id);
      if (created.ok()) it->second = *created;
    }
    return it->second;
  }

 private:
  const Store& store_;
  std::map<SnapshotId, std::optional<int64_t>> times_;
};

// The time rules of one event: not before the snapshot it made live was created, and not
// ahead of the auditor's clock by more than the allowed skew.
std::optional<std::string> BrokenTimeRule(CreatedTimes& created_times, const Event& e,
                                          int64_t now_micros) {
  using Broken = std::optional<std::string>;
  if (e.time_micros > now_micros + kMaxClockSkewMicros) {
    return Broken(fmt::format(
        "it is dated {}, in the future of this audit ({}): the clock that wrote it was wrong",
        FormatTime(e.time_micros), FormatTime(now_micros)));
  }
  auto created = created_times.Of(e.to);
  if (created && e.time_micros < *created) {
    return Broken(fmt::format("it is dated {}, before snapshot {} was created ({})",
                              FormatTime(e.time_micros), e.to.Short(), FormatTime(*created)));
  }
  return Broken();
}

// A signed event's actor is the signer's trusted name (events that record the name).
std::optional<std::string> BrokenSignerName(const Event& e, const TrustChainAudit& trust) {
  if (!e.signed_by || e.signed_by->name.empty()) return std::nullopt;
  if (e.actor != e.signed_by->name) {
    return fmt::format("its actor \"{}\" is not its signer's trusted name \"{}\"", e.actor,
                       e.signed_by->name);
  }
  auto it = trust.keys.find(e.signed_by->key_id);
  if (it == trust.keys.end()) return std::nullopt;  // judged as an unknown key
  const auto& names = it->second.names;
  if (std::find(names.begin(), names.end(), e.signed_by->name) == names.end()) {
    return fmt::format("its signer name \"{}\" is not a trusted name of key {}", e.signed_by->name,
                       e.signed_by->key_id.Short());
  }
  return std::nullopt;
}

// Checks one deployment; returns the first broken link, if any. Signed events' verdicts
// are appended to `report->signatures`; findings that do not break the chain (a weaker
// policy window, a time rule, a key compromised before it signed) to `report->problems`.
Result<std::optional<AuditProblem>> VerifyOne(const Store& store, const std::string& name,
                                              const TrustChainAudit& trust,
                                              const PolicyChainAudit& policy, int64_t now_micros,
                                              CreatedTimes& created_times, AuditReport* report) {
  Db& db = StoreInternal::db(store);
  auto problem = [&](uint64_t seq, std::string message) {
    return std::optional<AuditProblem>(AuditProblem{name, seq, std::move(message)});
  };
  uint64_t min_trust_seq = 0;
  uint64_t min_policy_seq = 0;
  // The live history the events imply: snapshot (raw id) -> first seq, rolled-back seq.
  std::map<std::string, LiveHistory> live;
  auto flag = [&](uint64_t seq, std::string message) {
    report->problems.push_back(AuditProblem{name, seq, std::move(message)});
  };
  HookTrail hook_trail;
  // A deployment chain's own rules: each event moves from what the previous one made live,
  // names its deployment, is in the time index, made an existing snapshot live, and its
  // signature fields hang together.
  auto rules = [&](const Event& e, const Event* prev,
                   std::string_view) -> Result<std::optional<std::string>> {
    using Broken = std::optional<std::string>;
    if (e.deployment != name)
      return Broken(fmt::format("event names deployment \"{}\"", e.deployment));
    if (prev && (!e.from || *e.from != prev->to)) {
      return Broken(fmt::format("from is not what event {} made live", prev->seq));
    }
    if (!prev && e.from) return Broken("the first event has a from");
    if (auto broken = BrokenSignatureLink(e, min_trust_seq, trust)) return broken;
    if (auto broken = BrokenSignerName(e, trust)) return broken;
    if (e.signed_by) {
      min_trust_seq = e.signed_by->trust_seq;
      report->signatures.push_back(JudgeEventSignature(e, trust));
    }
    if (e.policy_seq) {
      if (*e.policy_seq > policy.events) {
        return Broken(fmt::format("it names policy event #{}, but the policy chain has {}",
                                  *e.policy_seq, policy.events));
      }
      if (*e.policy_seq < min_policy_seq) {
        return Broken(fmt::format("it names policy event #{}, older than an earlier move did (#{})",
                                  *e.policy_seq, min_policy_seq));
      }
      min_policy_seq = *e.policy_seq;
      if (auto weaker = WeakerPolicyWindow(e, policy)) flag(e.seq, std::move(*weaker));
    }
    if (auto time_rule = BrokenTimeRule(created_times, e, now_micros)) {
      flag(e.seq, std::move(*time_rule));
    }
    for (auto& [seq, message] : hook_trail.Add(e)) flag(seq, std::move(message));
    // Every stored verdict with numbers is recomputed from the case files it names.
    for (const auto& c : e.checks) {
      if (c.stats.empty()) continue;
      CAIRN_ASSIGN_OR_RETURN(std::string diff, RecomputeCheckStats(store, c, e.to, e.from));
      ++report->verdicts_recomputed;
      if (!diff.empty()) {
        flag(e.seq, fmt::format("check {} {}: not reproduced from its case files: {}", c.rule,
                                c.subject, diff));
      }
    }
    NoteLiveHistory(&live, e);
    CAIRN_ASSIGN_OR_RETURN(
        bool indexed,
        db.Contains(Table::kEventTime, EventTimeKey(db.schema(), name, e.time_micros, e.seq)));
    if (!indexed) return Broken("missing from the time index");
    CAIRN_ASSIGN_OR_RETURN(bool exists, HasSnapshot(store, e.to));
    if (!exists) {
      return Broken(fmt::format("it made snapshot {} live, which is not in the store", e.to.Hex()));
    }
    return Broken();
  };
  CAIRN_ASSIGN_OR_RETURN(auto replay,
                         ReplayChain<Event>(db, DeploymentChain(name), DecodeEvent, rules));
  report->events += replay.events;
  report->events_without_hook_record += hook_trail.before_records();
  if (replay.broken) return problem(replay.broken->seq, replay.broken->message);
  // Soak and rollback read the live-history index: it must be exactly what the events imply.
  std::map<std::string, std::string> expected;
  for (const auto& [raw_id, h] : live) expected[raw_id] = EncodeLiveHistory(h);
  CAIRN_ASSIGN_OR_RETURN(auto bad_history,
                         CheckDerivedRecords(db, Table::kLiveHistory, DeploymentPrefix(name),
                                             expected, "live-history", "event"));
  if (bad_history) {
    return problem(
        0, bad_history->message + " (the index soak and rollback read disagrees with the events)");
  }
  return std::optional<AuditProblem>();
}

}  // namespace

namespace {

// When the key was compromised, if its revocation said so.
std::optional<int64_t> CompromisedSince(const TrustChainAudit& trust, const KeyId& key) {
  auto it = trust.keys.find(key);
  if (it == trust.keys.end()) return std::nullopt;
  return it->second.compromised_since;
}

// Attestations are not a chain, but their times and their store order are evidence: each
// is dated no earlier than its snapshot's creation and not ahead of the auditor's clock, no
// two share a store seq, and none was made by a key after it was compromised. (Their
// signatures are judged where they are used: verify and the gates.)
Status AuditAttestationTimes(const Store& store, const TrustChainAudit& trust, int64_t now_micros,
                             CreatedTimes& created_times, AuditReport* report) {
  auto flag = [&](const Attestation& a, std::string message) {
    report->problems.push_back(
        AuditProblem{"", a.statement.seq.value_or(0),
                     fmt::format("attestation {} on {} of {}: {}", a.id.Hex().substr(0, 12),
                                 a.statement.eval, a.statement.snapshot.Short(), message),
                     AuditChain::kAttestations});
  };
  std::set<uint64_t> seqs;
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kAttestations);
  for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
    auto a = DecodeAttestationRecord(cur.key(), cur.value());
    if (!a.ok()) continue;  // judged bad wherever it is read
    ++report->attestations;
    const EvalStatement& s = a->statement;
    if (s.time_micros > now_micros + kMaxClockSkewMicros) {
      flag(*a, fmt::format("it is dated {}, in the future of this audit ({})",
                           FormatTime(s.time_micros), FormatTime(now_micros)));
    }
    auto created = created_times.Of(s.snapshot);
    if (created && s.time_micros < *created) {
      flag(*a, fmt::format("it is dated {}, before its snapshot was created ({})",
                           FormatTime(s.time_micros), FormatTime(*created)));
    }
    if (s.seq && !seqs.insert(*s.seq).second) {
      flag(*a, fmt::format("its store seq {} is used by another attestation", *s.seq));
    }
    if (auto since = CompromisedSince(trust, a->key_id); since && s.time_micros >= *since) {
      flag(*a, fmt::format("attested at {} by key {}, after the key was compromised (since {})",
                           FormatTime(s.time_micros), a->key_id.Short(), FormatTime(*since)));
    }
  }
  return cur.status();
}

// Snapshot signatures made by a key after it was compromised. Their time is the signer's
// record, not signed: a thief's own tool may lie about it, cairn's does not.
Status AuditSignaturesAfterCompromise(const Store& store, const TrustChainAudit& trust,
                                      AuditReport* report) {
  bool any = false;
  for (const auto& [key, h] : trust.keys) any = any || h.compromised_since.has_value();
  if (!any) return Status::OK();
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kSignatures);
  for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
    auto s = DecodeSignatureRecord(cur.key(), cur.value());
    if (!s.ok()) continue;  // judged bad by verify
    auto since = CompromisedSince(trust, s->key_id);
    if (!since || s->time_micros < *since) continue;
    report->problems.push_back(AuditProblem{
        "", 0,
        fmt::format("signature of snapshot {} by key {} was made at {}, after the key was "
                    "compromised (since {})",
                    s->snapshot.Short(), s->key_id.Short(), FormatTime(s->time_micros),
                    FormatTime(*since)),
        AuditChain::kAttestations});
  }
  return cur.status();
}

// The --root pin: one of the store's root events has exactly the pinned keys.
std::optional<AuditProblem> CheckPinnedRoot(const std::vector<KeyId>& pinned,
                                            const TrustChainAudit& trust, AuditReport* report) {
  std::vector<KeyId> want = pinned;
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  std::string listed;
  for (const auto& k : want) listed += (listed.empty() ? "" : ", ") + k.Short();
  if (trust.roots.empty()) {
    return AuditProblem{"", 0,
                        fmt::format("the store has no root, but --root pins one ({})", listed),
                        AuditChain::kTrust};
  }
  for (const auto& r : trust.roots) {
    if (r.spec.KeyIds() == want) {
      report->root_pinned = true;
      return std::nullopt;
    }
  }
  return AuditProblem{
      "", trust.roots.front().seq,
      fmt::format("no root of this store has exactly the pinned keys ({}): its trust chain was "
                  "made from another root (rewritten?), or the pin is wrong",
                  listed),
      AuditChain::kTrust};
}

}  // namespace

// Deployments are found by their stored keys, not parsed as names: audit reads whatever is
// in the store, damaged or not.
Result<AuditReport> AuditVerify(const Store& store, const std::optional<DeploymentName>& only,
                                const std::vector<KeyId>& pinned_root, int64_t now_micros) {
  if (now_micros == 0) now_micros = store.clock().NowMicros();
  AuditReport report;
  Db& db = StoreInternal::db(store);
  std::set<std::string> names;
  if (only) {
    names.insert(only->str());
  } else {
    Cursor d = db.NewCursor(Table::kDeployments);
    for (d.SeekToFirst(); d.Valid(); d.Next()) names.emplace(d.key());
    CAIRN_RETURN_IF_ERROR(d.status());
    // Events whose pointer vanished must be found too.
    Cursor e = db.NewCursor(Table::kEvents);
    for (e.SeekToFirst(); e.Valid(); e.Next()) {
      std::string_view key = e.key();
      std::string name(key.substr(0, key.find('\0')));
      names.insert(name);
      e.Seek(name + '\1');  // skip to the next deployment
      if (!e.Valid()) break;
      e.Prev();
    }
    CAIRN_RETURN_IF_ERROR(e.status());
  }
  // The trust chain first: event signatures are judged by it.
  CAIRN_ASSIGN_OR_RETURN(TrustChainAudit trust, AuditTrustChain(store));
  report.trust_events = trust.events;
  if (trust.problem) report.problems.push_back(*trust.problem);
  report.root_events = trust.roots.size();
  if (!trust.roots.empty()) report.root = trust.roots.back();
  if (!pinned_root.empty()) {
    if (auto p = CheckPinnedRoot(pinned_root, trust, &report)) report.problems.push_back(*p);
  }
  CAIRN_ASSIGN_OR_RETURN(PolicyChainAudit policy,
                         AuditPolicyChain(store, trust.roots, trust.head_seq));
  report.policy_events = policy.events;
  if (policy.problem) report.problems.push_back(*policy.problem);
  for (const auto& r : trust.roots) {
    if (r.spec.policy_seq > policy.events) {
      report.problems.push_back(AuditProblem{
          "", r.seq,
          fmt::format("the root names policy event #{} as the policy chain's end, but the chain "
                      "has {}: policy events were removed",
                      r.spec.policy_seq, policy.events),
          AuditChain::kTrust});
    }
  }
  CreatedTimes created_times(store);
  if (!only) {
    CAIRN_RETURN_IF_ERROR(AuditAttestationTimes(store, trust, now_micros, created_times, &report));
    CAIRN_RETURN_IF_ERROR(AuditSignaturesAfterCompromise(store, trust, &report));
  }
  for (const auto& name : names) {
    ++report.deployments;
    CAIRN_ASSIGN_OR_RETURN(
        auto problem, VerifyOne(store, name, trust, policy, now_micros, created_times, &report));
    if (problem) report.problems.push_back(std::move(*problem));
  }
  for (const auto& s : report.signatures) {
    if (s.status == SignatureStatus::kValid) continue;
    report.problems.push_back(AuditProblem{s.deployment, s.seq,
                                           fmt::format("signature by {}: {}: {}", s.key_id.Short(),
                                                       SignatureStatusName(s.status), s.detail)});
  }
  if (only && report.events == 0 && report.problems.empty()) {
    return Status::NotFound(fmt::format("no deployment \"{}\"", only->view()));
  }
  return report;
}

}  // namespace cairn
