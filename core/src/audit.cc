// audit verify: recomputes every deployment's hash chain from the stored events.
#include <fmt/format.h>

#include <set>

#include "cairn/deployment.h"
#include "deployment_records.h"
#include "store_internal.h"

namespace cairn {
namespace {

// Checks one deployment; returns the first broken link, if any.
Result<std::optional<AuditProblem>> VerifyOne(const Store& store, const std::string& name,
                                              std::optional<std::string_view> record,
                                              uint64_t* events) {
  Db& db = StoreInternal::db(store);
  auto problem = [&](uint64_t seq, std::string message) {
    return std::optional<AuditProblem>(AuditProblem{name, seq, std::move(message)});
  };
  std::string prefix = DeploymentPrefix(name);
  Cursor cur = db.NewCursor(Cf::kEvents);
  std::optional<Event> prev;
  std::string last_bytes;
  uint64_t expected_seq = 1;
  for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
    ++*events;
    auto e = DecodeEvent(cur.value(), fmt::format("event {} of {}", expected_seq, name));
    if (!e.ok()) return problem(expected_seq, e.status().message());
    if (e->seq != expected_seq) {
      return problem(expected_seq, fmt::format("expected event {} but found event {}: the "
                                               "chain has a gap or a duplicate",
                                               expected_seq, e->seq));
    }
    if (e->deployment != name) {
      return problem(e->seq, fmt::format("event names deployment \"{}\"", e->deployment));
    }
    CAIRN_ASSIGN_OR_RETURN(Digest recomputed, e->ComputeHash());
    if (recomputed != e->hash) {
      return problem(e->seq, "its hash does not match its content: the event was altered");
    }
    if (prev) {
      if (!e->prev || *e->prev != prev->hash) {
        return problem(e->seq, fmt::format("prev does not match event {}'s hash: the chain is "
                                           "broken here",
                                           prev->seq));
      }
      if (!e->from || *e->from != prev->to) {
        return problem(e->seq, fmt::format("from is not what event {} made live", prev->seq));
      }
      if (e->time_micros < prev->time_micros) {
        return problem(e->seq, "its time is earlier than the previous event's");
      }
    } else if (e->prev || e->from) {
      return problem(e->seq, "the first event has a prev or from");
    }
    CAIRN_ASSIGN_OR_RETURN(bool indexed, db.Contains(Cf::kEventTime,
                                                     EventTimeKey(name, e->time_micros, e->seq)));
    if (!indexed) return problem(e->seq, "missing from the time index");
    CAIRN_ASSIGN_OR_RETURN(bool exists, HasSnapshot(store, e->to));
    if (!exists) {
      return problem(e->seq, fmt::format("it made snapshot {} live, which is not in the store",
                                         e->to.Hex()));
    }
    last_bytes.assign(cur.value());
    prev = std::move(*e);
    ++expected_seq;
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  if (!record) {
    if (prev) return problem(0, "events exist but the deployment pointer is missing");
    return std::optional<AuditProblem>();
  }
  if (!prev) return problem(0, "the deployment pointer exists but it has no events");
  if (*record != last_bytes) {
    auto pointed = DecodeEvent(*record, "deployment " + name);
    std::string what = pointed.ok() ? fmt::format("points to {} (event {})", pointed->to.Short(),
                                                  pointed->seq)
                                    : "is unreadable";
    return problem(0, fmt::format("the pointer {} but the last event {} made {} live", what,
                                  prev->seq, prev->to.Short()));
  }
  return std::optional<AuditProblem>();
}

}  // namespace

Result<AuditReport> AuditVerify(const Store& store, const std::string& only) {
  AuditReport report;
  Db& db = StoreInternal::db(store);
  std::set<std::string> names;
  if (!only.empty()) {
    CAIRN_RETURN_IF_ERROR(ValidateDeploymentName(only));
    names.insert(only);
  } else {
    Cursor d = db.NewCursor(Cf::kDeployments);
    for (d.SeekToFirst(); d.Valid(); d.Next()) names.emplace(d.key());
    CAIRN_RETURN_IF_ERROR(d.status());
    // Events whose pointer vanished must be found too.
    Cursor e = db.NewCursor(Cf::kEvents);
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
  for (const auto& name : names) {
    ++report.deployments;
    CAIRN_ASSIGN_OR_RETURN(auto record, db.Get(Cf::kDeployments, name));
    std::optional<std::string_view> view;
    if (record) view = *record;
    CAIRN_ASSIGN_OR_RETURN(auto problem, VerifyOne(store, name, view, &report.events));
    if (problem) report.problems.push_back(std::move(*problem));
  }
  if (!only.empty() && report.events == 0 && report.problems.empty()) {
    return Status::NotFound(fmt::format("no deployment \"{}\"", only));
  }
  return report;
}

}  // namespace cairn
