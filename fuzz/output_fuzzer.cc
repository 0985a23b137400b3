// What cairn prints of text someone else wrote: Escaped (cli/output.h) for one-line fields
// and multi-line blocks, and a hook's stderr (HookRun::PrintableErr). Whatever the bytes,
// the result is valid UTF-8 holding no control character but newline and tab (in blocks),
// and a field holds neither.
#include <cstdlib>
#include <string>

#include "cairn/hooks.h"
#include "cairn/validate.h"
#include "fuzz_input.h"
#include "output.h"

namespace {

// No C0 control but those `allowed`, no DEL, no C1 (U+0080..U+009F), valid UTF-8.
void CheckPrintable(const std::string& s, std::string_view allowed) {
  if (!cairn::IsValidUtf8(s)) std::abort();
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && allowed.find(static_cast<char>(c)) == std::string_view::npos) || c == 0x7f) {
      std::abort();
    }
    if (c == 0xc2 && i + 1 < s.size()) {
      auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9f) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = cairn::fuzz::Split(data, size);
  CheckPrintable(cairn::cli::Escaped(in.whole, cairn::cli::TextShape::kField), "");
  CheckPrintable(cairn::cli::Escaped(in.whole, cairn::cli::TextShape::kBlock), "\n\t");
  cairn::HookRun run;
  run.err.assign(in.whole);
  // Printed through a Block afterwards (which escapes C1 and bidi controls): here the
  // promise is valid UTF-8 without C0 controls but newline and tab.
  std::string err = run.PrintableErr();
  if (!cairn::IsValidUtf8(err)) std::abort();
  for (unsigned char c : err) {
    if ((c < 0x20 && c != 0x0a && c != 0x09) || c == 0x7f) std::abort();
  }
  return 0;
}
