#include "snapshot/snapshot_records.h"

#include <fmt/format.h>

#include "cairn/clock.h"
#include "store/schema.h"

namespace cairn {

SnapshotSummary SummaryOf(const Snapshot& s, int64_t arrived_micros) {
  SnapshotSummary out;
  out.id = s.id;
  out.app = s.app;
  out.author = s.author;
  out.created_micros = s.created_micros;
  out.message = s.message;
  out.components = s.components.size();
  out.size = s.TotalSize();
  out.content = s.content;
  out.arrived_micros = arrived_micros;
  return out;
}

std::string EncodeSnapshotLogValue(const SnapshotSummary& s) {
  Json summary = {{"app", s.app},
                  {"author", s.author},
                  {"components", s.components},
                  {"content", s.content.ToString()},
                  {"created", s.created_micros},
                  {"message", s.message},
                  {"size", s.size}};
  if (s.arrived_micros) summary["arrived"] = *s.arrived_micros;
  std::string out(s.id.digest().Raw());
  out += summary.dump();
  return out;
}

Result<SnapshotSummary> DecodeSnapshotLogEntry(std::string_view key, std::string_view value) {
  auto seq = keys::DecodeBe64(key);
  auto bad = [&] {
    return Status::Corruption(fmt::format("snapshot log entry {} is malformed", seq.value_or(0)));
  };
  if (!seq || value.size() < Digest::kSize) return bad();
  SnapshotSummary s;
  s.seq = *seq;
  CAIRN_ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(value.substr(0, Digest::kSize)));
  s.id = SnapshotId(id);
  try {
    Json j = Json::parse(value.substr(Digest::kSize));
    s.app = j.at("app").get<std::string>();
    s.author = j.at("author").get<std::string>();
    s.components = j.at("components").get<size_t>();
    s.created_micros = j.at("created").get<int64_t>();
    s.message = j.at("message").get<std::string>();
    s.size = j.at("size").get<uint64_t>();
    auto content = Digest::Parse(j.at("content").get<std::string>());
    if (!content.ok()) return bad();
    s.content = *content;
    if (auto it = j.find("arrived"); it != j.end()) s.arrived_micros = it->get<int64_t>();
  } catch (const Json::exception&) {
    return bad();
  }
  return s;
}

}  // namespace cairn
