#include "lib/base/base58.h"

#include <random>

#include <gtest/gtest.h>

namespace pmbench::base {
namespace {

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(Base58Test, KnownAnswers) {
  // Vectors from the Base58 IETF draft (draft-msporny-base58) and Bitcoin's test suite.
  EXPECT_EQ(Base58Encode(Bytes("Hello World!")), "2NEpo7TZRRrLZSi2U");
  EXPECT_EQ(Base58Encode(Bytes("The quick brown fox jumps over the lazy dog.")),
            "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z");
  EXPECT_EQ(Base58Encode(std::vector<uint8_t>{0x00, 0x00, 0x28, 0x7f, 0xb4, 0xcd}), "11233QC4");
  EXPECT_EQ(Base58Encode(std::vector<uint8_t>{}), "");
  EXPECT_EQ(Base58Encode(std::vector<uint8_t>{0}), "1");
  // The Solana system program id is 32 zero bytes.
  EXPECT_EQ(Base58Encode(std::vector<uint8_t>(32, 0)), "11111111111111111111111111111111");
}

TEST(Base58Test, DecodeInvertsEncodeOnRandomKeysAndSignatures) {
  std::mt19937 rng(7);
  for (size_t len : {32u, 64u, 1u, 5u}) {
    for (int i = 0; i < 200; ++i) {
      std::vector<uint8_t> b(len);
      for (auto& x : b) x = static_cast<uint8_t>(rng());
      if (i % 10 == 0) b[0] = 0;  // leading zeros are the classic bug
      const auto back = Base58Decode(Base58Encode(b));
      ASSERT_TRUE(back.has_value());
      ASSERT_EQ(*back, b);
    }
  }
}

// The textbook byte-by-digit decode: slow, and plainly right.
std::vector<uint8_t> ReferenceDecode(std::string_view text) {
  static constexpr std::string_view kAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  std::vector<uint8_t> big;  // most significant first
  for (size_t i = ones; i < text.size(); ++i) {
    unsigned carry = static_cast<unsigned>(kAlphabet.find(text[i]));
    for (auto it = big.rbegin(); it != big.rend(); ++it) {
      carry += 58u * *it;
      *it = static_cast<uint8_t>(carry);
      carry >>= 8;
    }
    for (; carry; carry >>= 8) big.insert(big.begin(), static_cast<uint8_t>(carry));
  }
  std::vector<uint8_t> out(ones, 0);
  out.insert(out.end(), big.begin(), big.end());
  return out;
}

TEST(Base58Test, DecodeMatchesTheTextbookOnArbitraryDigitStrings) {
  // Every length across the five-digit groups and four-byte limbs, with runs of '1' (zero
  // digits) leading and inside, and the top digit 'z' (57) that carries furthest.
  static constexpr char kAlphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  std::mt19937 rng(11);
  for (size_t len = 0; len <= 120; ++len) {
    for (int i = 0; i < 20; ++i) {
      std::string text(len, '1');
      const int mode = i % 4;
      for (size_t k = 0; k < len; ++k) {
        if (mode == 1 && k < len / 3) continue;  // leading ones
        if (mode == 2 && rng() % 3 == 0) continue;  // ones inside
        text[k] = mode == 3 ? 'z' : kAlphabet[rng() % 58];
      }
      const auto got = Base58Decode(text);
      ASSERT_TRUE(got.has_value()) << text;
      ASSERT_EQ(*got, ReferenceDecode(text)) << text;
    }
  }
}

TEST(Base58Test, RejectsCharactersOutsideTheAlphabet) {
  for (const char* bad : {"0", "O", "I", "l", "abc+", "2NEpo7TZRR LZSi2U", "111110", "zzzzzzzzzzzO"}) {
    EXPECT_FALSE(Base58Decode(bad).has_value()) << bad;
  }
  EXPECT_EQ(*Base58Decode("2NEpo7TZRRrLZSi2U"), Bytes("Hello World!"));
}

}  // namespace
}  // namespace pmbench::base
