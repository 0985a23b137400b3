// One hash chain, used by deployments (one chain each), trust and policy (one each per
// store). A chain is events numbered 1, 2, 3 … stored as canonical JSON under
// `events_prefix + be64 seq` in one table; each names the previous event's hash (`prev`,
// null for the first) and carries `hash` over its own canonical JSON without it; event time
// never goes backwards (a clock that does is refused); and a head record holds a
// byte copy of the last event. Appending and replaying are written here once; each chain
// adds its own records and rules (docs/format.md names them).
//
// Event types E have `uint64_t seq`, `int64_t time_micros`, `std::optional<Digest> prev`,
// `Digest hash` and `Result<Digest> ComputeHash() const`. Pure functions of their inputs and
// the database; no state.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/clock.h"
#include "cairn/digest.h"
#include "cairn/status.h"
#include "port/rocks.h"
#include "store/schema.h"

namespace cairn {

// Where a chain lives.
struct ChainPlace {
  Table events_table = Table::kMeta;
  std::string events_prefix;  // events are events_prefix + be64 seq
  Table head_table = Table::kMeta;
  std::string head_key;
  std::string noun;  // what one event is called in messages: "trust event", "event"
};

// The three kinds of chain (keys from store/schema.h).
ChainPlace TrustChain();
ChainPlace PolicyChain();
ChainPlace DeploymentChain(std::string_view name);

// The links of the event that follows `head` (nullptr: the chain is empty), appended at
// clock time `now`: seq, prev and time. The caller then computes the hash. A clock behind
// the head's time is refused (kConflict naming both times): an event is never dated before
// the one it follows, and never moved forward to hide a clock that went back — what
// `live --at` answers depends on event times being what the writer's clock said.
template <class E>
Status LinkAfter(const E* head, int64_t now, E* e, std::string_view noun) {
  if (head != nullptr) {
    if (now < head->time_micros) {
      return Status::Conflict(fmt::format(
          "the clock went backwards: the previous {} (#{}) is dated {}, but this machine's clock "
          "says {}; fix the clock (or, if that {} was dated in the future, wait until then — "
          "'cairn audit verify' flags it); nothing changed",
          noun, head->seq, FormatTime(head->time_micros), FormatTime(now), noun));
    }
    e->seq = head->seq + 1;
    e->prev = head->hash;
    e->time_micros = now;
  } else {
    e->seq = 1;
    e->prev.reset();
    e->time_micros = now;
  }
  return Status::OK();
}

// Adds the event under its key and its byte copy as the head to `batch` (the caller's one
// synced batch, with the chain's own records).
void PutChainEvent(Batch& batch, const ChainPlace& place, uint64_t seq, std::string_view bytes);

// The first broken link a replay found: the event's seq (0: the chain as a whole) and why.
struct ChainBreak {
  uint64_t seq = 0;
  std::string message;
};

struct ChainReplayResult {
  uint64_t events = 0;    // events read (up to and including a broken one)
  uint64_t head_seq = 0;  // seq of the last event read (0: none)
  std::optional<ChainBreak> broken;
};

// Replays the chain in seq order and checks what every chain promises: no gap, the key's seq
// equals the event's, the hash recomputes, `prev` names the previous hash (none for the
// first), time never goes backwards, and the head is a byte copy of the last event (or
// absent with no events). `rules(e, prev, bytes)` adds the chain's own rules and state
// (nullptr prev for the first event); it returns a message when one is broken. The replay
// stops at the first break. Errors are I/O only: damage is a ChainBreak.
template <class E>
Result<ChainReplayResult> ReplayChain(
    const Db& db, const ChainPlace& place,
    const std::function<Result<E>(std::string_view bytes, std::string_view what)>& decode,
    const std::function<Result<std::optional<std::string>>(const E& e, const E* prev,
                                                           std::string_view bytes)>& rules) {
  ChainReplayResult out;
  auto broken = [&](uint64_t seq, std::string message) {
    out.broken = ChainBreak{seq, std::move(message)};
    return out;
  };
  std::optional<E> prev;
  std::string last_bytes;
  uint64_t expected = 1;
  const std::string& prefix = place.events_prefix;
  Cursor cur = db.NewCursor(place.events_table);
  for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
    ++out.events;
    auto key_seq = SeqOfChainEventKey(prefix, cur.key());
    auto e = decode(cur.value(), fmt::format("{} {}", place.noun, expected));
    if (!e.ok()) return broken(expected, e.status().message());
    if (e->seq != expected || key_seq != e->seq) {
      return broken(expected, fmt::format("expected {} {} but found {} {}: the chain has a gap or "
                                          "a duplicate",
                                          place.noun, expected, place.noun, e->seq));
    }
    CAIRN_ASSIGN_OR_RETURN(Digest recomputed, e->ComputeHash());
    if (recomputed != e->hash) {
      return broken(e->seq, "its hash does not match its content: the event was altered");
    }
    if (prev) {
      if (!e->prev || *e->prev != prev->hash) {
        return broken(e->seq, fmt::format("prev does not match {} {}'s hash: the chain is broken "
                                          "here",
                                          place.noun, prev->seq));
      }
      if (e->time_micros < prev->time_micros) {
        return broken(e->seq,
                      fmt::format("its time is earlier than the previous {}'s", place.noun));
      }
    } else if (e->prev) {
      return broken(e->seq, fmt::format("the first {} has a prev", place.noun));
    }
    CAIRN_ASSIGN_OR_RETURN(auto rule, rules(*e, prev ? &*prev : nullptr, cur.value()));
    if (rule) return broken(e->seq, std::move(*rule));
    last_bytes.assign(cur.value());
    out.head_seq = e->seq;
    prev = std::move(*e);
    ++expected;
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  CAIRN_ASSIGN_OR_RETURN(auto head, db.Get(place.head_table, place.head_key));
  if (head && !prev) return broken(0, "the head exists but the chain has no events");
  if (prev && !head) return broken(0, "the head (the copy of the last event) is missing");
  if (prev && *head != last_bytes) {
    return broken(0, fmt::format("the head is not a copy of the last {} (#{}): the chain was cut "
                                 "or the head rewritten",
                                 place.noun, prev->seq));
  }
  return out;
}

// Checks records derived from a chain (trust names, revocations, current policies): every
// key under `prefix` in `table` must hold exactly the bytes the replay expects for it
// (`expected`: key after the prefix -> bytes), and none may be missing. Returns why not.
// `what` names one record ("trust name"), `noun` the chain's events ("trust event").
struct DerivedRecordProblem {
  std::string key;  // after the prefix; empty when records are missing
  std::string message;
};
Result<std::optional<DerivedRecordProblem>> CheckDerivedRecords(
    const Db& db, Table table, std::string_view prefix,
    const std::map<std::string, std::string>& expected, std::string_view what,
    std::string_view noun);

}  // namespace cairn
