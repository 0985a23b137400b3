#include "request_parsing.h"

#include <cairn/canonical_json.h>
#include <cairn/clock.h>
#include <cairn/deployment_name.h>
#include <cairn/digest.h>
#include <cairn/snapshot.h>
#include <fmt/format.h>

#include <charconv>

namespace cairn::serve {

Result<std::vector<std::string>> PathSegments(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (!path.starts_with('/')) return Status::Usage("the request target is not an absolute path");
  path.remove_prefix(1);
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view raw = path.substr(start, end - start);
    std::string seg;
    for (size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '%') {
        int hi = i + 2 < raw.size() ? HexDigitValue(raw[i + 1]) : -1;
        int lo = i + 2 < raw.size() ? HexDigitValue(raw[i + 2]) : -1;
        if (hi < 0 || lo < 0) return Status::Usage("a bad percent-escape in the path");
        c = static_cast<char>(hi * 16 + lo);
        i += 2;
      }
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return Status::Usage("a control character in the path");
      }
      seg += c;
    }
    if (seg.empty() || seg == "." || seg == "..") {
      return Status::Usage("an empty, \".\" or \"..\" path segment");
    }
    out.push_back(std::move(seg));
    start = end + 1;
  }
  return out;
}

Result<uint64_t> ParseCountText(std::string_view name, std::string_view text, uint64_t max) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > max) {
    return Status::Usage(fmt::format("{} must be a whole number from 0 to {}", name, max));
  }
  return value;
}

Result<Receipt> ParseReceiptBody(std::string_view body, const std::string& host) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::Usage("the body is not a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key != "deployment" && key != "snapshot" && key != "loaded_at" && key != "host") {
      return Status::Usage(fmt::format("unknown field \"{}\"", key));
    }
    if (!value.is_string()) return Status::Usage(fmt::format("\"{}\" is not a string", key));
  }
  if (!j.contains("deployment") || !j.contains("snapshot") || !j.contains("loaded_at")) {
    return Status::Usage("a receipt needs deployment, snapshot and loaded_at");
  }
  if (j.contains("host") && j["host"].get<std::string>() != host) {
    return Status::Usage("a token reports receipts for its own host only");
  }
  Receipt r;
  r.host = host;
  CAIRN_ASSIGN_OR_RETURN(auto name, DeploymentName::Parse(j["deployment"].get<std::string>()));
  r.deployment = name.str();
  CAIRN_ASSIGN_OR_RETURN(r.snapshot, SnapshotId::Parse(j["snapshot"].get<std::string>()));
  CAIRN_ASSIGN_OR_RETURN(r.loaded_micros, ParseTime(j["loaded_at"].get<std::string>()));
  return r;
}

}  // namespace cairn::serve
