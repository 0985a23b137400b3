#include "cairn/status.h"

namespace cairn {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kUsage:
      return "usage error";
    case Code::kNotFound:
      return "not found";
    case Code::kInvalidInput:
      return "invalid input";
    case Code::kCorruption:
      return "integrity failure";
    case Code::kConflict:
      return "conflict";
    case Code::kMoved:
      return "moved under you";
    case Code::kGateBlocked:
      return "gate blocked";
    case Code::kBusy:
      return "store busy";
    case Code::kIO:
      return "I/O error";
    case Code::kInternal:
      return "internal error";
    case Code::kUnreachable:
      return "remote unreachable";
    case Code::kRefused:
      return "remote refused";
  }
  return "unknown error";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

}  // namespace cairn
