#include "chain/hash_chain.h"

namespace cairn {

ChainPlace TrustChain() {
  return ChainPlace{Table::kTrust, std::string(kTrustEventPrefix), Table::kTrust,
                    std::string(kTrustHeadKey), "trust event"};
}

ChainPlace PolicyChain() {
  return ChainPlace{Table::kPolicy, std::string(kPolicyEventPrefix), Table::kPolicy,
                    std::string(kPolicyHeadKey), "policy event"};
}

// A deployment's head is its pointer: the deployments table holds a copy of its last event.
ChainPlace DeploymentChain(std::string_view name) {
  return ChainPlace{Table::kEvents, DeploymentPrefix(name), Table::kDeployments,
                    DeploymentKey(name), "event"};
}

void PutChainEvent(Batch& batch, const ChainPlace& place, uint64_t seq, std::string_view bytes) {
  batch.Put(place.events_table, ChainEventKey(place.events_prefix, seq), bytes);
  batch.Put(place.head_table, place.head_key, bytes);
}

Result<std::optional<DerivedRecordProblem>> CheckDerivedRecords(
    const Db& db, Table table, std::string_view prefix,
    const std::map<std::string, std::string>& expected, std::string_view what,
    std::string_view noun) {
  using Broken = std::optional<DerivedRecordProblem>;
  size_t seen = 0;
  Cursor cur = db.NewCursor(table);
  for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
    std::string id(cur.key().substr(prefix.size()));
    auto it = expected.find(id);
    if (it == expected.end()) {
      return Broken(DerivedRecordProblem{
          id, fmt::format("a {} record exists that no {} wrote (or one since undid)", what, noun)});
    }
    if (it->second != cur.value()) {
      return Broken(DerivedRecordProblem{
          id,
          fmt::format("a {} record differs from the {} that wrote it: it was edited", what, noun)});
    }
    ++seen;
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  if (seen != expected.size()) {
    return Broken(DerivedRecordProblem{
        "", fmt::format("{} {} record(s) the {}s wrote are missing: deleted outside the chain",
                        expected.size() - seen, what, noun)});
  }
  return Broken();
}

}  // namespace cairn
