#include "deploy/deployment_records.h"

#include <fmt/format.h>

#include "store/schema.h"

namespace cairn {

std::string EncodeLiveHistory(const LiveHistory& h) {
  std::string out;
  keys::AppendLe64(&out, h.first_seq);
  keys::AppendLe64(&out, h.rolled_back_seq);
  return out;
}

void NoteLiveHistory(std::map<std::string, LiveHistory>* live, const Event& e) {
  LiveHistory& to = (*live)[std::string(e.to.digest().Raw())];
  if (!to.was_live) {
    to.was_live = true;
    to.first_seq = e.seq;
  }
  if (e.action == EventAction::kRollback && e.from) {
    (*live)[std::string(e.from->digest().Raw())].rolled_back_seq = e.seq;
  }
}

LiveHistory DecodeLiveHistory(std::string_view value) {
  LiveHistory h;
  if (value.size() != 16) return h;
  h.was_live = true;
  h.first_seq = keys::ReadLe64(value.data());
  h.rolled_back_seq = keys::ReadLe64(value.data() + 8);
  return h;
}

Result<Event> DecodeEvent(std::string_view bytes, std::string_view what) {
  CAIRN_ASSIGN_OR_RETURN(Json json, ParseCanonicalJson(bytes, what));
  auto event = Event::FromJson(json);
  if (!event.ok()) return event.status().WithContext(std::string(what));
  return event;
}

}  // namespace cairn
