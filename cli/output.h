// Everything the CLI prints goes through here: errors and their exit codes, JSON, sizes,
// times, and progress on a terminal (nothing in a pipe). Human output is written with
// Print/PrintErr, which escape every string argument (Escaped): text written by one person
// — a reason, an actor, a message, a name, a file name, hook output — cannot rewrite the
// screen of the person who reads it, nor forge a line.
#pragma once

#include <cairn/canonical_json.h>
#include <cairn/deployment.h>
#include <cairn/gates.h>
#include <cairn/progress.h>
#include <cairn/remote.h>
#include <cairn/signature.h>
#include <cairn/status.h>
#include <cairn/validate.h>
#include <cairn/views.h>
#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::cli {

// How outside text is shown (docs/cli.md, "How text is shown"): C0 controls escaped (ESC
// as \e, the others \xNN), DEL as \x7f, C1 controls and the code points that reorder or
// hide text (bidirectional controls U+202A-202E, U+2066-2069, U+200E/U+200F, U+061C;
// zero-width U+200B-200D, U+2060-2064, U+FEFF) as \uNNNN, bytes that are not UTF-8 as \xNN.
// kField (one line of a table or a message) escapes newline and tab as well (\n, \t);
// kBlock (a multi-line body, a diff line) keeps them. Everything else is shown as it is.
enum class TextShape { kField, kBlock };
std::string Escaped(std::string_view text, TextShape shape = TextShape::kField);

// An argument of Print/PrintErr that is a multi-line body: newlines and tabs kept.
struct Block {
  std::string_view text;
};
// `text` with `indent` after every newline: the lines of a multi-line body cannot pass for
// lines cairn prints itself.
std::string Indented(std::string_view text, std::string_view indent);

namespace detail {
inline std::string Shown(std::string_view s) { return Escaped(s); }
inline std::string Shown(const std::string& s) { return Escaped(s); }
inline std::string Shown(const char* s) { return Escaped(s); }
inline std::string Shown(Block b) { return Escaped(b.text, TextShape::kBlock); }
template <class T>
const T& Shown(const T& v) {  // numbers and cairn's own types: printed by their formatter
  return v;
}
template <class T>
using ShownType = decltype(Shown(std::declval<T>()));
}  // namespace detail

// fmt::print to stdout / stderr with every string argument escaped as a field (Block for a
// multi-line body). The format string itself is cairn's and is printed as written.
template <class... Args>
void Print(fmt::format_string<detail::ShownType<Args>...> format, Args&&... args) {
  fmt::print(stdout, format, detail::Shown(std::forward<Args>(args))...);
}
template <class... Args>
void PrintErr(fmt::format_string<detail::ShownType<Args>...> format, Args&&... args) {
  fmt::print(stderr, format, detail::Shown(std::forward<Args>(args))...);
}

// The stable exit codes (docs/cli.md, "Exit codes").
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,       // I/O or internal error
  kExitUsage = 2,         // bad command line, malformed or ambiguous revision
  kExitNotFound = 3,      // no such snapshot, path, object or store
  kExitInvalidInput = 4,  // the release directory broke a validation rule
  kExitIntegrity = 5,     // stored data does not match its digest; fsck found problems
  kExitConflict = 6,      // not allowed in this state (already exists, already live, changed)
  kExitGateBlocked = 7,   // a policy gate refused the operation
  kExitBusy = 8,          // another writer held the store lock past --lock-timeout
  kExitMoved = 9,         // --expect lost: the pointer moved under you; nothing changed
  kExitUnreachable = 10,  // a remote could not be reached, or --timeout passed
  kExitRefused = 11,      // a remote refused (a hook, hidden refs, permissions)
};

int ExitCodeFor(Code code);

// Prints "cairn: <code name>: <message>" to stderr and returns the exit code.
int ReportError(const Status& status);
// Prints each problem on its own line to stderr, then the status; returns the exit code.
int ReportProblems(const Status& status, const std::vector<Problem>& problems);

// Writes `value` as pretty JSON to stdout, with a final newline.
void PrintJson(const Json& value);
Json ProblemsJson(const std::vector<Problem>& problems);

// One human line for a deployment event:
// "#3  2026-11-24 14:03:00Z  rollback  5e6f7a8b9c0d -> 1a2b3c4d5e6f  alice@host  \"reason\"".
std::string EventLine(const Event& e);
// What a text view must not hide about a move: "  [forced]  [override: min-eval,soak]
// [signed by rel-lead]" — each part only when it applies; "" for a plain unsigned move.
std::string EventMarkers(const Event& e);
// "release-lead (sha256:20fb4799fd86355f)" — the signer's trusted name and short key id (the
// key id alone for events signed before names were recorded).
std::string SignerLabel(const EventSigner& signer);

// One human line: "valid        alice, ops (release)  sha256:0123456789abcdef  ...".
std::string SignatureCheckLine(const SignatureCheck& check);

// After a gated move: one stderr line per hook that failed after the move ("the move
// stands") and per pre-promote hook that was skipped as not executable.
void ReportHookOutcomes(const GateReport& report);
// The policy checks of a gated move as a table on stdout ("policy of prod: 3 checks"),
// one line each: PASS / FAIL / OVERRIDDEN, rule, subject, the numbers. Nothing without a
// policy.
void PrintPolicyChecks(const std::string& deployment, const GateReport& report);
// One loud stderr line per overridden rule (also with --json).
void WarnOverrides(const GateReport& report);
Json PolicyChecksJson(const GateReport& report);

// "1.2 KiB", "650.0 MiB".
std::string HumanBytes(uint64_t bytes);
// "2026-11-24 10:00:01Z" (seconds precision, for tables).
std::string ShortTime(int64_t micros);

// A progress line on stderr, redrawn at most 10 times a second, only when stderr is a
// terminal and not disabled.
class TerminalProgress : public ProgressSink {
 public:
  explicit TerminalProgress(bool enabled);
  ~TerminalProgress() override;
  void Update(const ProgressUpdate& update) override;
  void Finish() override;
  bool active() const { return enabled_; }

 private:
  bool enabled_;
  bool drawn_ = false;
  int64_t last_draw_us_ = 0;
};

// The transfer options of a command that talks to a remote: `timeout_s` seconds, and the
// remote's messages and cairn's progress lines on stderr when it is a terminal (escaped;
// nothing in a pipe unless `always`: a refusal's own words are part of the error message).
TransferOptions TransferFor(int timeout_s, bool progress_enabled);
// A push or pull report: its lines on stdout (human) or one JSON document.
void PrintTransferReport(const TransferReport& report, std::string_view verb, bool json);

}  // namespace cairn::cli
