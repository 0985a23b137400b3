// Team mode's seam in the write paths of the hash chains: a change is sent to the remote
// first, and written locally only once the remote accepted it (remote.h makes publishers;
// deployment.h, trust.h and policy.h take them). An error from Publish stops the change
// with nothing written; once it succeeded, the change and MetaRecords() (the remote-tracking
// tip) are written in one synced batch — a crash in between leaves the change on the remote
// only, and the next pull takes it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/status.h"

namespace cairn {

// Which chain a store-wide change belongs to.
enum class PublishedChain { kTrust, kPolicy };

class ChainPublisher {
 public:
  virtual ~ChainPublisher() = default;
  // `event_bytes` is the sealed event as it will be stored (hash and signatures set).
  virtual Status Publish(PublishedChain chain, std::string_view event_bytes) = 0;
  virtual std::vector<std::pair<std::string, std::string>> MetaRecords() const = 0;
};

}  // namespace cairn
