// Every write path against a failing disk: for each operation, the k-th write, fsync,
// rename or create (cairn's own and RocksDB's, counted together by a FaultEnv over the real
// file system) fails with ENOSPC, EIO or EROFS, for every k the operation reaches. Each
// run must complete or fail with a clear error; afterwards, on a healthy disk, fsck and
// audit verify pass, every pointer equals its last event's `to`, and what the operation
// reported done is there.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "cairn/attestation.h"
#include "cairn/audit.h"
#include "cairn/checkout.h"
#include "cairn/fsck.h"
#include "cairn/policy.h"
#include "cairn/snapshot.h"
#include "port/fault_env.h"
#include "support/signing_support.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kErrors[] = {ENOSPC, EIO, EROFS};

// What one operation did, and how to check it afterwards on a healthy store.
struct Operation {
  const char* name;
  // Runs against `store` (opened read-write through the faulty Env, or read-only for
  // checkout). `box` is where release and checkout directories live.
  std::function<Status(Store& store)> run;
  // Checks, on the healthy reopened store, that the operation's effect is there.
  std::function<void(const Store& store)> done;
  bool read_only = false;
};

class FaultInjectionTest : public SignedStoreTest {
 protected:
  void SetUp() override {
    SignedStoreTest::SetUp();
    ASSERT_TRUE(Trust("release", release_, {"release"}).ok());
    MoveOptions m{"alice@test", "first", std::nullopt, nullptr, false, nullptr};
    ASSERT_TRUE(Promote(*store_, DeploymentName::Parse("prod").value(), v_[0], m).ok());
    ASSERT_TRUE(Promote(*store_, DeploymentName::Parse("prod").value(), v_[1], m).ok());
    ASSERT_TRUE(store_->Close().ok());
    store_.reset();
    box_.Write("rel/prompts/system.md", "A new version {{customer_name}}\n");
    box_.Write("rel/config/big.txt", std::string(300000, 'x'));
  }

  // Copies the prepared store to a fresh directory for one run.
  std::string FreshCopy(int run) {
    std::string dst = box_ / ("run-" + std::to_string(run));
    fs::remove_all(dst);
    fs::copy(box_ / "store", dst, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    return dst;
  }

  // Opens `path` through `env` and runs `op`; any failure (the open's too) is returned.
  Status RunThrough(Env& env, const std::string& path, const Operation& op) {
    StoreOpenOptions o;
    o.read_only = op.read_only;
    o.clock = &clock_;
    o.env = &env;
    auto store = Store::Open(path, o);
    if (!store.ok()) return store.status();
    Status s = op.run(**store);
    Status closed = (*store)->Close();
    return s.ok() ? closed : s;
  }

  void CheckHealthy(const std::string& path, const Operation& op, bool reported_done,
                    const std::string& what) {
    StoreOpenOptions o;
    o.read_only = true;
    auto store = Store::Open(path, o);
    ASSERT_TRUE(store.ok()) << what << ": the store does not open: " << store.status().ToString();
    auto fsck = Fsck(**store);
    ASSERT_TRUE(fsck.ok()) << what << ": " << fsck.status().ToString();
    for (const auto& p : fsck->problems)
      ADD_FAILURE() << what << ": fsck: " << p.what << ": " << p.message;
    auto audit = AuditVerify(**store);
    ASSERT_TRUE(audit.ok()) << what << ": " << audit.status().ToString();
    for (const auto& p : audit->problems) ADD_FAILURE() << what << ": audit verify: " << p.message;
    auto deployments = ListDeployments(**store);
    ASSERT_TRUE(deployments.ok()) << what;
    for (const auto& d : *deployments) {
      auto events = ReadEvents(**store, d.name);
      ASSERT_TRUE(events.ok() && !events->empty()) << what;
      EXPECT_EQ(d.live, events->back().to) << what << ": the pointer is not its last event's `to`";
    }
    // Nothing acknowledged before the operation is missing.
    for (const auto& id : v_)
      EXPECT_TRUE(LoadSnapshot(**store, id).ok()) << what << ": " << id.Hex();
    auto prod_events = ReadEvents(**store, prod_);
    ASSERT_TRUE(prod_events.ok()) << what;
    EXPECT_GE(prod_events->size(), 2u) << what;
    auto trust = ReadTrustEvents(**store);
    ASSERT_TRUE(trust.ok()) << what;
    EXPECT_GE(trust->size(), 1u) << what;
    if (reported_done) op.done(**store);
  }

  // The loop: count the operation's file operations on a healthy run, then fail each.
  void RunEveryFault(const Operation& op) {
    FaultEnv counter;
    counter.Count();
    std::string first = FreshCopy(0);
    Status healthy = RunThrough(counter, first, op);
    ASSERT_TRUE(healthy.ok()) << op.name << " fails without a fault: " << healthy.ToString();
    const uint64_t n = counter.operations();
    ASSERT_GT(n, 0u) << op.name << " made no file operation";
    CheckHealthy(first, op, true, std::string(op.name) + " without a fault");
    int failed = 0;
    for (uint64_t k = 1; k <= n; ++k) {
      int error = kErrors[k % std::size(kErrors)];
      std::string path = FreshCopy(static_cast<int>(k));
      FaultEnv env;
      env.FailFrom(k, error);
      Status s = RunThrough(env, path, op);
      std::string what = fmt::format("{} with operation {} of {} failing ({}: {})", op.name, k, n,
                                     std::strerror(error), env.first_failure());
      if (std::getenv("CAIRN_FAULT_VERBOSE") != nullptr) {
        std::cout << what << " -> " << (s.ok() ? "done" : s.ToString()) << "\n";
      }
      if (!s.ok()) {
        ++failed;
        EXPECT_TRUE(env.fired()) << what << ": failed without a fault: " << s.ToString();
        EXPECT_NE(s.code(), Code::kInternal) << what << ": " << s.ToString();
        EXPECT_FALSE(s.message().empty()) << what;
      }
      CheckHealthy(path, op, s.ok(), what);
      if (::testing::Test::HasFailure()) return;  // the first failing k says enough
      fs::remove_all(path);
    }
    EXPECT_GT(failed, 0) << op.name << ": no injected fault made it fail";
    std::cout << op.name << ": " << n << " file operations; " << failed << " of " << n
              << " faults made it fail, the rest struck after it was done\n";
  }

  DeploymentName prod_ = DeploymentName::Parse("prod").value();
  SnapshotId created_;
};

TEST_F(FaultInjectionTest, SnapshotCreate) {
  RunEveryFault({"snapshot create",
                 [&](Store& s) {
                   CreateSnapshotOptions c;
                   c.dir = box_ / "rel";
                   c.message = "under faults";
                   c.author = "alice@test";
                   c.use_stat_cache = false;
                   std::vector<Problem> problems;
                   auto r = CreateSnapshot(s, c, &problems);
                   if (r.ok()) created_ = r->snapshot.id;
                   return r.status();
                 },
                 [&](const Store& s) {
                   auto snap = LoadSnapshot(s, created_);
                   EXPECT_TRUE(snap.ok()) << snap.status().ToString();
                 }});
}

TEST_F(FaultInjectionTest, Promote) {
  RunEveryFault({"promote",
                 [&](Store& s) {
                   MoveOptions m{"alice@test", "faults", std::nullopt, nullptr, false, nullptr};
                   return Promote(s, prod_, v_[2], m).status();
                 },
                 [&](const Store& s) {
                   auto d = GetDeployment(s, prod_);
                   ASSERT_TRUE(d.ok());
                   EXPECT_EQ(d->live, v_[2]);
                 }});
}

TEST_F(FaultInjectionTest, Rollback) {
  RunEveryFault({"rollback",
                 [&](Store& s) {
                   RollbackOptions r;
                   r.move = {"alice@test", "faults", std::nullopt, nullptr, false, nullptr};
                   return Rollback(s, prod_, r).status();
                 },
                 [&](const Store& s) {
                   auto d = GetDeployment(s, prod_);
                   ASSERT_TRUE(d.ok());
                   EXPECT_EQ(d->live, v_[0]);
                 }});
}

TEST_F(FaultInjectionTest, Sign) {
  RunEveryFault(
      {"sign", [&](Store& s) { return SignSnapshot(s, v_[2], release_, {"signer@test"}).status(); },
       [&](const Store& s) {
         auto sigs = ListSnapshotSignatures(s, v_[2]);
         ASSERT_TRUE(sigs.ok());
         EXPECT_EQ(sigs->size(), 1u);
       }});
}

TEST_F(FaultInjectionTest, Attest) {
  RunEveryFault({"attest",
                 [&](Store& s) {
                   EvalStatement st;
                   st.snapshot = v_[2];
                   st.eval = "golden";
                   st.score = Score::Parse("0.9", "score").value();
                   return Attest(s, st, release_,
                                 {"ci@test", std::string("report"), std::nullopt, std::nullopt})
                       .status();
                 },
                 [&](const Store& s) {
                   auto trust = TrustState::Load(s);
                   ASSERT_TRUE(trust.ok());
                   auto checks = CheckAttestations(s, v_[2], *trust);
                   ASSERT_TRUE(checks.ok());
                   EXPECT_EQ(checks->size(), 1u);
                 }});
}

TEST_F(FaultInjectionTest, PolicySet) {
  RunEveryFault({"policy set",
                 [&](Store& s) {
                   Policy p;
                   p.deployment = "prod";
                   p.signatures = {{1, "release"}};
                   return SetPolicy(s, p, "admin@test", "faults").status();
                 },
                 [&](const Store& s) {
                   auto p = GetPolicy(s, prod_);
                   ASSERT_TRUE(p.ok());
                   ASSERT_TRUE(p->has_value());
                   EXPECT_EQ((*p)->signatures.size(), 1u);
                 }});
}

TEST_F(FaultInjectionTest, TrustAdd) {
  RunEveryFault({"trust add",
                 [&](Store& s) {
                   return AddTrust(s, "ci", ci_.public_key(), {"ci"},
                                   {"admin@test", "faults", {}, {}})
                       .status();
                 },
                 [&](const Store& s) {
                   auto events = ReadTrustEvents(s);
                   ASSERT_TRUE(events.ok());
                   EXPECT_EQ(events->size(), 2u);
                 }});
}

TEST_F(FaultInjectionTest, Checkout) {
  std::string dir = box_ / "serving";
  RunEveryFault({"checkout",
                 [&](Store& s) {
                   fs::remove_all(dir);
                   return Checkout(s, v_[1], dir, {}).status();
                 },
                 [&](const Store&) {
                   auto current = CurrentCheckout(dir);
                   ASSERT_TRUE(current.ok() && current->has_value());
                   EXPECT_EQ(**current, v_[1]);
                   EXPECT_TRUE(fs::exists(dir + "/current/prompts/system.md"));
                 },
                 /*read_only=*/true});
}

}  // namespace
}  // namespace cairn::testing
