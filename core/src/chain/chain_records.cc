#include "chain/chain_records.h"

namespace cairn {

const char* ReadChainLinks(const Json& record, std::optional<Digest>* prev, Digest* hash) {
  if (!record.at("prev").is_null()) {
    auto p = Digest::Parse(record.at("prev").get<std::string>());
    if (!p.ok()) return "prev";
    *prev = *p;
  }
  auto h = Digest::Parse(record.at("hash").get<std::string>());
  if (!h.ok()) return "hash";
  *hash = *h;
  return nullptr;
}

Result<Digest> ChainHash(const Json& record_without_hash) {
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(record_without_hash));
  return Digest::Of(bytes);
}

}  // namespace cairn
