#include "snapshot/snapshot_records.h"

#include <fmt/format.h>

#include "cairn/clock.h"
#include "store/schema.h"

namespace cairn {

std::string EncodeSnapshotLogValue(const Snapshot& s) {
  Json summary = {{"app", s.app},
                  {"author", s.author},
                  {"components", s.components.size()},
                  {"content", s.content.ToString()},
                  {"created", s.created_micros},
                  {"message", s.message},
                  {"size", s.TotalSize()}};
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
  } catch (const Json::exception&) {
    return bad();
  }
  return s;
}

}  // namespace cairn
