// Damage is never silent: a flipped byte or a truncation in any file that holds an
// acknowledged write makes every command fail with exit 5, naming the file, and changes
// nothing; a write torn by a crash before it was acknowledged is recovered from.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/sandbox.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr int kExitIntegrity = 5;

std::string Db(const Sandbox& box) { return box / "store/db2"; }

// A store with two snapshots, prod promoted twice and beta once: every kind of record.
std::string MakeStore(const Sandbox& box) {
  EXPECT_EQ(Cairn(box, {"init"}).exit_code, 0);
  std::string v1 = box.CopyFixture("releases/v1", "v1");
  std::string v2 = box.CopyFixture("releases/v2", "v2");
  auto a = Cairn(box, {"snapshot", "create", v1, "-m", "one", "--json"});
  auto b = Cairn(box, {"snapshot", "create", v2, "-m", "two", "--json"});
  EXPECT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(b.exit_code, 0) << b.err;
  std::string id1 = Json::parse(a.out)["id"], id2 = Json::parse(b.out)["id"];
  EXPECT_EQ(Cairn(box, {"promote", id1, "--to", "prod", "--reason", "first"}).exit_code, 0);
  EXPECT_EQ(Cairn(box, {"promote", id1, "--to", "beta", "--reason", "beta"}).exit_code, 0);
  EXPECT_EQ(Cairn(box, {"promote", id2, "--to", "prod", "--reason", "second"}).exit_code, 0);
  return id2;
}

// The newest non-empty log file of the database.
std::string NewestLog(const Sandbox& box) {
  std::string best;
  for (const auto& e : fs::directory_iterator(Db(box))) {
    std::string name = e.path().filename().string();
    if (!name.ends_with(".log") || fs::file_size(e.path()) == 0) continue;
    if (best.empty() || name > best) best = name;
  }
  return best;
}

std::string OnlyFile(const Sandbox& box, std::string_view prefix) {
  for (const auto& e : fs::directory_iterator(Db(box))) {
    std::string name = e.path().filename().string();
    if (name.starts_with(prefix)) return name;
  }
  return "";
}

// Every file of the database and its digest (LOCK excluded: taking it is not a change).
std::map<std::string, std::string> Contents(const Sandbox& box) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(Db(box))) {
    std::string name = e.path().filename().string();
    if (name != "LOCK") out[name] = FileDigest(e.path().string());
  }
  return out;
}

// Every command that opens the store fails with exit 5 naming `file`, and the database
// is left exactly as it was.
void ExpectEveryCommandReports(const Sandbox& box, const std::string& id, const std::string& file) {
  auto before = Contents(box);
  const std::vector<std::vector<std::string>> commands = {
      {"status"},
      {"snapshot", "list"},
      {"log", "prod"},
      {"live", "prod", "--at", "2030-01-01T00:00:00Z"},
      {"show", id},
      {"fsck"},
      {"audit", "verify"},
      {"promote", id, "--to", "beta", "--reason", "during damage"},
      {"rollback", "prod", "--reason", "during damage"},
  };
  for (const auto& args : commands) {
    auto r = Cairn(box, args);
    std::string what = args[0] + (args.size() > 1 ? " " + args[1] : "");
    EXPECT_EQ(r.exit_code, kExitIntegrity) << what << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(file), std::string::npos) << what << " does not name " << file << ":\n"
                                                   << r.err;
    EXPECT_NE(r.err.find("damaged"), std::string::npos) << what << ":\n" << r.err;
  }
  EXPECT_EQ(Contents(box), before) << "a command changed the damaged database";
}

TEST(Damage, AFlippedByteInTheNewestLogIsReportedByEveryCommand) {
  Sandbox box;
  std::string id = MakeStore(box);
  std::string log = NewestLog(box);
  ASSERT_FALSE(log.empty());
  FlipByte(Db(box) + "/" + log, fs::file_size(Db(box) + "/" + log) / 2);
  ExpectEveryCommandReports(box, id, log);
}

TEST(Damage, AFlippedByteInAnOlderLogIsReportedNamingThatLog) {
  Sandbox box;
  std::string id = MakeStore(box);
  std::string newest = NewestLog(box);
  std::string older;
  for (const auto& e : fs::directory_iterator(Db(box))) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".log") && name != newest && fs::file_size(e.path()) > 100 &&
        (older.empty() || name > older)) {
      older = name;
    }
  }
  if (older.empty()) GTEST_SKIP() << "every write is in one log";
  FlipByte(Db(box) + "/" + older, fs::file_size(Db(box) + "/" + older) / 2);
  ExpectEveryCommandReports(box, id, older);
}

TEST(Damage, ALogTruncatedToHalfIsReportedByEveryCommand) {
  Sandbox box;
  std::string id = MakeStore(box);
  std::string log = NewestLog(box);
  std::string path = Db(box) + "/" + log;
  fs::resize_file(path, fs::file_size(path) / 2);
  ExpectEveryCommandReports(box, id, log);
}

TEST(Damage, ALogTruncatedToNothingIsReported) {
  Sandbox box;
  std::string id = MakeStore(box);
  std::string log = NewestLog(box);
  fs::resize_file(Db(box) + "/" + log, 0);
  ExpectEveryCommandReports(box, id, log);
}

TEST(Damage, ADeletedLogIsReportedNamingIt) {
  Sandbox box;
  std::string id = MakeStore(box);
  std::string log = NewestLog(box);
  fs::remove(Db(box) + "/" + log);
  ExpectEveryCommandReports(box, id, log);
}

TEST(Damage, ATruncatedManifestIsReported) {
  Sandbox box;
  std::string id = MakeStore(box);
  std::string manifest = OnlyFile(box, "MANIFEST-");
  std::string path = Db(box) + "/" + manifest;
  fs::resize_file(path, fs::file_size(path) - 20);
  ExpectEveryCommandReports(box, id, manifest);
}

TEST(Damage, AFlippedByteInTheManifestIsReported) {
  Sandbox box;
  std::string id = MakeStore(box);
  std::string manifest = OnlyFile(box, "MANIFEST-");
  std::string path = Db(box) + "/" + manifest;
  FlipByte(path, fs::file_size(path) / 2);
  ExpectEveryCommandReports(box, id, "MANIFEST");
}

TEST(Damage, ADamagedCurrentFileIsReported) {
  Sandbox box;
  std::string id = MakeStore(box);
  box.Write("store/db2/CURRENT", "MANIFEST-00000x\n");
  ExpectEveryCommandReports(box, id, "CURRENT");
  box.Write("store/db2/CURRENT", "MANIFEST-999999\n");
  ExpectEveryCommandReports(box, id, "CURRENT");
}

TEST(Damage, ADamagedOrMissingAcknowledgementRecordIsReported) {
  Sandbox box;
  std::string id = MakeStore(box);
  std::string path = Db(box) + "/ACKED";
  std::string saved = box.Read("store/db2/ACKED");
  FlipByte(path, 20);
  FlipByte(path, 84);
  ExpectEveryCommandReports(box, id, "ACKED");
  fs::remove(path);
  ExpectEveryCommandReports(box, id, "ACKED");
  box.Write("store/db2/ACKED", saved);
  EXPECT_EQ(Cairn(box, {"status"}).exit_code, 0);
}

// One slot torn by a crash while it was written: the other, one write older, is used.
TEST(Damage, OneTornSlotOfTheAcknowledgementRecordIsNotDamage) {
  Sandbox box;
  MakeStore(box);
  FlipByte(Db(box) + "/ACKED", 20);
  auto status = Cairn(box, {"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  FlipByte(Db(box) + "/ACKED", 20);
  FlipByte(Db(box) + "/ACKED", 84);
  status = Cairn(box, {"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
}

// The database's biggest table file and its size ("" when it has none).
std::string BiggestTableFile(const std::string& db, uint64_t* size) {
  std::string sst;
  *size = 0;
  for (const auto& e : fs::directory_iterator(db)) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".sst") && fs::file_size(e.path()) > *size) {
      *size = fs::file_size(e.path());
      sst = name;
    }
  }
  return sst;
}

// A store whose events were folded into table files (enough moves for Db::Checkpoint),
// and the name and size of its biggest table file.
std::string StoreWithTableFile(const Sandbox& box, std::string* id, uint64_t* biggest) {
  *id = MakeStore(box);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(
        Cairn(box, {"promote", *id, "--to", "env" + std::to_string(i), "--reason", "r"}).exit_code,
        0);
  }
  return BiggestTableFile(Db(box), biggest);
}

// Table files: found when a read needs the damaged block (RocksDB checks each block it
// reads; the open itself reads some), and by fsck for every block of every file.
TEST(Damage, AFlippedByteInATableFileIsReportedNamingIt) {
  Sandbox box;
  std::string id;
  uint64_t biggest = 0;
  std::string sst = StoreWithTableFile(box, &id, &biggest);
  ASSERT_GT(biggest, 4096u) << "the events were not folded into a table file";
  FlipByte(Db(box) + "/" + sst, biggest / 4);
  auto fsck = Cairn(box, {"fsck", "--json"});
  EXPECT_EQ(fsck.exit_code, kExitIntegrity) << fsck.out << fsck.err;
  EXPECT_NE((fsck.out + fsck.err).find(sst), std::string::npos) << fsck.out << fsck.err;
  if (!fsck.out.empty()) {
    EXPECT_FALSE(Json::parse(fsck.out)["ok"].get<bool>());
  }
}

// A crash during a synced write, before it was acknowledged, can leave a record cut short
// or garbled at the end of the log: that write is simply not there.
TEST(Damage, AWriteTornBeforeItWasAcknowledgedIsRecoveredFrom) {
  Sandbox box;
  std::string id = MakeStore(box);
  std::string ack_before = box.Read("store/db2/ACKED");
  auto before = Cairn(box, {"status", "--json"});
  ASSERT_EQ(before.exit_code, 0);
  // The promote writes its record into a log of its own; a crash before its
  // acknowledgement leaves the record before it (restored here) and part of the new one.
  ASSERT_EQ(Cairn(box, {"promote", id, "--to", "beta", "--reason", "torn"}).exit_code, 0);
  std::string log = NewestLog(box);
  std::string path = Db(box) + "/" + log;
  uint64_t size_before = 0;
  uint64_t size_after = fs::file_size(path);
  ASSERT_GT(size_after, 40u);
  std::string full = box.Read("store/db2/" + log);

  // Cut short.
  box.Write("store/db2/ACKED", ack_before);
  fs::resize_file(path, size_before + (size_after - size_before) / 2);
  auto status = Cairn(box, {"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(Json::parse(status.out), Json::parse(before.out));

  // Garbled.
  box.Write("store/db2/" + log, full);
  box.Write("store/db2/ACKED", ack_before);
  FlipByte(path, size_before + (size_after - size_before) / 2);
  status = Cairn(box, {"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(Json::parse(status.out), Json::parse(before.out));
  // A writer opens it too, and the store goes on.
  auto promote = Cairn(box, {"promote", id, "--to", "beta", "--reason", "again"});
  EXPECT_EQ(promote.exit_code, 0) << promote.err;
  EXPECT_EQ(Cairn(box, {"audit", "verify"}).exit_code, 0);
  EXPECT_EQ(Cairn(box, {"fsck"}).exit_code, 0);
}

// SIGKILL at many moments of a promote: every open afterwards succeeds, and the pointer
// is the old or the new snapshot, matching its log.
TEST(Damage, SigkillDuringPromotesNeverLooksLikeDamage) {
  Sandbox box;
  MakeStore(box);
  auto list = Cairn(box, {"snapshot", "list", "--json"});
  std::vector<std::string> ids;
  for (const auto& s : Json::parse(list.out)) ids.push_back(s["id"]);
  int killed = 0;
  for (int round = 0; round < 30; ++round) {
    RunOptions o;
    // Most rounds kill within 2-16 ms; every fifth gives the promote a second, so that on a
    // loaded machine (every promote slower than 16 ms) some still finish.
    o.kill_after_ms = round % 5 == 4 ? 1000 : 2 + round % 15;
    auto r = Cairn(box, {"promote", ids[round % 2], "--to", "prod", "--reason", "kill"}, o);
    if (r.signal != 0) ++killed;
    auto status = Cairn(box, {"status", "--json"});
    ASSERT_EQ(status.exit_code, 0) << "round " << round << ": " << status.err;
    ASSERT_EQ(Cairn(box, {"audit", "verify"}).exit_code, 0) << "round " << round;
  }
  EXPECT_GT(killed, 0) << "no kill landed during a promote";
  EXPECT_LT(killed, 30) << "no promote finished";
}

// `recover` on a store whose newest log is damaged: the new store holds everything before
// the damage, passes fsck and audit verify, names what was lost, and the damaged store is
// not written to.
TEST(Recover, SalvagesEverythingBeforeADamagedLogAndNamesWhatWasLost) {
  Sandbox box;
  std::string id2 = MakeStore(box);
  auto before_last = Cairn(box, {"status", "--json"});
  ASSERT_EQ(before_last.exit_code, 0);
  auto log_before = Cairn(box, {"log", "prod", "--json"});
  // The last move, the one the damage will take away.
  ASSERT_EQ(Cairn(box, {"rollback", "prod", "--reason", "the lost one"}).exit_code, 0);
  std::string log = NewestLog(box);
  FlipByte(Db(box) + "/" + log, fs::file_size(Db(box) + "/" + log) / 2);
  auto damaged = Contents(box);

  auto r = Cairn(box, {"recover", "--into", box / "new", "--json"});
  EXPECT_EQ(r.exit_code, kExitIntegrity) << r.out << r.err;
  Json report = Json::parse(r.out);
  EXPECT_FALSE(report["complete"].get<bool>());
  EXPECT_GT(report["acknowledged_write"].get<uint64_t>(), report["intact_write"].get<uint64_t>());
  bool names_event = false;
  for (const auto& l : report["lost"]) {
    names_event = names_event || l["what"] == "writes" || l["what"] == "prod event #3";
  }
  EXPECT_TRUE(names_event) << r.out;
  EXPECT_EQ(Contents(box), damaged) << "recover wrote to the damaged store";

  auto in_new = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", box / "new/.cairn"});
    return RunCairn(args);
  };
  EXPECT_EQ(in_new({"fsck"}).exit_code, 0);
  EXPECT_EQ(in_new({"audit", "verify"}).exit_code, 0);
  auto status = in_new({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(Json::parse(status.out), Json::parse(before_last.out));
  EXPECT_EQ(Json::parse(in_new({"log", "prod", "--json"}).out), Json::parse(log_before.out));
  // The new store is a store like any other.
  auto promote = in_new({"promote", id2, "--to", "staging", "--reason", "after recovery"});
  EXPECT_EQ(promote.exit_code, 0) << promote.err;
}

TEST(Recover, AnIntactStoreIsCopiedWholeWithExitZero) {
  Sandbox box;
  MakeStore(box);
  box.Write("store/hooks/pre-promote.d/freeze", "#!/bin/sh\nexit 0\n");
  fs::permissions(box / "store/hooks/pre-promote.d/freeze", fs::perms(0755));
  auto status = Cairn(box, {"status", "--json"});
  auto r = Cairn(box, {"recover", "--into", box / "copy"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("nothing was lost"), std::string::npos) << r.out;
  auto copied = RunCairn({"--store", box / "copy/.cairn", "status", "--json"});
  EXPECT_EQ(Json::parse(copied.out), Json::parse(status.out));
  // The gates travel with the store.
  EXPECT_EQ(box.Read("copy/.cairn/hooks/pre-promote.d/freeze"), "#!/bin/sh\nexit 0\n");
  EXPECT_EQ(fs::status(box / "copy/.cairn/hooks/pre-promote.d/freeze").permissions(),
            fs::perms(0755));
}

TEST(Recover, RefusesATargetThatExistsOrLiesInsideTheDamagedStore) {
  Sandbox box;
  MakeStore(box);
  box.Write("full/.cairn/something", "x");
  EXPECT_EQ(Cairn(box, {"recover", "--into", box / "full"}).exit_code, 6);
  auto inside = Cairn(box, {"recover", "--into", box / "store/db2"});
  EXPECT_EQ(inside.exit_code, 2) << inside.err;
  EXPECT_FALSE(fs::exists(box / "store/db2/.cairn"));
}

// A store with thirty more deployments, each promoted twice, folded into table files:
// its events span many blocks of one table file.
std::string StoreWithManyDeployments(const Sandbox& box, std::vector<std::string>* names) {
  std::string id2 = MakeStore(box);
  auto list = Json::parse(Cairn(box, {"snapshot", "list", "--json"}).out);
  std::string id1;
  for (const auto& s : list) {
    if (s["id"] != id2) id1 = s["id"];
  }
  *names = {"beta", "prod"};
  for (int i = 0; i < 30; ++i) {
    std::string name = "env" + std::to_string(i);
    EXPECT_EQ(Cairn(box, {"promote", id1, "--to", name, "--reason", "one"}).exit_code, 0);
    EXPECT_EQ(Cairn(box, {"promote", id2, "--to", name, "--reason", "two"}).exit_code, 0);
    names->push_back(name);
  }
  return id2;
}

bool Names(const Json& lost, const std::string& text) {
  for (const auto& l : lost) {
    if (l["what"].get<std::string>() == text) return true;
  }
  return false;
}

// Whether `lost` names event #seq of `name`: the event, a range holding it, or the
// deployment.
bool NamesEvent(const Json& lost, const std::string& name, uint64_t seq) {
  if (Names(lost, name + " event #" + std::to_string(seq))) return true;
  if (Names(lost, "deployment " + name)) return true;
  std::string range = name + " events #";
  for (const auto& l : lost) {
    std::string what = l["what"];
    if (!what.starts_with(range)) continue;
    uint64_t a = 0, b = 0;
    if (std::sscanf(what.c_str() + range.size(), "%lu to #%lu", &a, &b) == 2 && a <= seq &&
        seq <= b) {
      return true;
    }
  }
  return false;
}

// A damaged block of a table file, wherever it is: recover reads each table file on its own
// around the damage, so the copy loses only what the damaged block held; every event and
// snapshot it lacks is named in the report; and the copy passes fsck and audit verify (each
// chain cut to its intact prefix, every pointer and index rebuilt). RocksDB's merged view
// would have stopped at the first damaged block of any table.
TEST(Recover, ADamagedTableBlockCostsOnlyWhatItHeldAndTheCopyPassesEveryCheck) {
  Sandbox box;
  std::vector<std::string> names;
  StoreWithManyDeployments(box, &names);
  ASSERT_EQ(Cairn(box, {"fsck"}).exit_code, 0);
  std::map<std::string, Json> logs;
  for (const auto& name : names) logs[name] = Json::parse(Cairn(box, {"log", name, "--json"}).out);
  Json snapshots = Json::parse(Cairn(box, {"snapshot", "list", "--json"}).out);
  uint64_t biggest = 0;
  std::string sst = BiggestTableFile(Db(box), &biggest);
  ASSERT_GT(biggest, 12000u) << "the events were not folded into one table file";

  int restored_some = 0;
  for (int tenth = 1; tenth <= 7; tenth += 2) {
    SCOPED_TRACE("byte flipped at " + std::to_string(tenth) + "/10 of " + sst);
    std::string copy = box / ("damaged" + std::to_string(tenth));
    fs::copy(box / "store", copy, fs::copy_options::recursive);
    FlipByte(copy + "/db2/" + sst, biggest * tenth / 10);
    std::string into = box / ("new" + std::to_string(tenth));
    auto r = RunCairn({"--store", copy, "recover", "--into", into, "--json"});
    ASSERT_EQ(r.signal, 0) << r.err;
    ASSERT_EQ(r.exit_code, kExitIntegrity) << r.out << r.err;
    Json lost = Json::parse(r.out)["lost"];
    ASSERT_TRUE(Names(lost, "file " + sst)) << r.out;

    auto in_new = [&](std::vector<std::string> args) {
      args.insert(args.begin(), {"--store", into + "/.cairn"});
      return RunCairn(args);
    };
    auto fsck = in_new({"fsck"});
    EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
    auto audit = in_new({"audit", "verify"});
    EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
    // Every event the copy lacks is named; what it has is the same prefix of each chain.
    for (const auto& name : names) {
      auto log = in_new({"log", name, "--json"});
      Json got = log.exit_code == 0 ? Json::parse(log.out) : Json::array();
      const Json& want = logs[name];
      ASSERT_LE(got.size(), want.size()) << name;
      std::map<uint64_t, Json> by_seq;
      for (const auto& e : want) by_seq[e["seq"].get<uint64_t>()] = e;
      for (const auto& e : got) EXPECT_EQ(e, by_seq[e["seq"].get<uint64_t>()]) << name;
      std::set<uint64_t> have;
      for (const auto& e : got) have.insert(e["seq"].get<uint64_t>());
      for (const auto& [seq, e] : by_seq) {
        if (!have.contains(seq)) {
          EXPECT_TRUE(NamesEvent(lost, name, seq)) << name << " event #" << seq << " is missing "
                                                   << "and not named:\n"
                                                   << r.out;
        }
      }
      restored_some += !got.empty();
    }
    // Every snapshot the copy lacks is named.
    Json now = Json::parse(in_new({"snapshot", "list", "--json"}).out);
    std::set<std::string> kept;
    for (const auto& s : now) kept.insert(s["id"].get<std::string>());
    for (const auto& s : snapshots) {
      std::string id = s["id"];
      if (!kept.contains(id)) {
        EXPECT_TRUE(Names(lost, "snapshot " + id)) << id << "\n" << r.out;
      }
    }
    // The copy is a store like any other.
    EXPECT_EQ(in_new({"status"}).exit_code, 0);
  }
  EXPECT_GT(restored_some, 0);
}

// Damage outside every block of a table file: a byte of the footer's padding fails only the
// whole-file checksum (the file is named; nothing in it is lost), while a byte of its magic
// number makes the file unreadable as a whole (named as such). Either way the copy holds what
// the other files and the log hold, and passes every check.
TEST(Recover, DamageOutsideTheBlocksOfATableFileIsNamed) {
  Sandbox box;
  std::vector<std::string> names;
  StoreWithManyDeployments(box, &names);
  auto log_before = Cairn(box, {"log", "prod", "--json"});
  uint64_t biggest = 0;
  std::string sst = BiggestTableFile(Db(box), &biggest);
  ASSERT_FALSE(sst.empty());
  for (uint64_t back : {20, 1}) {
    SCOPED_TRACE("byte flipped " + std::to_string(back) + " before the end of " + sst);
    std::string copy = box / ("damaged" + std::to_string(back));
    fs::copy(box / "store", copy, fs::copy_options::recursive);
    FlipByte(copy + "/db2/" + sst, biggest - back);
    std::string into = box / ("new" + std::to_string(back));
    auto r = RunCairn({"--store", copy, "recover", "--into", into, "--json"});
    ASSERT_EQ(r.signal, 0) << r.err;
    ASSERT_EQ(r.exit_code, kExitIntegrity) << r.out << r.err;
    Json lost = Json::parse(r.out)["lost"];
    EXPECT_TRUE(Names(lost, "file " + sst)) << r.out;
    bool unreadable = r.out.find("could not be read at all") != std::string::npos;
    if (back == 20) {
      EXPECT_FALSE(unreadable) << r.out;
      EXPECT_EQ(lost.size(), 1u) << r.out;
      auto log = RunCairn({"--store", into + "/.cairn", "log", "prod", "--json"});
      EXPECT_EQ(Json::parse(log.out), Json::parse(log_before.out));
    } else {
      EXPECT_TRUE(unreadable) << r.out;
    }
    EXPECT_EQ(RunCairn({"--store", into + "/.cairn", "fsck"}).exit_code, 0);
    EXPECT_EQ(RunCairn({"--store", into + "/.cairn", "audit", "verify"}).exit_code, 0);
  }
}

}  // namespace
}  // namespace cairn::testing
