// A fuzzer's input split into a selector byte and the bytes that follow, shared by the
// fuzz targets (fuzz/<name>_fuzzer.cc) so that one target can exercise several parsers.
// Also the checks the targets share. Header-only, no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace cairn::fuzz {

struct Input {
  uint8_t selector = 0;    // the first byte (0 when the input is empty)
  std::string_view rest;   // everything after it
  std::string_view whole;  // the input as given
};

inline Input Split(const uint8_t* data, size_t size) {
  Input in;
  in.whole = std::string_view(reinterpret_cast<const char*>(data), size);
  if (size > 0) {
    in.selector = data[0];
    in.rest = in.whole.substr(1);
  }
  return in;
}

// A property every target asserts: false stops the fuzzer with this input.
inline void Check(bool ok) {
  if (!ok) std::abort();
}

// A refusal (a Result or Status that is not ok) must say why.
template <class R>
void RefusedWithReason(const R& r) {
  if (!r.ok()) Check(!r.status().message().empty());
}

}  // namespace cairn::fuzz
