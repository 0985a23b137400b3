// End-to-end: `cairn attest` with the real binary — a signed eval result shown by
// `snapshot show`, and every bad score refused with nothing stored.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;

class AttestE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Cairn({"init"}).exit_code, 0);
    std::string rel = WriteMinimalRelease(box_, "rel");
    auto r = Cairn({"snapshot", "create", rel, "-m", "v1", "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    id_ = r.out.substr(0, 64);
    box_.Write("golden.jsonl", "{\"q\": \"Can I get a refund?\"}\n");
    box_.Write("report.json", "{\"cases\": 1200, \"passed\": 1044}\n");
  }
  std::string Key(const std::string& who) { return keys_.Private(who); }
  std::string Pub(const std::string& who) { return keys_.Public(who); }
  RunResult Cairn(std::vector<std::string> args, RunOptions o = {}) {
    args.insert(args.begin(), {"--store", box_ / "store"});
    o.env["CAIRN_ACTOR"] = "tester@e2e";
    return RunCairn(args, o);
  }
  Json Attestations() {
    auto r = Cairn({"show", id_, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json::parse(r.out)["attestations"];
  }
  Sandbox box_;
  TestKeys keys_{box_};
  std::string id_;
};

TEST_F(AttestE2E, SignedEvalIsStoredAndShownWithItsSigner) {
  ASSERT_EQ(Cairn({"trust", "add", "ci", Pub("ci"), "--role", "ci"}).exit_code, 0);
  auto r = Cairn({"attest", id_.substr(0, 12), "--eval", "golden-v3", "--score", "0.87", "--n",
                  "1200", "--dataset", box_ / "golden.jsonl", "--judge", "gpt-4o + judge.md",
                  "--report", box_ / "report.json", "--key", Key("ci")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("eval golden-v3 = 0.87 over 1200 cases"), std::string::npos) << r.out;
  Json atts = Attestations();
  ASSERT_EQ(atts.size(), 1u);
  EXPECT_EQ(atts[0]["status"], "valid");
  EXPECT_EQ(atts[0]["statement"]["score"], "0.87");
  EXPECT_EQ(atts[0]["statement"]["dataset"], FileDigest(box_ / "golden.jsonl"));
  EXPECT_EQ(atts[0]["names"][0]["name"], "ci");
  std::string report = atts[0]["statement"]["report"];
  auto shown = Cairn({"show", id_});
  EXPECT_NE(shown.out.find("golden-v3 = 0.87  n=1200"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("valid"), std::string::npos);
  // An attestation by a key nobody trusts is shown as such.
  ASSERT_EQ(Cairn({"attest", id_, "--eval", "golden-v3", "--score", "1", "--key", Key("outsider")})
                .exit_code,
            0);
  atts = Attestations();
  ASSERT_EQ(atts.size(), 2u);
  EXPECT_EQ(atts[1]["status"], "unknown key");
}

TEST_F(AttestE2E, BadScoresAreRefusedAndNothingIsStored) {
  for (const char* bad :
       {"nan", "NaN", "inf", "-inf", "1.5", "-0.1", "8.7e-1", "", "0.1234567891"}) {
    auto r = Cairn({"attest", id_, "--eval", "golden-v3", "--score", bad, "--key", Key("ci")});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--score"), std::string::npos) << r.err;
  }
  EXPECT_EQ(
      Cairn({"attest", id_, "--eval", "Golden V3", "--score", "0.5", "--key", Key("ci")}).exit_code,
      2);
  EXPECT_EQ(Cairn({"attest", id_, "--eval", "golden", "--score", "0.5"}).exit_code, 2);  // no key
  EXPECT_EQ(Cairn({"attest", id_, "--eval", "golden", "--score", "0.5", "--key", Key("ci"),
                   "--dataset", box_ / "missing.jsonl"})
                .exit_code,
            3);
  EXPECT_EQ(Attestations().size(), 0u);
}

TEST_F(AttestE2E, PrivateKeyReadableByOthersIsWarnedAbout) {
  std::string loose = box_ / "loose.pem";
  box_.Write("loose.pem", box_.Read("keys/test-ci-ONLY-FOR-TESTS.pem"));
  ::chmod(loose.c_str(), 0644);
  auto r = Cairn({"attest", id_, "--eval", "golden-v3", "--score", "0.9", "--key", loose});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("can be read by others (mode 0644); run chmod 600"), std::string::npos)
      << r.err;
  auto tight = Cairn({"attest", id_, "--eval", "golden-v3", "--score", "0.9", "--key", Key("ci")});
  EXPECT_EQ(tight.err.find("can be read by others"), std::string::npos) << tight.err;
}

TEST_F(AttestE2E, RevokedKeyMayNotAttest) {
  ASSERT_EQ(Cairn({"trust", "add", "ci", Pub("ci"), "--role", "ci"}).exit_code, 0);
  ASSERT_EQ(Cairn({"trust", "revoke", "ci", "--reason", "leaked"}).exit_code, 0);
  auto r = Cairn({"attest", id_, "--eval", "golden-v3", "--score", "0.9", "--key", Key("ci")});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_EQ(Attestations().size(), 0u);
}

}  // namespace
}  // namespace cairn::testing
