// cairn serve's own parsing of a request (serve/request_parsing.cc, not the HTTP library's):
// the target's path segments, a whole-number query parameter, a receipt's JSON body, and
// each path segment read as the API reads it (a deployment name, a digest, a snapshot id).
// The first byte picks the parser. Any input is accepted or refused with a message, never a
// crash; what is accepted keeps the rules the API relies on.
#include <cstdlib>
#include <string>

#include "cairn/deployment_name.h"
#include "cairn/digest.h"
#include "cairn/snapshot.h"
#include "fuzz_input.h"
#include "request_parsing.h"

using cairn::fuzz::Check;
using cairn::fuzz::RefusedWithReason;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = cairn::fuzz::Split(data, size);
  std::string_view text = in.rest;
  switch (in.selector % 3) {
    case 0: {
      auto segments = cairn::serve::PathSegments(text);
      RefusedWithReason(segments);
      if (!segments.ok()) break;
      for (const std::string& seg : *segments) {
        // No segment may walk the tree or carry a control character once decoded.
        Check(!seg.empty() && seg != "." && seg != "..");
        for (unsigned char c : seg) Check(c >= 0x20 && c != 0x7f);
        RefusedWithReason(cairn::DeploymentName::Parse(seg));
        RefusedWithReason(cairn::Digest::Parse(seg, /*allow_bare=*/true));
        RefusedWithReason(cairn::SnapshotId::Parse(seg));
      }
      break;
    }
    case 1: {
      auto n = cairn::serve::ParseCountText("limit", text, 1000);
      RefusedWithReason(n);
      if (n.ok()) Check(*n <= 1000 && std::to_string(*n).size() <= text.size());
      break;
    }
    case 2: {
      auto r = cairn::serve::ParseReceiptBody(text, "host-1");
      RefusedWithReason(r);
      if (r.ok()) {
        Check(r->host == "host-1");
        Check(cairn::DeploymentName::Parse(r->deployment).ok());
      }
      break;
    }
  }
  return 0;
}
