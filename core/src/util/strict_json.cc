// Strict JSON input: one SAX pass that checks depth, duplicate keys and number range
// while parsing (no tree yet, so no recursion on hostile nesting), then a tree build of
// input already known to be bounded.
#include <fmt/format.h>

#include <cmath>
#include <set>

#include "cairn/validate.h"

namespace cairn {
namespace {

std::string EscapePointerToken(const std::string& token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

class StrictSax {
 public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  StrictSax(std::string_view text, const std::string& path, JsonLimits limits,
            std::vector<Problem>* problems)
      : text_(text), path_(path), limits_(limits), problems_(problems) {}

  bool null() { return Value(); }
  bool boolean(bool) { return Value(); }
  bool number_integer(number_integer_t) { return Value(); }
  bool number_unsigned(number_unsigned_t) { return Value(); }
  bool number_float(number_float_t value, const string_t& literal) {
    if (!Value()) return false;
    bool integer_literal = literal.find_first_of(".eE") == std::string::npos;
    if (integer_literal) {
      Add("number-range", Pointer(), fmt::format("integer {} does not fit in 64 bits", literal));
    } else if (!std::isfinite(value)) {
      Add("number-range", Pointer(), fmt::format("number {} overflows a double", literal));
    }
    return Continue();
  }
  bool string(string_t& s) {
    Grow(kStringBytes + HeapString(s.size()));
    return Value();
  }
  bool binary(binary_t&) { return Value(); }

  bool start_object(std::size_t) { return Open(/*is_array=*/false); }
  bool end_object() { return Close(); }
  bool start_array(std::size_t) { return Open(/*is_array=*/true); }
  bool end_array() { return Close(); }

  bool key(string_t& key) {
    Grow(kMemberBytes + HeapString(key.size()));
    if (tree_too_large_) return false;
    Frame& top = frames_.back();
    top.token = key;
    if (!top.keys.insert(key).second) {
      Add("duplicate-key", Pointer(), fmt::format("key \"{}\" appears twice in one object", key));
    }
    return Continue();
  }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    std::string what = ex.what();
    // nlohmann's message is "[json.exception.parse_error.101] parse error at line 1, ...";
    // keep the part after the last ": " which says what was expected.
    auto colon = what.rfind(": ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    size_t offset = position == 0 ? 0 : position - 1;
    if (ex.id == 406) {  // out_of_range.406: a number literal overflows a double
      Add("number-range", LineColumn(text_, std::min(offset, text_.size())), what);
      return false;
    }
    Add("malformed-json", LineColumn(text_, std::min(offset, text_.size())), what);
    return false;
  }

  bool failed() const { return failed_; }

 private:
  struct Frame {
    bool is_array = false;
    size_t next_index = 0;
    std::string token;
    std::set<std::string> keys;
  };

  // What nlohmann's tree allocates, on 64-bit libstdc++, with 16 bytes of allocator overhead
  // per allocation: an object is a std::map (48 bytes), each member a tree node (node header,
  // std::string key and the value: 80); an array a std::vector (24) whose slots (16 bytes
  // each) grow to up to twice the count; a string a std::string (32), with its characters on
  // the heap beyond 15 of them. Numbers, booleans and null live in their slot.
  static constexpr uint64_t kObjectBytes = 48 + 16;
  static constexpr uint64_t kMemberBytes = 80 + 16;
  static constexpr uint64_t kArrayBytes = 24 + 16;
  static constexpr uint64_t kArraySlotBytes = 2 * 16;
  static constexpr uint64_t kStringBytes = 32 + 16;
  static uint64_t HeapString(size_t size) { return size > 15 ? size + 1 + 16 : 0; }

  void Grow(uint64_t bytes) {
    tree_bytes_ += bytes;
    if (tree_bytes_ > limits_.max_tree_bytes && !tree_too_large_) {
      tree_too_large_ = true;
      Add("too-large", Pointer(),
          fmt::format("the parsed document would take more than {} MiB of memory (estimated "
                      "while parsing; nothing was built)",
                      limits_.max_tree_bytes >> 20));
    }
  }

  // Called at the start of every value: sets the pointer token for array elements.
  bool Value() {
    if (!frames_.empty() && frames_.back().is_array) {
      frames_.back().token = std::to_string(frames_.back().next_index++);
      Grow(kArraySlotBytes);
    }
    if (tree_too_large_) return false;  // stop: the tree will not be built
    return Continue();
  }

  bool Open(bool is_array) {
    if (!Value()) return false;
    Grow(is_array ? kArrayBytes : kObjectBytes);
    if (static_cast<int>(frames_.size()) >= limits_.max_depth) {
      Add("too-deep", Pointer(),
          fmt::format("nesting deeper than {} arrays/objects", limits_.max_depth));
      return false;  // stop: nothing deeper is looked at
    }
    frames_.push_back(Frame{is_array, 0, "", {}});
    return Continue();
  }

  bool Close() {
    frames_.pop_back();
    return Continue();
  }

  std::string Pointer() const {
    std::string out;
    for (const Frame& f : frames_) out += "/" + EscapePointerToken(f.token);
    return out.empty() ? "/" : out;
  }

  void Add(const char* rule, std::string location, std::string message) {
    failed_ = true;
    if (count_++ < kMaxProblemsPerFile) {
      problems_->push_back(Problem{path_, std::move(location), rule, std::move(message)});
    }
  }

  bool Continue() const { return count_ < kMaxProblemsPerFile; }

  std::string_view text_;
  const std::string& path_;
  JsonLimits limits_;
  std::vector<Problem>* problems_;
  std::vector<Frame> frames_;
  size_t count_ = 0;
  bool failed_ = false;
  uint64_t tree_bytes_ = 0;
  bool tree_too_large_ = false;
};

}  // namespace

std::optional<Json> ParseStrictJson(std::string_view bytes, const std::string& path,
                                    std::vector<Problem>* problems, JsonLimits limits) {
  size_t bad = 0;
  if (!IsValidUtf8(bytes, &bad)) {
    problems->push_back(Problem{path, LineColumn(bytes, bad), "invalid-utf8",
                                fmt::format("byte 0x{:02x} at offset {} is not UTF-8",
                                            static_cast<unsigned char>(bytes[bad]), bad)});
    return std::nullopt;
  }
  // No JSON text holds a raw NUL (inside a string it must be escaped), and nlohmann's lexer
  // takes one for the end of the input: "123\0garbage" would parse as 123.
  if (size_t nul = bytes.find('\0'); nul != std::string_view::npos) {
    problems->push_back(Problem{path, LineColumn(bytes, nul), "malformed-json",
                                fmt::format("a NUL byte at offset {}: not JSON", nul)});
    return std::nullopt;
  }
  StrictSax sax(bytes, path, limits, problems);
  bool ok = false;
  try {
    ok = Json::sax_parse(bytes.begin(), bytes.end(), &sax, Json::input_format_t::json,
                         /*strict=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    problems->push_back(Problem{path, "", "malformed-json", e.what()});
    return std::nullopt;
  }
  if (!ok || sax.failed()) {
    if (!sax.failed()) problems->push_back(Problem{path, "", "malformed-json", "parse failed"});
    return std::nullopt;
  }
  try {
    return Json::parse(bytes.begin(), bytes.end());
  } catch (const Json::exception& e) {
    problems->push_back(Problem{path, "", "malformed-json", e.what()});
    return std::nullopt;
  }
}

}  // namespace cairn
