#include "cairn/object.h"

#include <gtest/gtest.h>

#include <random>

#include "cairn/fsck.h"
#include "cairn/ingest.h"
#include "cairn/store.h"
#include "port/zstd_codec.h"
#include "store/object_codec.h"
#include "store/store_internal.h"
#include "support/sandbox.h"

namespace cairn {
namespace {

using testing::Sandbox;

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class ObjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Init(box_ / "store");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  // Stores `data` through a real snapshot of a release whose config holds it.
  Digest Ingest(const std::string& data) {
    testing::WriteMinimalRelease(box_, "rel");
    box_.Write("rel/config/blob.bin", data);
    CreateSnapshotOptions o;
    o.dir = box_ / "rel";
    o.message = "test";
    o.author = "tester";
    std::vector<Problem> problems;
    auto r = CreateSnapshot(*store_, o, &problems);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r->snapshot.Find("config/blob.bin")->digest;
  }

  void Overwrite(const Digest& d, const std::string& value) {
    Db& db = StoreInternal::db(*store_);
    Batch b(db);
    b.Put(Table::kObjects, d.Raw(), value);
    ASSERT_TRUE(db.Write(b, true).ok());
  }

  Sandbox box_;
  std::unique_ptr<Store> store_;
};

TEST_F(ObjectTest, TextIsCompressedAndReadBackExactly) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "the refund policy allows returns within 30 days. ";
  Digest d = Ingest(text);
  auto info = StatObject(*store_, d);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->encoding, ObjectEncoding::kZstd);
  EXPECT_LT(info->stored_bytes, text.size() / 10);
  EXPECT_EQ(*ReadObject(*store_, d), text);
}

TEST_F(ObjectTest, IncompressibleBytesAreStoredRaw) {
  std::string data = RandomBytes(100000, 1);
  Digest d = Ingest(data);
  EXPECT_EQ(StatObject(*store_, d)->encoding, ObjectEncoding::kRaw);
  EXPECT_EQ(*ReadObject(*store_, d), data);
}

TEST_F(ObjectTest, LargeObjectsAreChunkedAndStreamedInOrder) {
  std::string data = RandomBytes(3 * kChunkSize + 12345, 2);
  Digest d = Ingest(data);
  auto info = StatObject(*store_, d);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->encoding, ObjectEncoding::kChunked);
  EXPECT_EQ(info->chunks, 4u);
  EXPECT_EQ(info->size, data.size());
  std::string streamed;
  size_t pieces = 0;
  ASSERT_TRUE(StreamObject(*store_, d, [&](std::string_view p) {
                ++pieces;
                EXPECT_LE(p.size(), kChunkSize);
                streamed.append(p);
                return Status::OK();
              }).ok());
  EXPECT_EQ(pieces, 4u);
  EXPECT_EQ(streamed, data);
}

// A file of exactly one chunk, or of whole chunks: never a record that names itself.
TEST_F(ObjectTest, ObjectsOfExactlyOneOrTwoChunksReadBackWhole) {
  for (uint64_t size : {kChunkSize, 2 * kChunkSize, kChunkSize - 1, kChunkSize + 1}) {
    std::string data = RandomBytes(size, static_cast<unsigned>(size));
    Digest d = Ingest(data);
    auto bytes = ReadObject(*store_, d);
    ASSERT_TRUE(bytes.ok()) << size << ": " << bytes.status().ToString();
    EXPECT_EQ(*bytes, data) << size;
  }
  auto report = Fsck(*store_);
  ASSERT_TRUE(report.ok());
  for (const auto& p : report->problems) ADD_FAILURE() << p.what << ": " << p.message;
}

// Stores made before a file of exactly one chunk was stored inline hold a chunked record
// naming itself (the bytes are gone): snapshotting the file again heals the object.
TEST_F(ObjectTest, AnObjectWhoseRecordNamesItselfIsStoredAgain) {
  std::string data = RandomBytes(kChunkSize, 7);
  Digest d = Ingest(data);
  Overwrite(d, EncodeChunkedObject(kChunkSize, static_cast<uint32_t>(kChunkSize), {d}));
  EXPECT_FALSE(ReadObject(*store_, d).ok());
  box_.Write("rel/prompts/system.md", "Another version {{customer_name}}\n");
  EXPECT_EQ(Ingest(data), d);
  auto bytes = ReadObject(*store_, d);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, data);
}

TEST_F(ObjectTest, FlippedByteIsAnIntegrityErrorNeverWrongBytes) {
  std::string data = RandomBytes(5000, 3);
  Digest d = Ingest(data);
  std::string record = *StoreInternal::db(*store_).Get(Table::kObjects, d.Raw()).value();
  record[100] ^= 0x01;
  Overwrite(d, record);
  auto read = ReadObject(*store_, d);
  ASSERT_FALSE(read.ok());
  EXPECT_TRUE(read.status().IsCorruption());
  EXPECT_NE(read.status().message().find(d.ToString()), std::string::npos);
}

TEST_F(ObjectTest, DamagedZstdFrameIsAnIntegrityError) {
  std::string text(50000, 'a');
  Digest d = Ingest(text);
  std::string record = *StoreInternal::db(*store_).Get(Table::kObjects, d.Raw()).value();
  ASSERT_EQ(record[0], 0x01);
  record[record.size() - 3] ^= 0x40;
  Overwrite(d, record);
  EXPECT_TRUE(ReadObject(*store_, d).status().IsCorruption());
}

TEST_F(ObjectTest, MissingChunkIsAnIntegrityError) {
  std::string data = RandomBytes(2 * kChunkSize + 1, 4);
  Digest d = Ingest(data);
  Digest first_chunk = Digest::Of(std::string_view(data).substr(0, kChunkSize));
  Db& db = StoreInternal::db(*store_);
  Batch b(db);
  b.Delete(Table::kObjects, first_chunk.Raw());
  ASSERT_TRUE(db.Write(b, true).ok());
  auto read = ReadObject(*store_, d);
  EXPECT_TRUE(read.status().IsCorruption()) << read.status().ToString();
}

TEST_F(ObjectTest, ReadOfAnAbsentObjectIsNotFound) {
  EXPECT_TRUE(ReadObject(*store_, Digest::Of("nothing")).status().IsNotFound());
}

TEST(ObjectCodec, RejectsMalformedRecords) {
  Digest d = Digest::Of("x");
  EXPECT_TRUE(DecodeObjectRecord(d, "").status().IsCorruption());
  EXPECT_TRUE(DecodeObjectRecord(d, std::string("\x07", 1)).status().IsCorruption());
  EXPECT_TRUE(DecodeObjectRecord(d, std::string("\x01\x00", 2)).status().IsCorruption());
  // A chunk list whose count does not match its size.
  std::string list = EncodeChunkedObject(3 * kChunkSize, kChunkSize, {d, d});
  EXPECT_TRUE(DecodeObjectRecord(d, list).status().IsCorruption());
}

TEST(ObjectCodec, ZstdFrameClaimingAnotherSizeIsRefused) {
  Compressor c(3);
  std::string frame;
  ASSERT_TRUE(c.Compress(std::string(1000, 'a'), &frame).ok());
  Decompressor dec;
  std::string out;
  EXPECT_TRUE(dec.Decompress(frame, 999, &out, "x").IsCorruption());
}

}  // namespace
}  // namespace cairn
