// Unicode normalisation for comparing names, through utf8proc (core/src/port/
// utf8proc_adapter.cc is the one adapter). Thread-safe: no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cairn {

// The key under which two names would be the same file on a case-insensitive or
// normalising file system (macOS APFS/HFS+, Windows NTFS): `name` case-folded and composed
// (NFC, so "é" written as one code point or as "e" + U+0301 give one key). nullopt when
// `name` is not valid UTF-8.
std::optional<std::string> NameCollisionKey(std::string_view name);

}  // namespace cairn
