// Every decoder of a stored record, on any bytes: a value or kCorruption naming what it
// read, never a crash. These run on what is read back from disk, where damage can put any
// bytes. The first byte picks the decoder; object frames (zstd) must prove their bytes.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "cairn/snapshot.h"
#include "deploy/deployment_records.h"
#include "fuzz_input.h"
#include "policy/policy_records.h"
#include "port/zstd_codec.h"
#include "snapshot/snapshot_records.h"
#include "store/object_codec.h"
#include "trust/attestation_records.h"
#include "trust/signature_records.h"
#include "trust/trust_records.h"

namespace {

// Keys are raw bytes too: the first 64 bytes of the rest serve as one, the rest as the value.
struct KeyValue {
  std::string_view key;
  std::string_view value;
};

KeyValue SplitKey(std::string_view rest) {
  size_t k = std::min<size_t>(rest.size(), 64);
  return {rest.substr(0, k), rest.substr(k)};
}

template <class R>
void Refused(const R& r) {
  if (!r.ok() && r.status().message().empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = cairn::fuzz::Split(data, size);
  const auto kv = SplitKey(in.rest);
  const cairn::SnapshotId id(cairn::Digest::Of("fuzz"));
  switch (in.selector % 10) {
    case 0: {
      auto e = cairn::DecodeEvent(in.rest, "an event");
      Refused(e);
      if (e.ok()) (void)e->ComputeHash().ok();
      break;
    }
    case 1: {
      auto e = cairn::DecodeTrustEvent(in.rest, "a trust event");
      Refused(e);
      if (e.ok()) (void)e->ComputeHash().ok();
      break;
    }
    case 2: {
      auto e = cairn::DecodePolicyEvent(in.rest, "a policy event");
      Refused(e);
      if (e.ok()) {
        (void)e->ComputeHash().ok();
        (void)e->action();
      }
      break;
    }
    case 3:
      Refused(cairn::DecodeAttestationRecord(kv.key, kv.value));
      break;
    case 4:
      Refused(cairn::DecodeSignatureRecord(kv.key, kv.value));
      break;
    case 5:
      Refused(cairn::SnapshotFromManifest(id, in.rest));
      break;
    case 6:
      Refused(cairn::DecodeSnapshotLogEntry(kv.key, kv.value));
      break;
    case 7:
      Refused(cairn::DecodeObjectMeta(cairn::Digest::Of(in.rest), in.rest));
      break;
    case 8:
      (void)cairn::DecodeLiveHistory(in.rest);
      break;
    default: {
      // An object record and its frame: the digest is the one of the rest's first half, so
      // a record that decodes must still prove its bytes against it.
      auto digest = cairn::Digest::Of(kv.key);
      auto record = cairn::DecodeObjectRecord(digest, kv.value);
      Refused(record);
      if (record.ok() && record->encoding != cairn::ObjectEncoding::kChunked) {
        cairn::Decompressor decompressor;
        std::string bytes;
        cairn::Status s = cairn::InlineObjectBytes(digest, *record, decompressor, &bytes);
        if (s.ok() && cairn::Digest::Of(bytes) != digest) std::abort();
      }
      break;
    }
  }
  return 0;
}
