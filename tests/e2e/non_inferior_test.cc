// End-to-end: per-case eval results and the paired non-inferiority gate with the real binary,
// on fixtures/evals/golden-v4 — v2 passes at D = 0.02, v3 fails, the 12-case run is
// inconclusive; the numbers are stored in the event and `audit verify` recomputes them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;

class NonInferiorE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Cairn({"init"}).exit_code, 0);
    for (const char* v : {"v1", "v2", "v3"}) {
      auto r =
          Cairn({"snapshot", "create", FixturePath(std::string("releases/") + v), "-m", v, "-q"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ids_.push_back(r.out.substr(0, 64));
    }
    ASSERT_EQ(Cairn({"trust", "add", "ci", keys_.Public("ci"), "--role", "ci"}).exit_code, 0);
  }
  RunResult Cairn(std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", box_ / "store"});
    RunOptions o;
    o.env["CAIRN_ACTOR"] = "tester@e2e";
    return RunCairn(args, o);
  }
  static std::string G4(const std::string& file) { return FixturePath("evals/golden-v4/" + file); }
  RunResult AttestCases(int v, const std::string& eval, const std::string& cases,
                        const std::string& dataset, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"attest",         ids_[v],
                                     "--eval",         eval,
                                     "--cases",        cases,
                                     "--dataset",      dataset,
                                     "--judge-model",  "gpt-4o-2024-08-06",
                                     "--judge-prompt", G4("judge-prompt.txt"),
                                     "--key",          keys_.Private("ci")};
    args.insert(args.end(), extra.begin(), extra.end());
    return Cairn(args);
  }
  void AttestAll() {
    for (int v = 0; v < 3; ++v) {
      auto r = AttestCases(v, "golden-v4", G4("v" + std::to_string(v + 1) + ".jsonl"),
                           G4("dataset.jsonl"));
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  Json LastChecks() {
    auto r = Cairn({"log", "prod", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json::parse(r.out).back()["checks"];
  }
  size_t Attestations(int v) {
    auto r = Cairn({"show", ids_[v], "--json"});
    return Json::parse(r.out)["attestations"].size();
  }
  Sandbox box_;
  TestKeys keys_{box_};
  std::vector<std::string> ids_;
};

TEST_F(NonInferiorE2E, GateShowsPassAndFailAndStoresNumbersAuditRecomputes) {
  AttestAll();
  ASSERT_EQ(Cairn({"policy", "set", "prod", "--non-inferior", "golden-v4=0.02", "--reason", "t"})
                .exit_code,
            0);
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "prod", "--reason", "v1"}).exit_code, 0);
  auto r = Cairn({"promote", ids_[1], "--to", "prod", "--reason", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("mean +0.010 (95% LB +0.002, UB +0.018) margin 0.02, n 320, G 16: pass"),
            std::string::npos)
      << r.out;
  Json checks = LastChecks();
  ASSERT_EQ(checks.size(), 1u);
  const Json& st = checks[0]["stats"];
  EXPECT_EQ(st["verdict"], "pass");
  EXPECT_EQ(st["n"], "320");
  EXPECT_EQ(st["g"], "16");
  EXPECT_EQ(st["mean"], "0.010104166");
  EXPECT_EQ(st["margin"], "0.020000000");
  EXPECT_EQ(st["alpha"], "0.050000000");
  EXPECT_EQ(st["t"], "1.753051000");  // df = G - 1 = 15
  r = Cairn({"promote", ids_[2], "--to", "prod", "--reason", "v3"});
  EXPECT_EQ(r.exit_code, 7) << r.out;
  EXPECT_NE(r.out.find("FAIL        non-inferior"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": fail"), std::string::npos) << r.out;
  auto audit = Cairn({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_NE(audit.out.find("recomputed 1 eval verdict from the stored case files"),
            std::string::npos)
      << audit.out;
}

TEST_F(NonInferiorE2E, CompareGivesAllThreeVerdictsAndTheWorstCases) {
  AttestAll();
  for (int v : {0, 1}) {
    ASSERT_EQ(AttestCases(v, "golden-v4-smoke", G4("v" + std::to_string(v + 1) + "-12.jsonl"),
                          G4("dataset-12.jsonl"))
                  .exit_code,
              0);
  }
  auto pass = Cairn({"compare", ids_[0], ids_[1], "--eval", "golden-v4", "--margin", "0.02"});
  EXPECT_EQ(pass.exit_code, 0) << pass.err;
  EXPECT_NE(pass.out.find("verdict at margin 0.02: pass"), std::string::npos) << pass.out;
  auto fail = Cairn({"compare", ids_[0], ids_[2], "--eval", "golden-v4", "--margin", "0.02"});
  EXPECT_EQ(fail.exit_code, 7);
  EXPECT_NE(fail.out.find("verdict at margin 0.02: fail"), std::string::npos) << fail.out;
  // The two v3 answers that timed out count as 0 and lead the cases that got worse.
  EXPECT_NE(fail.out.find("order-status-07"), std::string::npos) << fail.out;
  auto small = Cairn(
      {"compare", ids_[0], ids_[1], "--eval", "golden-v4-smoke", "--margin", "0.02", "--json"});
  EXPECT_EQ(small.exit_code, 7);
  Json j = Json::parse(small.out);
  EXPECT_EQ(j["verdict"], "inconclusive");
  EXPECT_EQ(j["stats"]["n"], "12");
  EXPECT_GT(j["cases_needed"].get<uint64_t>(), 12u);
  // Without a margin it only previews: no verdict, exit 0.
  EXPECT_EQ(Cairn({"compare", ids_[0], ids_[1], "--eval", "golden-v4-smoke"}).exit_code, 0);
}

TEST_F(NonInferiorE2E, AttestComputesTheMeanAndRefusesWhatDisagrees) {
  auto r = AttestCases(0, "golden-v4", G4("v1.jsonl"), G4("dataset.jsonl"), {"--score", "0.9"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--score 0.9 disagrees with the mean of the case file, 0.846770833 over "
                       "320 cases"),
            std::string::npos)
      << r.err;
  box_.Write("dup.jsonl",
             "{\"case\":\"a\",\"scores\":[\"1\"]}\n{\"case\":\"a\",\"scores\":[\"0.5\"]}\n");
  r = AttestCases(0, "golden-v4", box_ / "dup.jsonl", G4("dataset.jsonl"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("\"a\" appears twice"), std::string::npos) << r.err;
  box_.Write("k.jsonl",
             "{\"case\":\"a\",\"scores\":[\"1\"]}\n{\"case\":\"b\",\"scores\":[\"0.5\",\"1\"]}\n");
  r = AttestCases(0, "golden-v4", box_ / "k.jsonl", G4("dataset.jsonl"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
  EXPECT_EQ(Attestations(0), 0u);  // nothing stored
  r = AttestCases(0, "golden-v4", G4("v1.jsonl"), G4("dataset.jsonl"), {"--score", "0.85"});
  ASSERT_EQ(r.exit_code, 0) << r.err;  // 0.85 agrees with 0.8468 to two decimals
  EXPECT_NE(r.out.find("eval golden-v4 = 0.846770833 over 320 cases"), std::string::npos) << r.out;
  // Per-case results need their judge.
  r = Cairn({"attest", ids_[0], "--eval", "golden-v4", "--cases", G4("v1.jsonl"), "--dataset",
             G4("dataset.jsonl"), "--key", keys_.Private("ci")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--judge-model"), std::string::npos) << r.err;
}

TEST_F(NonInferiorE2E, LiveWithOnlyASingleScoreFailsAndBadRulesAreRefused) {
  ASSERT_EQ(Cairn({"attest", ids_[0], "--eval", "golden-v4", "--score", "0.85", "--dataset",
                   G4("dataset.jsonl"), "--key", keys_.Private("ci")})
                .exit_code,
            0);
  ASSERT_EQ(AttestCases(1, "golden-v4", G4("v2.jsonl"), G4("dataset.jsonl")).exit_code, 0);
  for (const char* bad : {"golden-v4=0.02:alpha=0.2", "golden-v4=0", "golden-v4=0.02:beta=1",
                          "golden-v4=0.02:min-n=x", "golden-v4=1.5"}) {
    auto r = Cairn({"policy", "set", "prod", "--non-inferior", bad, "--reason", "t"});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("--non-inferior"), std::string::npos) << r.err;
  }
  ASSERT_EQ(
      Cairn({"policy", "set", "prod", "--non-inferior", "golden-v4=0.02:min-n=10", "--reason", "t"})
          .exit_code,
      0);
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "prod", "--reason", "v1"}).exit_code, 7);
  // v1 has no per-case results: forced in as the baseline, nothing to pair v2 with.
  ASSERT_EQ(Cairn({"policy", "set", "prod", "--clear", "--reason", "t"}).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "prod", "--reason", "v1"}).exit_code, 0);
  ASSERT_EQ(Cairn({"policy", "set", "prod", "--non-inferior", "golden-v4=0.02:min-n=10", "--reason",
                   "t2"})
                .exit_code,
            0);
  auto r = Cairn({"promote", ids_[1], "--to", "prod", "--reason", "v2"});
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_NE(r.out.find("no per-case results for the live snapshot"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("attest it with --cases"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace cairn::testing
