// Keys and values of the deployment families (docs/format.md, "Deployments"):
//   deployments:  name                          -> canonical JSON of the last event
//   events:       name \0 be64 seq              -> canonical JSON of the event
//   event_time:   name \0 be64 time be64 seq    -> ""
//   live_history: name \0 32-byte snapshot id   -> le64 first seq, le64 rolled-back seq
// Deployment names never contain \0, so "name \0" is an exact prefix.
#pragma once

#include <string>
#include <string_view>

#include "cairn/deployment.h"

namespace cairn {

std::string DeploymentPrefix(std::string_view name);
std::string EventKey(std::string_view name, uint64_t seq);
std::string EventTimeKey(std::string_view name, int64_t time_micros, uint64_t seq);
std::string LiveHistoryKey(std::string_view name, const SnapshotId& id);
std::string EncodeLiveHistory(const LiveHistory& h);
LiveHistory DecodeLiveHistory(std::string_view value);
// Parses a stored event (canonical JSON); kCorruption naming where it came from.
Result<Event> DecodeEvent(std::string_view bytes, std::string_view what);
// The seq in an event_time key.
uint64_t SeqOfEventTimeKey(std::string_view key);

}  // namespace cairn
