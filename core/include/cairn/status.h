// Status and Result<T>: how every cairn function reports success or failure.
//
// A Status is a small value holding a Code and a message that names the thing that failed
// and the rule it broke. Core never throws across its API; library exceptions are caught at
// the adapter boundary and turned into a Status. Both types are [[nodiscard]]: an error that
// is deliberately ignored is written out with PermitUnchecked(), which is searchable.
// Status and Result are plain values: safe to copy and to use from any thread.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace cairn {

// The stable set of failure kinds. The CLI maps each to a documented exit code
// (docs/cli.md); keep this list short and actionable.
enum class Code {
  kOk = 0,
  kUsage,         // the caller asked for something malformed (bad revision syntax, bad flag)
  kNotFound,      // a named snapshot, object, path or store does not exist
  kInvalidInput,  // release input broke a validation rule
  kCorruption,    // stored bytes do not match their digest, or a reference is dangling
  kConflict,      // the state does not allow it (already exists, already live, file changed)
  kMoved,         // a compare-and-swap lost: the pointer is no longer what the caller expected
  kGateBlocked,   // a policy gate refused the operation
  kBusy,          // the store is locked by another writer beyond the wait limit
  kIO,            // the operating system or a library failed to read or write
  kInternal,      // a bug: an invariant did not hold
  kUnreachable,   // a remote could not be reached, or its deadline passed
  kRefused,       // a remote refused the operation (a hook, hidden refs, permissions)
};

// Human name of a code ("not found", "integrity failure", ...).
const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status Usage(std::string m) { return {Code::kUsage, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status InvalidInput(std::string m) { return {Code::kInvalidInput, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Moved(std::string m) { return {Code::kMoved, std::move(m)}; }
  static Status GateBlocked(std::string m) { return {Code::kGateBlocked, std::move(m)}; }
  static Status Busy(std::string m) { return {Code::kBusy, std::move(m)}; }
  static Status IO(std::string m) { return {Code::kIO, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status Unreachable(std::string m) { return {Code::kUnreachable, std::move(m)}; }
  static Status Refused(std::string m) { return {Code::kRefused, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }

  // "not found: snapshot 1234abcd..." — the code's name and the message.
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>", code unchanged.
  Status WithContext(const std::string& context) const;

  // Marks a deliberately ignored status; grep for it.
  void PermitUnchecked() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok());
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace cairn

#define CAIRN_CONCAT_INNER(a, b) a##b
#define CAIRN_CONCAT(a, b) CAIRN_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define CAIRN_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::cairn::Status cairn_status_ = (expr);        \
    if (!cairn_status_.ok()) return cairn_status_; \
  } while (0)

// Evaluates a Result-returning `expr`; returns its Status on error, otherwise moves the
// value into `lhs` (which may be a declaration: `auto x`).
#define CAIRN_ASSIGN_OR_RETURN(lhs, expr) \
  CAIRN_ASSIGN_OR_RETURN_IMPL(CAIRN_CONCAT(cairn_result_, __LINE__), lhs, expr)
#define CAIRN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
