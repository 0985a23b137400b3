#include "cairn/digest.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(Digest, KnownVectorOfAbc) {
  EXPECT_EQ(Digest::Of("abc").ToString(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, StreamingEqualsOneShot) {
  std::string data(3 * 1024 * 1024 + 17, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 % 251);
  Sha256 h;
  for (size_t off = 0; off < data.size(); off += 4097) h.Update(data.substr(off, 4097));
  EXPECT_EQ(h.Finish(), Digest::Of(data));
}

TEST(Digest, ParseRoundTripsAndRejectsMalformed) {
  Digest d = Digest::Of("hello");
  auto parsed = Digest::Parse(d.ToString());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, d);
  EXPECT_FALSE(Digest::Parse(d.Hex()).ok()) << "bare hex needs allow_bare";
  EXPECT_TRUE(Digest::Parse(d.Hex(), true).ok());
  EXPECT_FALSE(Digest::Parse("sha256:abc").ok());
  EXPECT_FALSE(Digest::Parse("sha256:" + std::string(64, 'g')).ok());
  EXPECT_FALSE(Digest::Parse("md5:" + d.Hex()).ok());
}

TEST(Digest, FromRawNeedsExactly32Bytes) {
  EXPECT_TRUE(Digest::FromRaw(std::string(32, '\1')).ok());
  EXPECT_TRUE(Digest::FromRaw(std::string(31, '\1')).status().IsCorruption());
}

}  // namespace
}  // namespace cairn
