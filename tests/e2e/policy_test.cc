// End-to-end: `cairn policy set|show|log` with the real binary — rules as typed, their
// audited chain, bad flags refused before the store is touched, and an edited policy event
// caught by `audit verify`. Also checks the eval fixtures the quick start attests with.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "cairn/store.h"
#include "policy/policy_records.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;

class PolicyE2E : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(Cairn({"init"}).exit_code, 0); }
  RunResult Cairn(std::vector<std::string> args, RunOptions o = {}) {
    args.insert(args.begin(), {"--store", box_ / "store"});
    o.env["CAIRN_ACTOR"] = "lead@e2e";
    return RunCairn(args, o);
  }
  Json JsonOf(std::vector<std::string> args) {
    args.push_back("--json");
    auto r = Cairn(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.empty() ? Json() : Json::parse(r.out);
  }
  Sandbox box_;
};

TEST_F(PolicyE2E, SetShowAndLogThroughTheBinary) {
  auto set = Cairn({"policy",
                    "set",
                    "prod",
                    "--require-signatures",
                    "2",
                    "--signer-role",
                    "release",
                    "--require-signatures",
                    "1",
                    "--min-eval",
                    "golden-v3=0.87",
                    "--max-eval-drop",
                    "golden-v3=0.08",
                    "--soak",
                    "beta=24h",
                    "--require-pinned-models",
                    "--require-agent-limits",
                    "--no-overrides",
                    "--reason",
                    "CX-9: gate prod"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find("policy of prod set (policy event #1)"), std::string::npos) << set.out;
  EXPECT_NE(set.out.find("2 distinct signers with role release"), std::string::npos) << set.out;
  EXPECT_NE(set.out.find("1 distinct signer (any trusted key)"), std::string::npos) << set.out;
  EXPECT_NE(set.out.find("beta for at least 24h"), std::string::npos) << set.out;

  Json shown = JsonOf({"policy", "show", "prod"});
  EXPECT_EQ(shown["deployment"], "prod");
  EXPECT_EQ(shown["set_by"]["seq"], 1);
  EXPECT_EQ(shown["set_by"]["actor"], "lead@e2e");
  EXPECT_EQ(shown["set_by"]["reason"], "CX-9: gate prod");
  const Json& p = shown["policy"];
  EXPECT_EQ(p["signatures"],
            Json::parse(R"([{"count":1,"role":""},{"count":2,"role":"release"}])"));
  EXPECT_EQ(p["min_eval"]["golden-v3"], "0.87");
  EXPECT_EQ(p["max_eval_drop"]["golden-v3"], "0.08");
  EXPECT_EQ(p["soak_micros"]["beta"], int64_t{24} * 3600 * 1000000);
  EXPECT_EQ(p["require_pinned_models"], true);
  EXPECT_EQ(p["require_agent_limits"], true);
  EXPECT_EQ(p["no_overrides"], true);

  auto human = Cairn({"policy", "show", "prod"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("min-eval               golden-v3 >= 0.87"), std::string::npos)
      << human.out;
  EXPECT_NE(human.out.find("no-overrides"), std::string::npos) << human.out;
  auto other = Cairn({"policy", "show", "staging"});
  EXPECT_EQ(other.exit_code, 0);
  EXPECT_NE(other.out.find("staging: no policy"), std::string::npos) << other.out;
  EXPECT_TRUE(JsonOf({"policy", "show", "staging"})["policy"].is_null());

  // The same rules again change nothing and write no event.
  auto same = Cairn({"policy",
                     "set",
                     "prod",
                     "--require-signatures",
                     "1",
                     "--require-signatures",
                     "2",
                     "--signer-role",
                     "release",
                     "--min-eval",
                     "golden-v3=0.87",
                     "--max-eval-drop",
                     "golden-v3=0.080",
                     "--soak",
                     "beta=1d",
                     "--require-pinned-models",
                     "--require-agent-limits",
                     "--no-overrides",
                     "--reason",
                     "again"});
  EXPECT_EQ(same.exit_code, 6) << same.out << same.err;
  EXPECT_NE(same.err.find("already has exactly this policy"), std::string::npos) << same.err;

  ASSERT_EQ(Cairn({"policy", "set", "beta", "--require-pinned-models", "--reason", "b"}).exit_code,
            0);
  Json all = JsonOf({"policy", "show"});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["deployment"], "beta");
  EXPECT_EQ(all[1]["deployment"], "prod");

  auto clear = Cairn({"policy", "set", "prod", "--clear", "--reason", "CX-10: migration"});
  ASSERT_EQ(clear.exit_code, 0) << clear.err;
  EXPECT_NE(clear.out.find("cleared the policy of prod"), std::string::npos) << clear.out;
  EXPECT_TRUE(JsonOf({"policy", "show", "prod"})["policy"].is_null());
  EXPECT_EQ(JsonOf({"policy", "show"}).size(), 1u);

  Json log = JsonOf({"policy", "log"});
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0]["seq"], 1);
  EXPECT_EQ(log[2]["deployment"], "prod");
  EXPECT_EQ(log[2]["reason"], "CX-10: migration");
  EXPECT_EQ(log[2]["prev"], log[1]["hash"]);
  auto human_log = Cairn({"policy", "log"});
  ASSERT_EQ(human_log.exit_code, 0);
  EXPECT_NE(human_log.out.find("clear  prod  lead@e2e  \"CX-10: migration\""), std::string::npos)
      << human_log.out;

  auto audit = Cairn({"audit", "verify", "--json"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out;
  EXPECT_EQ(Json::parse(audit.out)["policy_events"], 3);
}

TEST_F(PolicyE2E, BadFlagsExitTwoNamingTheFlagAndChangeNothing) {
  ASSERT_EQ(
      Cairn({"policy", "set", "prod", "--min-eval", "golden-v3=0.8", "--reason", "r"}).exit_code,
      0);
  std::string log_before = Cairn({"policy", "log", "--json"}).out;
  struct Case {
    std::vector<std::string> args;
    std::string names;
  };
  std::vector<Case> cases = {
      {{"--min-eval", "golden-v3=NaN"}, "--min-eval"},
      {{"--min-eval", "golden-v3=1.5"}, "--min-eval"},
      {{"--min-eval", "golden-v3"}, "--min-eval"},
      {{"--min-eval", "Golden=0.5"}, "--min-eval"},
      {{"--min-eval", "a=0.5", "--min-eval", "a=0.6"}, "given twice"},
      {{"--max-eval-drop", "golden-v3=-0.1"}, "--max-eval-drop"},
      {{"--soak", "beta=24"}, "--soak"},
      {{"--soak", "beta=0s"}, "--soak"},
      {{"--soak", "prod=1h"}, "--soak"},
      {{"--soak", "Beta=1h"}, "--soak"},
      {{"--require-signatures", "0", "--signer-role", "release"}, "--require-signatures"},
      {{"--require-signatures", "two"}, "--require-signatures"},
      {{"--require-signatures", "1", "--signer-role", "Release"}, "--signer-role"},
      {{"--signer-role", "release", "--require-signatures", "1"}, "--signer-role"},
      {{"--require-signatures", "1", "--signer-role", "a", "--signer-role", "b"}, "--signer-role"},
      {{"--require-signatures", "1", "--require-signatures", "2"}, "--require-signatures"},
      {{"--clear", "--require-pinned-models"}, "--clear"},
      {{}, "at least one rule"},
      {{"--no-overrides"}, "--no-overrides"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"policy", "set", "prod"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.insert(args.end(), {"--reason", "r"});
    auto r = Cairn(args);
    EXPECT_EQ(r.exit_code, 2) << c.names << ": " << r.err;
    EXPECT_NE(r.err.find(c.names), std::string::npos) << r.err;
  }
  auto bad_name = Cairn({"policy", "set", "Prod", "--require-pinned-models", "--reason", "r"});
  EXPECT_EQ(bad_name.exit_code, 2);
  EXPECT_NE(bad_name.err.find("deployment name"), std::string::npos) << bad_name.err;
  EXPECT_EQ(Cairn({"policy", "set", "prod", "--require-pinned-models"}).exit_code, 2)
      << "--reason is required";
  EXPECT_EQ(Cairn({"policy", "show", "Bad Name"}).exit_code, 2);
  EXPECT_EQ(Cairn({"policy", "log", "--json"}).out, log_before);

  // Flags are checked before any store is opened: no store at all still gives exit 2.
  auto nowhere = RunCairn({"--store", box_ / "missing", "policy", "set", "prod", "--soak",
                           "beta=soon", "--reason", "r"});
  EXPECT_EQ(nowhere.exit_code, 2) << nowhere.err;
}

TEST_F(PolicyE2E, AuditVerifyCatchesAnEditedPolicyEvent) {
  ASSERT_EQ(
      Cairn({"policy", "set", "prod", "--min-eval", "golden-v3=0.87", "--reason", "r"}).exit_code,
      0);
  ASSERT_EQ(Cairn({"audit", "verify"}).exit_code, 0);
  {
    StoreOpenOptions o;
    o.read_only = false;
    auto store = Store::Open(box_ / "store", o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Db& db = StoreInternal::db(**store);
    auto bytes = db.Get(Table::kPolicy, PolicyEventKey(1));
    ASSERT_TRUE(bytes.ok() && bytes->has_value());
    std::string edited = **bytes;
    size_t at = edited.find("\"0.87\"");
    ASSERT_NE(at, std::string::npos);
    edited.replace(at, 6, "\"0.10\"");
    Batch b(db);
    b.Put(Table::kPolicy, PolicyEventKey(1), edited);
    ASSERT_TRUE(db.Write(b, true).ok());
  }
  auto audit = Cairn({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 5) << audit.out << audit.err;
  EXPECT_NE(audit.out.find("policy of prod: event #1: its hash does not match"), std::string::npos)
      << audit.out;
  auto json = Cairn({"audit", "verify", "--json"});
  EXPECT_EQ(json.exit_code, 5);
  EXPECT_EQ(Json::parse(json.out)["problems"][0]["chain"], "policy");
}

TEST_F(PolicyE2E, EvalFixturesScoreTheSameGoldenSet) {
  std::string digest = FileDigest(box_.CopyFixture("evals/golden-v3.jsonl", "golden.jsonl"));
  size_t cases = 0;
  for (char c : box_.Read("golden.jsonl")) cases += c == '\n';
  ASSERT_EQ(cases, 10u);
  for (const auto& [release, score] : std::vector<std::pair<std::string, std::string>>{
           {"v1", "0.87"}, {"v2", "0.88"}, {"v3", "0.79"}}) {
    box_.CopyFixture("evals/report-" + release + ".json", "report-" + release + ".json");
    Json report = Json::parse(box_.Read("report-" + release + ".json"));
    EXPECT_EQ(report["eval"], "golden-v3");
    EXPECT_EQ(report["release"], release);
    EXPECT_EQ(report["dataset_digest"], digest) << release;
    EXPECT_EQ(report["n"], cases);
    EXPECT_EQ(report["cases"].size(), cases);
    EXPECT_EQ(report["score"].dump(), score) << release;
    // The mean of the case scores, in hundredths to stay exact.
    int64_t sum = 0;
    for (const auto& c : report["cases"]) sum += std::llround(c["score"].get<double>() * 100);
    EXPECT_EQ(sum * 10 / static_cast<int64_t>(cases),
              std::llround(report["score"].get<double>() * 1000))
        << release;
  }
}

}  // namespace
}  // namespace cairn::testing
