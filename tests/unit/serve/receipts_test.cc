#include "cairn/receipts.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "cairn/access_tokens.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

SnapshotId Id(char c) { return *SnapshotId::Parse(std::string(64, c)); }

Receipt MakeReceipt(const std::string& host, char snapshot, int64_t received) {
  Receipt r;
  r.host = host;
  r.deployment = "prod";
  r.snapshot = Id(snapshot);
  r.loaded_micros = received - 1000;
  r.received_micros = received;
  return r;
}

TEST(Receipts, AppendedLinesReadBackInOrder) {
  testing::Sandbox box;
  ASSERT_TRUE(ReadReceipts(box.path())->empty());  // no file yet: no receipts
  ASSERT_TRUE(AppendReceipt(box.path(), MakeReceipt("host-1", 'a', 5000000)).ok());
  ASSERT_TRUE(AppendReceipt(box.path(), MakeReceipt("host-2", 'b', 6000000)).ok());
  auto all = ReadReceipts(box.path());
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].host, "host-1");
  EXPECT_EQ((*all)[1].snapshot, Id('b'));
  EXPECT_EQ((*all)[1].received_micros, 6000000);
  EXPECT_EQ((*all)[1].loaded_micros, 5999000);
}

TEST(Receipts, ATornLastLineIsIgnoredAndADamagedOneIsReported) {
  testing::Sandbox box;
  ASSERT_TRUE(AppendReceipt(box.path(), MakeReceipt("host-1", 'a', 5000000)).ok());
  std::string text = box.Read(kReceiptsFileName);
  box.Write(kReceiptsFileName, text + text.substr(0, 20));  // a crash mid-append
  auto torn = ReadReceipts(box.path());
  ASSERT_TRUE(torn.ok()) << torn.status().message();
  EXPECT_EQ(torn->size(), 1u);
  box.Write(kReceiptsFileName, text + "{\"host\":\"x\"}\n");
  auto damaged = ReadReceipts(box.path());
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), Code::kCorruption);
  EXPECT_NE(damaged.status().message().find("line 2"), std::string::npos);
}

TEST(Receipts, BadHostsAndNamesAreRefusedBeforeAnythingIsWritten) {
  testing::Sandbox box;
  EXPECT_EQ(AppendReceipt(box.path(), MakeReceipt("host 1", 'a', 1)).code(), Code::kUsage);
  EXPECT_EQ(AppendReceipt(box.path(), MakeReceipt("", 'a', 1)).code(), Code::kUsage);
  EXPECT_EQ(AppendReceipt(box.path(), MakeReceipt(std::string(129, 'h'), 'a', 1)).code(),
            Code::kUsage);
  Receipt bad_name = MakeReceipt("host-1", 'a', 1);
  bad_name.deployment = "Bad Name";
  EXPECT_EQ(AppendReceipt(box.path(), bad_name).code(), Code::kUsage);
  EXPECT_NE(::access((box / kReceiptsFileName).c_str(), F_OK), 0);
}

TEST(Receipts, HostsServingTakesEachHostsLastReceiptWithinTheWindow) {
  std::vector<Receipt> log = {
      MakeReceipt("host-1", 'a', 10), MakeReceipt("host-2", 'a', 20),
      MakeReceipt("host-1", 'a', 30), MakeReceipt("host-1", 'b', 40),
      MakeReceipt("host-3", 'a', 45), MakeReceipt("host-2", 'b', 100),
  };
  log[4].deployment = "staging";
  auto at50 = HostsServing(log, "prod", 50, 1000);
  ASSERT_EQ(at50.size(), 2u);
  EXPECT_EQ(at50[0].host, "host-1");
  EXPECT_EQ(at50[0].snapshot, Id('b'));
  EXPECT_EQ(at50[0].since_micros, 40 - 1000);
  EXPECT_EQ(at50[0].reported_micros, 40);
  EXPECT_EQ(at50[1].host, "host-2");
  EXPECT_EQ(at50[1].snapshot, Id('a'));  // its move to b came later
  // A window of 15 before 50: host-2 (last heard at 20) no longer counts.
  auto recent = HostsServing(log, "prod", 50, 15);
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].host, "host-1");
  ServingSummary s = SummarizeServing(at50, Id('b'));
  EXPECT_EQ(s.hosts, 2u);
  EXPECT_EQ(s.on_live, 1u);
  ASSERT_EQ(s.elsewhere.size(), 1u);
  EXPECT_EQ(s.elsewhere[0].host, "host-2");
  // The first receipt of a run of the same snapshot says since when.
  auto back = HostsServing({MakeReceipt("h", 'a', 10), MakeReceipt("h", 'b', 20),
                            MakeReceipt("h", 'a', 30), MakeReceipt("h", 'a', 40)},
                           "prod", 50, 1000);
  EXPECT_EQ(back[0].since_micros, 30 - 1000);
}

TEST(AccessTokens, FileListsDigestsHostsAndScopes) {
  std::string line = Digest::Of("secret-1").ToString() + "  host-1\tread,receipt\n";
  auto table = TokenTable::Parse(
      "# comment\n\n" + line + Digest::Of("secret-2").ToString() + " dash read\n", "tokens");
  ASSERT_TRUE(table.ok()) << table.status().message();
  EXPECT_EQ(table->size(), 2u);
  const TokenGrant* g = table->Find("secret-1");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->host, "host-1");
  EXPECT_TRUE(g->read);
  EXPECT_TRUE(g->receipt);
  const TokenGrant* dash = table->Find("secret-2");
  ASSERT_NE(dash, nullptr);
  EXPECT_FALSE(dash->receipt);
  EXPECT_EQ(table->Find("secret-3"), nullptr);
  EXPECT_EQ(table->Find(""), nullptr);
}

TEST(AccessTokens, MalformedLinesAreRefusedNamingTheLine) {
  std::string d = Digest::Of("x").ToString();
  for (const std::string& bad :
       {std::string("secret host-1 read\n"), d + " host-1\n", d + " host-1 write\n",
        d + " host/1 read\n", d + " host-1 read,\n", d + " h read\n" + d + " h2 read\n"}) {
    auto table = TokenTable::Parse("# tokens\n" + bad, "tokens");
    ASSERT_FALSE(table.ok()) << bad;
    EXPECT_EQ(table.status().code(), Code::kUsage);
    EXPECT_NE(table.status().message().find("tokens, line "), std::string::npos)
        << table.status().message();
  }
}

TEST(AccessTokens, ClientTokenIsTheFirstLineTrimmed) {
  testing::Sandbox box;
  box.Write("t", "  abc123 \nignored\n");
  EXPECT_EQ(*ReadClientToken(box / "t"), "abc123");
  box.Write("empty", "\n");
  EXPECT_EQ(ReadClientToken(box / "empty").status().code(), Code::kUsage);
  EXPECT_EQ(ReadClientToken(box / "missing").status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace cairn
