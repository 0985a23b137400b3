// The JSON documents that `--json` prints and cairn serve answers (core/src/views), built
// from records decoded from any bytes (a damaged or hostile store can hold any): a view is
// always printed — as the CLI prints it — as JSON that cairn's strict parser reads back (valid
// UTF-8, no duplicate keys), never a crash or an exception. The first byte picks the record.
#include <cstdlib>
#include <string>
#include <vector>

#include "cairn/deployment.h"
#include "cairn/snapshot.h"
#include "cairn/validate.h"
#include "cairn/views.h"
#include "deploy/deployment_records.h"
#include "fuzz_input.h"
#include "snapshot/snapshot_records.h"

using cairn::fuzz::Check;
using cairn::fuzz::RefusedWithReason;

namespace {

// Printed as cli/output.cc's PrintJson prints it, then read back strictly. A view nests a
// record's JSON a few levels deeper than the record itself, hence the extra depth.
void PrintsAsStrictJson(const cairn::Json& view) {
  std::string text = view.dump(2, ' ', false, cairn::Json::error_handler_t::replace);
  std::vector<cairn::Problem> problems;
  cairn::JsonLimits limits;
  limits.max_depth += 16;
  limits.max_tree_bytes = 1ull << 40;
  Check(cairn::ParseStrictJson(text, "view", &problems, limits).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = cairn::fuzz::Split(data, size);
  const cairn::SnapshotId id(cairn::Digest::Of("fuzz"));
  switch (in.selector % 3) {
    case 0: {
      auto e = cairn::DecodeEvent(in.rest, "an event");
      if (!e.ok()) break;
      PrintsAsStrictJson(cairn::EventsJson({*e}));
      PrintsAsStrictJson(cairn::LiveJson("prod", e->time_micros, *e));
      auto name = cairn::DeploymentName::Parse("prod");
      Check(name.ok());
      cairn::Deployment d{*name, e->to, *e};
      PrintsAsStrictJson(cairn::DeploymentJson(d));
      PrintsAsStrictJson(cairn::StatusJson({d}));
      break;
    }
    case 1: {
      auto s = cairn::SnapshotFromManifest(id, in.rest);
      if (!s.ok()) break;
      cairn::SnapshotView view;
      view.snapshot = *s;
      view.same_content_as.push_back(id);
      PrintsAsStrictJson(cairn::SnapshotViewJson(view));
      break;
    }
    default: {
      // A snapshot log entry: the first 8 bytes of the rest are its key.
      std::string_view key = in.rest.substr(0, std::min<size_t>(8, in.rest.size()));
      auto summary = cairn::DecodeSnapshotLogEntry(key, in.rest.substr(key.size()));
      if (!summary.ok()) break;
      PrintsAsStrictJson(cairn::SnapshotListJson({*summary}));
      break;
    }
  }
  return 0;
}
