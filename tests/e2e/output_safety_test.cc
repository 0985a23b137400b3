// What cairn prints can be trusted: text written by one person (a reason, an actor, a
// message, a file name) reaches another's terminal with every control, bidirectional and
// zero-width character escaped, and cannot forge a line; --json keeps the exact bytes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;

// ESC ] 0 ; pwned BEL (set the window title), ESC [2J (clear the screen), a newline that
// would forge a log line, U+202E (right-to-left override), U+200B (zero width), C1 CSI.
const std::string kHostile =
    "\x1b]0;pwned\x07\x1b[2J\n#9 forged line \xe2\x80\xae"
    "evil\xe2\x80\x8b\xc2\x9b";
const std::string kShown = "\\e]0;pwned\\x07\\e[2J\\n#9 forged line \\u202eevil\\u200b\\u009b";

class OutputSafety : public ::testing::Test {
 protected:
  RunResult Cairn(std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", box_ / "store"});
    return RunCairn(args);
  }
  // Nothing that a terminal would act on, and exactly `lines` lines.
  void ExpectSafe(const std::string& text, const std::string& what) {
    for (unsigned char c : text) {
      EXPECT_FALSE((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
          << what << " prints control byte " << int(c) << ":\n"
          << text;
    }
    EXPECT_EQ(text.find("\xe2\x80\xae"), std::string::npos) << what;
    EXPECT_EQ(text.find("\xe2\x80\x8b"), std::string::npos) << what;
    EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << what;
    EXPECT_EQ(text.find("\n#9 forged"), std::string::npos) << what << " lets a line be forged";
  }
  Sandbox box_;
};

TEST_F(OutputSafety, StoredTextIsEscapedInEveryHumanViewAndExactInJson) {
  ASSERT_EQ(Cairn({"init"}).exit_code, 0);
  std::string rel = WriteMinimalRelease(box_, "rel");
  auto created = Cairn({"--actor", "mallory" + kHostile, "snapshot", "create", rel, "-m",
                        "release" + kHostile, "-q"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string id = created.out.substr(0, 64);
  ASSERT_EQ(Cairn({"--actor", "mallory" + kHostile, "promote", id, "--to", "prod", "--reason",
                   "why" + kHostile})
                .exit_code,
            0);
  for (std::vector<std::string> args : {std::vector<std::string>{"log", "prod"},
                                        {"status"},
                                        {"snapshot", "list"},
                                        {"show", id},
                                        {"live", "prod", "--at", "2099-01-01"}}) {
    auto r = Cairn(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << r.err;
    ExpectSafe(r.out, args[0]);
    EXPECT_NE(r.out.find(kShown), std::string::npos) << args[0] << " hides the text:\n" << r.out;
  }
  auto log = Cairn({"log", "prod"});
  EXPECT_EQ(std::count(log.out.begin(), log.out.end(), '\n'), 1) << log.out;
  // --json: the bytes as given.
  Json events = Json::parse(Cairn({"log", "prod", "--json"}).out);
  EXPECT_EQ(events[0]["reason"], "why" + kHostile);
  EXPECT_EQ(events[0]["actor"], "mallory" + kHostile);
}

TEST_F(OutputSafety, TrustPolicyAuditAndDiffViewsAreEscaped) {
  ASSERT_EQ(Cairn({"init"}).exit_code, 0);
  std::string pub = FixturePath("keys/test-ci-ONLY-FOR-TESTS.pub.pem");
  ASSERT_EQ(Cairn({"--actor", "admin" + kHostile, "trust", "add", "ci", pub, "--role", "ci",
                   "--reason", "ok" + kHostile})
                .exit_code,
            0);
  ASSERT_EQ(Cairn({"--actor", "admin" + kHostile, "policy", "set", "prod", "--min-eval",
                   "golden=0.5", "--reason", "gate" + kHostile})
                .exit_code,
            0);
  std::string rel = WriteMinimalRelease(box_, "rel");
  std::string a = Cairn({"snapshot", "create", rel, "-m", "a", "-q"}).out.substr(0, 64);
  box_.Write("rel/prompts/system.md", "Hello {{customer_name}}" + kHostile + "\n");
  std::string b = Cairn({"snapshot", "create", rel, "-m", "b", "-q"}).out.substr(0, 64);
  for (std::vector<std::string> args : {std::vector<std::string>{"trust", "list"},
                                        {"trust", "log"},
                                        {"policy", "show"},
                                        {"policy", "log"},
                                        {"audit", "verify"},
                                        {"diff", a, b}}) {
    auto r = Cairn(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << r.err;
    ExpectSafe(r.out + r.err, args[0] + " " + args[1]);
  }
  EXPECT_NE(Cairn({"policy", "log"}).out.find(kShown), std::string::npos);
  EXPECT_NE(Cairn({"diff", a, b}).out.find("\\e]0;pwned"), std::string::npos);
}

TEST_F(OutputSafety, NamesEchoedInErrorsAndValidationAreEscaped) {
  ASSERT_EQ(Cairn({"init"}).exit_code, 0);
  auto show = Cairn({"show", "x" + kHostile});
  EXPECT_NE(show.exit_code, 0);
  ExpectSafe(show.err, "an error naming a revision");
  auto promote = Cairn({"promote", "x", "--to", "prod" + kHostile, "--reason", "r"});
  EXPECT_NE(promote.exit_code, 0);
  ExpectSafe(promote.err, "an error naming a deployment");
  std::string rel = WriteMinimalRelease(box_, "rel");
  box_.Write("rel/config/evil\x1b[2J.txt", "x");
  auto validate = Cairn({"validate", rel});
  EXPECT_EQ(validate.exit_code, 4) << validate.out << validate.err;
  ExpectSafe(validate.out + validate.err, "validate");
  EXPECT_NE((validate.out + validate.err).find("evil\\e[2J.txt"), std::string::npos)
      << validate.out << validate.err;
}

}  // namespace
}  // namespace cairn::testing
