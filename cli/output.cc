#include "output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cairn/clock.h"
#include "cairn/validate.h"

namespace cairn::cli {

namespace {
// The UTF-8 sequence at `i` (valid, as IsValidUtf8 checks it): its length and code point;
// length 0 for a byte that does not start one.
size_t DecodeUtf8(std::string_view s, size_t i, char32_t* cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > s.size() || !IsValidUtf8(s.substr(i, len))) return 0;
  char32_t v = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) v = (v << 6) | (b(i + k) & 0x3f);
  *cp = v;
  return len;
}

// Code points that can reorder or hide text: bidirectional controls and zero-width ones.
bool IsInvisibleOrBidi(char32_t cp) {
  return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff ||
         cp == 0x061c;
}
}  // namespace

std::string Escaped(std::string_view text, TextShape shape) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || c == '\t') {
      if (shape == TextShape::kBlock) {
        out += static_cast<char>(c);
      } else {
        out += c == '\n' ? "\\n" : "\\t";
      }
      ++i;
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      out += c == 0x1b ? std::string("\\e") : fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    char32_t cp = 0;
    size_t len = DecodeUtf8(text, i, &cp);
    if (len == 0) {
      out += fmt::format("\\x{:02x}", c);  // not UTF-8
      ++i;
      continue;
    }
    if ((cp >= 0x80 && cp <= 0x9f) || IsInvisibleOrBidi(cp)) {
      out += fmt::format("\\u{:04x}", static_cast<uint32_t>(cp));
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string Indented(std::string_view text, std::string_view indent) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

int ExitCodeFor(Code code) {
  switch (code) {
    case Code::kOk:
      return kExitOk;
    case Code::kUsage:
      return kExitUsage;
    case Code::kNotFound:
      return kExitNotFound;
    case Code::kInvalidInput:
      return kExitInvalidInput;
    case Code::kCorruption:
      return kExitIntegrity;
    case Code::kConflict:
      return kExitConflict;
    case Code::kMoved:
      return kExitMoved;
    case Code::kGateBlocked:
      return kExitGateBlocked;
    case Code::kBusy:
      return kExitBusy;
    case Code::kUnreachable:
      return kExitUnreachable;
    case Code::kRefused:
      return kExitRefused;
    case Code::kIO:
    case Code::kInternal:
      return kExitFailure;
  }
  return kExitFailure;
}

int ReportError(const Status& status) {
  // Messages may hold several lines (a hook's output on a block): each is escaped.
  PrintErr("cairn: {}: {}\n", CodeName(status.code()), Block{Indented(status.message(), "  ")});
  return ExitCodeFor(status.code());
}

int ReportProblems(const Status& status, const std::vector<Problem>& problems) {
  for (const auto& p : problems) PrintErr("{}\n", p.ToString());
  return ReportError(status);
}

void PrintJson(const Json& value) {
  std::string text = value.dump(2, ' ', false, Json::error_handler_t::replace);
  fmt::print("{}\n", text);
}

Json ProblemsJson(const std::vector<Problem>& problems) {
  Json out = Json::array();
  for (const auto& p : problems) {
    out.push_back(
        {{"path", p.path}, {"location", p.location}, {"rule", p.rule}, {"message", p.message}});
  }
  return out;
}

std::string SignerLabel(const EventSigner& signer) {
  if (signer.name.empty()) return signer.key_id.Short();
  return fmt::format("{} ({})", signer.name, signer.key_id.Short());
}

std::string EventMarkers(const Event& e) {
  std::string out;
  if (e.forced) out += "  [forced]";
  std::vector<std::string> overridden;
  for (const auto& c : e.checks) {
    if (c.overridden &&
        std::find(overridden.begin(), overridden.end(), c.rule) == overridden.end()) {
      overridden.push_back(c.rule);
    }
  }
  if (!overridden.empty()) {
    std::string rules;
    for (const auto& r : overridden) rules += (rules.empty() ? "" : ",") + r;
    out += "  [override: " + rules + "]";
  }
  if (e.signed_by) out += "  [signed by " + SignerLabel(*e.signed_by) + "]";
  return out;
}

std::string EventLine(const Event& e) {
  std::string from = e.from ? e.from->Short() : std::string("(none)      ");
  return fmt::format("#{:<4} {}  {:<8}  {} -> {}  {}{}  \"{}\"", e.seq, ShortTime(e.time_micros),
                     ActionName(e.action), from, e.to.Short(), e.actor, EventMarkers(e), e.reason);
}

std::string SignatureCheckLine(const SignatureCheck& c) {
  std::string who;
  for (const auto& n : c.names) who += (who.empty() ? "" : ", ") + n.name;
  if (who.empty()) who = "(no trusted name)";
  std::string roles;
  for (const auto& r : c.roles) roles += (roles.empty() ? "" : ",") + r;
  if (!roles.empty()) who += " (" + roles + ")";
  std::string line =
      fmt::format("{:<11}  {}  {}", SignatureStatusName(c.status), c.key_id.Short(), who);
  if (c.time_micros != 0)
    line += fmt::format("  signed {} by {}", ShortTime(c.time_micros), c.actor);
  if (!c.detail.empty()) line += fmt::format("\n             {}", c.detail);
  return line;
}

void ReportHookOutcomes(const GateReport& report) {
  for (const auto* runs : {&report.pre_hooks, &report.post_hooks}) {
    for (const auto& r : *runs) {
      if (r.skipped) {
        PrintErr("cairn: warning: hook {} is {} and was skipped\n", r.name, r.not_runnable);
      } else if (!r.ok() && runs == &report.post_hooks) {
        std::string err = r.PrintableErr();
        PrintErr("cairn: warning: hook {} failed ({}); the move stands{}\n", r.name, r.Outcome(),
                 Block{err.empty() ? "" : ":\n  " + Indented(err, "  ")});
      }
    }
  }
}

void PrintPolicyChecks(const std::string& deployment, const GateReport& report) {
  if (!report.has_policy) return;
  Print("policy of {}: {} check{}\n", deployment, report.checks.size(),
        report.checks.size() == 1 ? "" : "s");
  size_t rule_w = 0, subject_w = 0;
  for (const auto& c : report.checks) {
    rule_w = std::max(rule_w, c.rule.size());
    subject_w = std::max(subject_w, c.subject.size());
  }
  for (const auto& c : report.checks) {
    const char* verdict = c.passed ? "PASS" : c.overridden ? "OVERRIDDEN" : "FAIL";
    Print("  {:<10}  {:<{}}  {:<{}}  {}\n", verdict, c.rule, rule_w, c.subject, subject_w,
          c.detail);
  }
  std::fflush(stdout);
}

void WarnOverrides(const GateReport& report) {
  for (const auto& rule : report.overridden) {
    PrintErr(
        "cairn: WARNING: policy rule {} FAILED and was OVERRIDDEN; the override is "
        "recorded in the event\n",
        rule);
  }
}

Json PolicyChecksJson(const GateReport& report) {
  Json j = Json::array();
  for (const auto& c : report.checks) j.push_back(c.ToJson());
  return j;
}

std::string HumanBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", v, kUnits[unit]);
}

std::string ShortTime(int64_t micros) {
  std::string full = FormatTime(micros);  // 2026-11-24T10:00:01.123456Z
  return full.substr(0, 10) + " " + full.substr(11, 8) + "Z";
}

TerminalProgress::TerminalProgress(bool enabled) : enabled_(enabled && ::isatty(2) == 1) {}
TerminalProgress::~TerminalProgress() { Finish(); }

void TerminalProgress::Update(const ProgressUpdate& u) {
  if (!enabled_) return;
  int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  if (now - last_draw_us_ < 100000) return;
  last_draw_us_ = now;
  std::string line = u.total > 0 ? fmt::format("{}: {}/{} files", u.phase, u.done, u.total)
                                 : fmt::format("{}: {}", u.phase, u.done);
  if (u.bytes_total > 0) {
    line += fmt::format(", {} / {}", HumanBytes(u.bytes_done), HumanBytes(u.bytes_total));
  } else if (u.bytes_done > 0) {
    line += fmt::format(", {}", HumanBytes(u.bytes_done));
  }
  fmt::print(stderr, "\r\033[K{}", line);
  std::fflush(stderr);
  drawn_ = true;
}

void TerminalProgress::Finish() {
  if (enabled_ && drawn_) {
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  drawn_ = false;
}

TransferOptions TransferFor(int timeout_s, bool progress_enabled) {
  TransferOptions t;
  t.timeout = std::chrono::milliseconds(int64_t{timeout_s} * 1000);
  if (progress_enabled && ::isatty(2) == 1) {
    t.progress = [](std::string_view line) { PrintErr("{}", Block{line}); };
  }
  return t;
}

void PrintTransferReport(const TransferReport& r, std::string_view verb, bool json) {
  if (json) {
    PrintJson({{"remote", r.remote},
               {"snapshots", r.snapshots},
               {"events", r.events},
               {"evidence", r.evidence},
               {"trust_events", r.trust_events},
               {"policy_events", r.policy_events},
               {"lines", r.lines},
               {"warnings", r.warnings}});
    return;
  }
  for (const auto& line : r.lines) Print("{}\n", line);
  for (const auto& w : r.warnings) PrintErr("cairn: warning: {}\n", w);
  Print(
      "{} {}: {} snapshot(s), {} event(s), {} evidence record(s), {} trust and {} policy "
      "event(s)\n",
      verb, r.remote, r.snapshots, r.events, r.evidence, r.trust_events, r.policy_events);
}

}  // namespace cairn::cli
