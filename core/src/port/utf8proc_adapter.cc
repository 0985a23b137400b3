// The utf8proc boundary (linked statically: a few hundred KB of Unicode tables).
#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "port/unicode.h"

namespace cairn {

std::optional<std::string> NameCollisionKey(std::string_view name) {
  utf8proc_uint8_t* out = nullptr;
  auto options =
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(name.data()),
                                    static_cast<utf8proc_ssize_t>(name.size()), &out, options);
  std::unique_ptr<utf8proc_uint8_t, void (*)(void*)> owned(out, std::free);
  if (n < 0) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

}  // namespace cairn
