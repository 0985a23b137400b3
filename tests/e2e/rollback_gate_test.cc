// End-to-end: a rollback is gated by what it is (docs/rollback.md) — a walk back checks
// signatures and runs pre-rollback hooks; a rollback to a snapshot never live here, rolled back
// from here, or failing the signature rules passes every gate of a promotion, and --force is
// loud, recorded per check, and refused under --no-overrides. Every gated move records the
// gate hooks that ran, and `audit verify` shows moves made with hooks removed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cairn/digest.h"
#include "support/sandbox.h"

namespace cairn::testing {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

class RollbackGateE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    box_.CopyFixture("releases", "releases");
    evals_ = box_.CopyFixture("evals", "evals");
    ASSERT_EQ(Cairn({"init"}).exit_code, 0);
    ASSERT_EQ(
        Cairn({"trust", "add", "rel-lead", keys_.Public("release"), "--role", "release"}).exit_code,
        0);
    ASSERT_EQ(Cairn({"trust", "add", "ci", keys_.Public("ci"), "--role", "ci"}).exit_code, 0);
    const char* scores[] = {"0.87", "0.88", "0.79"};
    for (int i = 0; i < 3; ++i) {
      std::string v = "v" + std::to_string(i + 1);
      auto r = Cairn({"snapshot", "create", box_ / ("releases/" + v), "-m", v, "-q"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ids_.push_back(r.out.substr(0, 64));
      ASSERT_EQ(Cairn({"sign", ids_[i], "--key", keys_.Private("release")}).exit_code, 0);
      auto a = Cairn({"attest", ids_[i], "--eval", "golden-v3", "--score", scores[i], "--dataset",
                      evals_ + "/golden-v3.jsonl", "--key", keys_.Private("ci")});
      ASSERT_EQ(a.exit_code, 0) << a.err;
    }
  }
  RunResult Cairn(std::vector<std::string> args, RunOptions o = {}) {
    args.insert(args.begin(), {"--store", store_});
    o.env["CAIRN_ACTOR"] = "tester@e2e";
    return RunCairn(args, o);
  }
  // prod's policy as in the audit: a release signature, min-eval 0.85, max drop
  // 0.02, a day's soak on beta, pinned models; plus `extra`.
  void StrictPolicy(std::vector<std::string> extra) {
    std::vector<std::string> args = {"policy",
                                     "set",
                                     "prod",
                                     "--require-signatures",
                                     "1",
                                     "--signer-role",
                                     "release",
                                     "--min-eval",
                                     "golden-v3=0.85",
                                     "--max-eval-drop",
                                     "golden-v3=0.02",
                                     "--soak",
                                     "beta=24h",
                                     "--require-pinned-models",
                                     "--reason",
                                     "CX-9"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Cairn(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void WriteHook(const std::string& stage, const std::string& name, const std::string& body) {
    std::string rel = "store/hooks/" + stage + ".d/" + name;
    box_.Write(rel, "#!/bin/sh\n" + body);
    ::chmod((box_ / rel).c_str(), 0755);
  }
  Json Log() {
    auto r = Cairn({"log", "prod", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? Json::parse(r.out) : Json::array();
  }
  std::string Live() {
    auto r = Cairn({"show", "prod", "--json"});
    return r.exit_code == 0 ? std::string(Json::parse(r.out)["id"]) : "";
  }
  // v1 then v2 live on prod, through no policy yet.
  void V1ThenV2() {
    ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "prod", "--reason", "launch"}).exit_code, 0);
    ASSERT_EQ(Cairn({"promote", ids_[1], "--to", "prod", "--reason", "v2"}).exit_code, 0);
  }
  static std::string FileDigest(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return Digest::Of(ss.str()).ToString();
  }

  Sandbox box_;
  TestKeys keys_{box_};
  std::string store_ = box_ / "store";
  std::string evals_;
  std::vector<std::string> ids_;
};

// Finding 1: `rollback --to v3 --force` was an ungated promotion, even under --no-overrides.
TEST_F(RollbackGateE2E,
       RollbackToANeverLiveSnapshotIsAPromotionThatForceCannotForceUnderNoOverrides) {
  V1ThenV2();
  StrictPolicy({"--no-overrides"});
  WriteHook("pre-promote", "10-freeze", "echo 'release freeze until Monday' >&2; exit 1\n");
  auto promote = Cairn({"promote", ids_[2], "--to", "prod", "--reason", "v3"});
  ASSERT_EQ(promote.exit_code, 7) << promote.err;

  auto plain = Cairn({"rollback", "prod", "--to", ids_[2], "--reason", "INC-4"});
  EXPECT_EQ(plain.exit_code, 2) << plain.err;
  EXPECT_NE(plain.err.find("was never live on prod"), std::string::npos) << plain.err;

  auto forced = Cairn({"rollback", "prod", "--to", ids_[2], "--force", "--reason", "INC-4"});
  EXPECT_EQ(forced.exit_code, 7) << forced.err;
  EXPECT_NE(forced.err.find("a rollback to it passes every gate of a promotion"), std::string::npos)
      << forced.err;
  EXPECT_NE(forced.err.find("--force cannot lift them"), std::string::npos) << forced.err;
  for (const char* rule : {"min-eval", "max-eval-drop", "soak"}) {
    EXPECT_NE(forced.err.find(std::string("  ") + rule + " "), std::string::npos)
        << rule << " is named: " << forced.err;
    EXPECT_NE(forced.out.find("FAIL"), std::string::npos) << forced.out;
  }
  EXPECT_EQ(Live(), ids_[1]);
  EXPECT_EQ(Log().size(), 2u);
  EXPECT_EQ(Cairn({"audit", "verify"}).exit_code, 0);
}

TEST_F(RollbackGateE2E, ForcedRollbackRunsTheFreezeHookAndRecordsEachOverride) {
  V1ThenV2();
  StrictPolicy({});
  WriteHook("pre-promote", "10-freeze", "echo 'release freeze until Monday' >&2; exit 1\n");
  auto frozen = Cairn({"rollback", "prod", "--to", ids_[2], "--force", "--reason", "INC-4"});
  EXPECT_EQ(frozen.exit_code, 7) << frozen.err;
  EXPECT_NE(frozen.err.find("pre-promote hook 10-freeze refused the move"), std::string::npos)
      << frozen.err;
  EXPECT_NE(frozen.err.find("release freeze until Monday"), std::string::npos) << frozen.err;
  EXPECT_EQ(Live(), ids_[1]);

  WriteHook("pre-promote", "10-freeze", "exit 0\n");
  WriteHook("pre-rollback", "20-page", "exit 0\n");
  auto r = Cairn({"rollback", "prod", "--to", ids_[2], "--force", "--reason", "INC-4", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("WARNING: policy rule min-eval FAILED and was OVERRIDDEN"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("WARNING: forced rollback of prod"), std::string::npos) << r.err;
  Json event = Json::parse(r.out);
  EXPECT_EQ(event["forced"], true);
  std::set<std::string> overridden;
  for (const auto& c : event["checks"]) {
    if (c["overridden"].get<bool>()) overridden.insert(c["rule"]);
    EXPECT_TRUE(c["passed"].get<bool>() || c["overridden"].get<bool>()) << c.dump();
  }
  EXPECT_EQ(overridden, (std::set<std::string>{"min-eval", "max-eval-drop", "soak"}));
  ASSERT_EQ(event["hooks"].size(), 2u) << event.dump();
  EXPECT_EQ(event["hooks"][0]["stage"], "pre-promote");
  EXPECT_EQ(event["hooks"][0]["name"], "10-freeze");
  EXPECT_EQ(event["hooks"][0]["digest"], FileDigest(store_ + "/hooks/pre-promote.d/10-freeze"));
  EXPECT_EQ(event["hooks"][0]["exit"], 0);
  EXPECT_EQ(event["hooks"][1]["stage"], "pre-rollback");
  EXPECT_EQ(Live(), ids_[2]);
  auto log = Cairn({"log", "prod"});
  EXPECT_NE(log.out.find("[forced]"), std::string::npos) << log.out;
  EXPECT_NE(log.out.find("[override: min-eval,max-eval-drop,soak]"), std::string::npos) << log.out;
  EXPECT_EQ(Cairn({"audit", "verify"}).exit_code, 0);
}

// Finding 1, second part: a walk back whose signer was revoked since needed --force but the
// event said forced = false and nothing warned.
TEST_F(RollbackGateE2E, WalkBackToARevokedSignersSnapshotIsJudgedAsAPromotionAndMarkedForced) {
  V1ThenV2();
  ASSERT_EQ(Cairn({"policy", "set", "prod", "--require-signatures", "1", "--signer-role", "release",
                   "--reason", "signed releases"})
                .exit_code,
            0);
  ASSERT_EQ(Cairn({"trust", "revoke", "rel-lead", "--reason", "left the company"}).exit_code, 0);
  auto refused = Cairn({"rollback", "prod", "--reason", "INC-5"});
  EXPECT_EQ(refused.exit_code, 7) << refused.err;
  EXPECT_NE(refused.err.find("no longer meets the signature rules of prod"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("use --force to override them"), std::string::npos) << refused.err;
  EXPECT_EQ(Live(), ids_[1]);
  auto forced = Cairn({"rollback", "prod", "--force", "--reason", "INC-5"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(forced.err.find("WARNING: policy rule require-signatures FAILED"), std::string::npos)
      << forced.err;
  EXPECT_NE(forced.out.find("[forced]"), std::string::npos) << forced.out;
  Json log = Log();
  EXPECT_EQ(log.back()["forced"], true);
  EXPECT_EQ(log.back()["to"], ids_[0]);
  auto status = Cairn({"status"});
  EXPECT_NE(status.out.find("[forced]"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("[override: require-signatures]"), std::string::npos) << status.out;
}

// Finding 1, third part: `rollback --to` re-instated a snapshot rolled back as bad, unmarked.
TEST_F(RollbackGateE2E, ASnapshotRolledBackAsBadReturnsOnlyForcedThroughEveryGate) {
  V1ThenV2();
  ASSERT_EQ(Cairn({"rollback", "prod", "--reason", "INC-6: v2 answers wrong"}).exit_code, 0);
  WriteHook("pre-promote", "10-check", "exit 0\n");
  auto refused = Cairn({"rollback", "prod", "--to", ids_[1], "--reason", "retry"});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("was rolled back from prod at"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("(event #3: \"INC-6: v2 answers wrong\")"), std::string::npos)
      << refused.err;
  EXPECT_EQ(Live(), ids_[0]);
  auto r = Cairn({"rollback", "prod", "--to", ids_[1], "--force", "--reason", "retry"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json last = Log().back();
  EXPECT_EQ(last["forced"], true);
  ASSERT_EQ(last["hooks"].size(), 1u) << "a promotion in effect runs pre-promote hooks";
  EXPECT_EQ(last["hooks"][0]["name"], "10-check");
}

// A snapshot promoted again after it was rolled back has been judged again: a later walk back
// to that stay is a plain walk back; walking back into a stay that ended in a rollback is not.
TEST_F(RollbackGateE2E, APromotionAfterARollbackRequalifiesButAPingPongDoesNot) {
  V1ThenV2();
  ASSERT_EQ(Cairn({"rollback", "prod", "--reason", "INC-1: v2 bad"}).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", ids_[1], "--to", "prod", "--reason", "v2 again, KB fixed"}).exit_code,
            0);
  ASSERT_EQ(Cairn({"promote", ids_[2], "--to", "prod", "--reason", "v3"}).exit_code, 0);
  auto back = Cairn({"rollback", "prod", "--reason", "INC-2: v3 bad"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(Live(), ids_[1]);
  EXPECT_FALSE(Log().back().contains("forced"));
  // prod's stack is now v1 (#1), v2 (#4): rolling back from v2 returns to v1, and once more
  // there is nothing below.
  ASSERT_EQ(Cairn({"rollback", "prod", "--reason", "INC-3"}).exit_code, 0);
  EXPECT_EQ(Live(), ids_[0]);
  // The other way round: v1 -> v2 -> v1 -> v2 by promotions, then two rollbacks. The second
  // would return to v2's older stay although v2 was just rolled back: that needs --force.
  ASSERT_EQ(Cairn({"promote", ids_[1], "--to", "beta", "--reason", "a"}).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "beta", "--reason", "b"}).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", ids_[1], "--to", "beta", "--reason", "c"}).exit_code, 0);
  ASSERT_EQ(Cairn({"rollback", "beta", "--reason", "INC-4"}).exit_code, 0);
  auto ping = Cairn({"rollback", "beta", "--reason", "INC-5"});
  EXPECT_EQ(ping.exit_code, 2) << ping.err;
  EXPECT_NE(ping.err.find("was rolled back from beta at"), std::string::npos) << ping.err;
}

TEST_F(RollbackGateE2E, AWalkBackRunsPreRollbackHooksNotPrePromoteOnes) {
  V1ThenV2();
  WriteHook("pre-promote", "10-freeze", "exit 1\n");
  WriteHook("pre-rollback", "10-ticket",
            "case \"$CAIRN_REASON\" in INC-*) exit 0;; esac\n"
            "echo \"a rollback names its incident (gate: $CAIRN_GATE)\" >&2; exit 1\n");
  auto refused = Cairn({"rollback", "prod", "--reason", "oops"});
  EXPECT_EQ(refused.exit_code, 7) << refused.err;
  EXPECT_NE(refused.err.find("pre-rollback hook 10-ticket refused the move"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("(gate: rollback)"), std::string::npos) << refused.err;
  EXPECT_EQ(Live(), ids_[1]);
  auto r = Cairn({"rollback", "prod", "--reason", "INC-8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json last = Log().back();
  EXPECT_FALSE(last.contains("forced"));
  ASSERT_EQ(last["hooks"].size(), 1u) << last.dump();
  EXPECT_EQ(last["hooks"][0]["stage"], "pre-rollback");
  EXPECT_EQ(last["hooks"][0]["name"], "10-ticket");
}

// Finding 2, last part: events record the hooks that ran; audit shows a move made while the
// hooks were taken away.
TEST_F(RollbackGateE2E, AuditShowsAMoveMadeWithTheHooksRemoved) {
  WriteHook("pre-promote", "10-ticket", "exit 0\n");
  ASSERT_EQ(Cairn({"promote", ids_[0], "--to", "prod", "--reason", "v1"}).exit_code, 0);
  fs::rename(store_ + "/hooks/pre-promote.d/10-ticket", box_ / "10-ticket.away");
  ASSERT_EQ(Cairn({"promote", ids_[1], "--to", "prod", "--reason", "v2"}).exit_code, 0);
  auto before = Cairn({"audit", "verify"});
  EXPECT_EQ(before.exit_code, 0) << "nothing after it yet: " << before.out;
  fs::rename(box_ / "10-ticket.away", store_ + "/hooks/pre-promote.d/10-ticket");
  ASSERT_EQ(Cairn({"promote", ids_[2], "--to", "prod", "--reason", "v3"}).exit_code, 0);
  Json log = Log();
  EXPECT_EQ(log[0]["hooks"].size(), 1u);
  ASSERT_TRUE(log[1].contains("hooks")) << "an empty record is a record";
  EXPECT_EQ(log[1]["hooks"].size(), 0u);
  auto audit = Cairn({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 5) << audit.out;
  EXPECT_NE(audit.out.find("prod: event #2: it ran no pre-promote hooks, though the moves before "
                           "it (#1) and after it (#3) did"),
            std::string::npos)
      << audit.out;
  // A walk back runs no pre-promote hook and is not a gap in them.
  ASSERT_EQ(Cairn({"rollback", "prod", "--reason", "INC-1"}).exit_code, 0);
  ASSERT_EQ(Cairn({"promote", ids_[2], "--to", "beta", "--reason", "b"}).exit_code, 0);
  Json report = Json::parse(Cairn({"audit", "verify", "--json"}).out);
  EXPECT_EQ(report["problems"].size(), 1u) << report.dump();
  EXPECT_EQ(report["events_without_hook_record"], 0);
}

}  // namespace
}  // namespace cairn::testing
