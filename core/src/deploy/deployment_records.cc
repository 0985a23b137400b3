#include "deploy/deployment_records.h"

#include <fmt/format.h>

#include "store/keys.h"

namespace cairn {

std::string DeploymentPrefix(std::string_view name) { return std::string(name) + '\0'; }

std::string EventKey(std::string_view name, uint64_t seq) {
  return DeploymentPrefix(name) + keys::EncodeBe64(seq);
}

std::string EventTimeKey(std::string_view name, int64_t time_micros, uint64_t seq) {
  return DeploymentPrefix(name) + keys::EncodeBe64(static_cast<uint64_t>(time_micros)) +
         keys::EncodeBe64(seq);
}

std::string LiveHistoryKey(std::string_view name, const SnapshotId& id) {
  return DeploymentPrefix(name) + std::string(id.digest().Raw());
}

std::string EncodeLiveHistory(const LiveHistory& h) {
  std::string out;
  keys::AppendLe64(&out, h.first_seq);
  keys::AppendLe64(&out, h.rolled_back_seq);
  return out;
}

LiveHistory DecodeLiveHistory(std::string_view value) {
  LiveHistory h;
  if (value.size() != 16) return h;
  h.was_live = true;
  h.first_seq = keys::ReadLe64(value.data());
  h.rolled_back_seq = keys::ReadLe64(value.data() + 8);
  return h;
}

uint64_t SeqOfEventTimeKey(std::string_view key) {
  if (key.size() < 8) return 0;
  return keys::DecodeBe64(key.substr(key.size() - 8)).value_or(0);
}

Result<Event> DecodeEvent(std::string_view bytes, std::string_view what) {
  CAIRN_ASSIGN_OR_RETURN(Json json, ParseCanonicalJson(bytes, what));
  auto event = Event::FromJson(json);
  if (!event.ok()) return event.status().WithContext(std::string(what));
  return event;
}

}  // namespace cairn
