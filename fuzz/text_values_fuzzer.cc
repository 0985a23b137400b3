// The small text grammars a user types: times, durations, scores, deployment names,
// digests, key ids, snapshot ids, REV:PATH, hex keys and signatures. The first byte picks
// the grammar. Any text is accepted or refused with a message, never a crash; what is
// accepted prints back to text that parses to the same value.
#include <cstdlib>
#include <string>

#include "cairn/clock.h"
#include "cairn/deployment_name.h"
#include "cairn/digest.h"
#include "cairn/policy.h"
#include "cairn/revision.h"
#include "cairn/score.h"
#include "cairn/signing.h"
#include "cairn/snapshot.h"
#include "fuzz_input.h"

using cairn::fuzz::Check;
using cairn::fuzz::RefusedWithReason;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = cairn::fuzz::Split(data, size);
  std::string_view text = in.rest;
  switch (in.selector % 10) {
    case 0: {
      auto t = cairn::ParseTime(text);
      RefusedWithReason(t);
      if (t.ok()) Check(cairn::ParseTime(cairn::FormatTime(*t)).ok());
      break;
    }
    case 1:
      RefusedWithReason(cairn::ParseDuration(text, "--soak"));
      break;
    case 2: {
      auto s = cairn::Score::Parse(text, "--score");
      RefusedWithReason(s);
      if (s.ok()) {
        auto again = cairn::Score::Parse(s->ToString(), "--score");
        Check(again.ok() && again->billionths() == s->billionths());
      }
      break;
    }
    case 3: {
      auto n = cairn::DeploymentName::Parse(text);
      RefusedWithReason(n);
      if (n.ok()) Check(cairn::DeploymentName::Parse(std::string_view(*n)).ok());
      break;
    }
    case 4: {
      auto d = cairn::Digest::Parse(text, /*allow_bare=*/true);
      RefusedWithReason(d);
      if (d.ok()) {
        auto again = cairn::Digest::Parse(d->ToString());
        Check(again.ok() && *again == *d);
      }
      break;
    }
    case 5:
      RefusedWithReason(cairn::KeyId::Parse(text));
      break;
    case 6: {
      auto id = cairn::SnapshotId::Parse(text);
      RefusedWithReason(id);
      if (id.ok()) Check(cairn::SnapshotId::Parse(id->Hex()).ok());
      break;
    }
    case 7:
      RefusedWithReason(cairn::SplitRevisionPath(text));
      break;
    case 8:
      RefusedWithReason(cairn::PublicKey::ParseHex(text));
      break;
    default:
      RefusedWithReason(cairn::Signature::ParseHex(text));
      break;
  }
  return 0;
}
