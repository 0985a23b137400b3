// PEM key files (`--key FILE`, `trust add NAME FILE`): any bytes give a key or a refusal
// naming the source, never a crash; a key that parses writes back a PEM that parses to the
// same key.
#include <cstdlib>
#include <string>

#include "cairn/signing.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = cairn::fuzz::Split(data, size);
  if (in.selector % 2 == 0) {
    auto key = cairn::PublicKey::FromPem(in.rest, "fuzz.pub.pem");
    if (!key.ok() && key.status().message().empty()) std::abort();
    if (key.ok()) {
      auto pem = key->Pem();
      if (!pem.ok()) std::abort();
      auto again = cairn::PublicKey::FromPem(*pem, "again");
      if (!again.ok() || again->id() != key->id()) std::abort();
    }
  } else {
    auto key = cairn::PrivateKey::FromPem(in.rest, "fuzz.pem");
    if (!key.ok() && key.status().message().empty()) std::abort();
    if (key.ok() && !key->Pem().ok()) std::abort();
  }
  return 0;
}
