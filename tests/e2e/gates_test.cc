// End-to-end: the 0.87 -> 0.79 regression of the sample releases blocked by prod's gates
// through the real binary; overrides refused and allowed; a blocked promotion leaves nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;

class GatesE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    box_.CopyFixture("releases", "releases");
    evals_ = box_.CopyFixture("evals", "evals");
    ASSERT_EQ(Cairn({"init"}).exit_code, 0);
    ASSERT_EQ(
        Cairn({"trust", "add", "release-lead", Pub("release"), "--role", "release"}).exit_code, 0);
    ASSERT_EQ(Cairn({"trust", "add", "ci", Pub("ci"), "--role", "ci"}).exit_code, 0);
    const char* scores[] = {"0.87", "0.88", "0.79"};
    for (int i = 0; i < 3; ++i) {
      std::string v = "v" + std::to_string(i + 1);
      auto r = Cairn({"snapshot", "create", box_ / ("releases/" + v), "-m", v, "-q"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ids_.push_back(r.out.substr(0, 64));
      ASSERT_EQ(Cairn({"sign", ids_[i], "--key", Key("release")}).exit_code, 0);
      auto a = Cairn({"attest", ids_[i], "--eval", "golden-v3", "--score", scores[i], "--dataset",
                      evals_ + "/golden-v3.jsonl", "--report", evals_ + "/report-" + v + ".json",
                      "--key", Key("ci")});
      ASSERT_EQ(a.exit_code, 0) << a.err;
    }
  }
  std::string Key(const std::string& who) { return keys_.Private(who); }
  std::string Pub(const std::string& who) { return keys_.Public(who); }
  RunResult Cairn(std::vector<std::string> args, RunOptions o = {}) {
    args.insert(args.begin(), {"--store", box_ / "store"});
    o.env["CAIRN_ACTOR"] = "tester@e2e";
    return RunCairn(args, o);
  }
  RunResult SetPolicy(std::vector<std::string> extra) {
    std::vector<std::string> args = {
        "policy",         "set",      "prod",       "--require-signatures", "1",
        "--signer-role",  "release",  "--min-eval", "golden-v3=0.85",       "--max-eval-drop",
        "golden-v3=0.05", "--reason", "CX-9"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Cairn(args);
  }
  size_t Events() {
    auto r = Cairn({"log", "prod", "--json"});
    return r.exit_code == 0 ? Json::parse(r.out).size() : 0;
  }
  std::string Live() {
    auto r = Cairn({"show", "prod", "--json"});
    return r.exit_code == 0 ? std::string(Json::parse(r.out)["id"]) : "";
  }

  Sandbox box_;
  TestKeys keys_{box_};
  std::string evals_;
  std::vector<std::string> ids_;
};

TEST_F(GatesE2E, RegressionFrom087To079IsBlockedWithTheNumbersAndLeavesNothing) {
  ASSERT_EQ(SetPolicy({}).exit_code, 0);
  auto v1 = Cairn({"promote", ids_[0], "--to", "prod", "--reason", "launch"});
  ASSERT_EQ(v1.exit_code, 0) << v1.err;
  EXPECT_NE(v1.out.find("PASS        min-eval            golden-v3     0.87 >= 0.85"),
            std::string::npos)
      << v1.out;
  auto v3 = Cairn({"promote", ids_[2], "--to", "prod", "--reason", "concise"});
  EXPECT_EQ(v3.exit_code, 7) << v3.err;
  EXPECT_NE(v3.out.find("FAIL        min-eval            golden-v3     0.79 < 0.85"),
            std::string::npos)
      << v3.out;
  EXPECT_NE(v3.out.find("0.87 -> 0.79: drop 0.08 > 0.05"), std::string::npos) << v3.out;
  EXPECT_NE(v3.err.find("2 of 3 policy checks of prod failed"), std::string::npos) << v3.err;
  EXPECT_EQ(Events(), 1u);
  EXPECT_EQ(Live(), ids_[0]);
  auto json = Cairn({"promote", ids_[2], "--to", "prod", "--reason", "concise", "--json"});
  EXPECT_EQ(json.exit_code, 7);
  Json blocked = Json::parse(json.out);
  EXPECT_EQ(blocked["blocked"], true);
  EXPECT_EQ(blocked["checks"].size(), 3u);
  EXPECT_EQ(Events(), 1u);
  // The good release passes every gate, no override needed; its checks are in the event.
  auto v2 = Cairn({"promote", ids_[1], "--to", "prod", "--reason", "v2", "--json"});
  ASSERT_EQ(v2.exit_code, 0) << v2.err;
  Json event = Json::parse(v2.out);
  EXPECT_EQ(event["checks"].size(), 3u);
  EXPECT_EQ(Cairn({"audit", "verify"}).exit_code, 0);
}

TEST_F(GatesE2E, OverrideIsLoudAndRecordedOrRefusedByThePolicy) {
  ASSERT_EQ(SetPolicy({}).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "prod", "--reason", "launch"}).exit_code, 0);
  auto forced = Cairn({"promote", ids_[2], "--to", "prod", "--reason", "INC-3 hotfix", "--override",
                       "min-eval", "--override", "max-eval-drop", "--json"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(forced.err.find("WARNING: policy rule min-eval FAILED and was OVERRIDDEN"),
            std::string::npos)
      << forced.err;
  Json event = Json::parse(forced.out);
  int overridden = 0;
  for (const auto& c : event["checks"]) overridden += c["overridden"].get<bool>() ? 1 : 0;
  EXPECT_EQ(overridden, 2);
  // Where the policy forbids overrides, the same request changes nothing.
  ASSERT_EQ(SetPolicy({"--no-overrides"}).exit_code, 0);
  ASSERT_EQ(Cairn({"rollback", "prod", "--reason", "INC-3 over"}).exit_code, 0);
  size_t before = Events();
  auto refused =
      Cairn({"promote", ids_[2], "--to", "prod", "--reason", "again", "--override", "min-eval"});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("forbids overrides"), std::string::npos) << refused.err;
  EXPECT_EQ(Events(), before);
  EXPECT_EQ(Live(), ids_[0]);
}

}  // namespace
}  // namespace cairn::testing
