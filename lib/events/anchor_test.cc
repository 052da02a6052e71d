#include "lib/events/anchor.h"

#include <gtest/gtest.h>

#include "lib/chain/merkle.h"

namespace pmbench::events {
namespace {

std::string Hex(std::span<const uint8_t> b) { return chain::ToHex(b); }

TEST(AnchorTest, DiscriminatorsAreSha256OfEventName) {
  // Computed independently: hashlib.sha256(b"event:<Name>").digest()[:8].hex()
  EXPECT_EQ(Hex(Discriminator("MarketCreated")), "58b882e7e254063a");
  EXPECT_EQ(Hex(Discriminator("BetPlaced")), "585891e27ece2000");
  EXPECT_EQ(Hex(Discriminator("VoteCast")), "2735c368bc11e1d5");
  EXPECT_EQ(Hex(Discriminator("MarketResolved")), "5943e65f8f6ac7ca");
  EXPECT_EQ(Hex(Discriminator("WinningsClaimed")), "bbb81dc436754696");
}

TEST(AnchorTest, BorshLayoutKnownAnswer) {
  Pubkey key{};
  key.fill(0xab);
  const std::string bytes = EncodeEvent(MarketCreated{0x0102030405060708, key, -2, "Hi", "é"});
  std::string want = std::string("\x58\xb8\x82\xe7\xe2\x54\x06\x3a", 8) +
                     std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8) + std::string(32, '\xab') +
                     std::string("\xfe\xff\xff\xff\xff\xff\xff\xff", 8) + std::string("\x02\x00\x00\x00Hi", 6) +
                     std::string("\x02\x00\x00\x00\xc3\xa9", 6);
  EXPECT_EQ(bytes, want);
  const auto back = DecodeEvent(bytes);
  ASSERT_TRUE(back.event.has_value()) << back.error;
  EXPECT_EQ(std::get<MarketCreated>(*back.event).closes_at, -2);
  EXPECT_EQ(std::get<MarketCreated>(*back.event).category, "é");
}

TEST(AnchorTest, EveryEventRoundTrips) {
  Pubkey key{};
  key[0] = 1;
  const std::vector<Event> events = {
      MarketCreated{7, key, 1767225600, "Will it?", "crypto"},
      BetPlaced{7, key, 1, 5'000'000'000, 9'000'000'000, 1'000'000'000},
      VoteCast{3, key, 2, 42},
      MarketResolved{7, 1},
      WinningsClaimed{7, key, 123},
  };
  for (const Event& e : events) {
    const auto d = DecodeEvent(EncodeEvent(e));
    ASSERT_TRUE(d.event.has_value()) << EventName(e) << ": " << d.error;
    EXPECT_EQ(*d.event, e) << EventName(e);
  }
}

TEST(AnchorTest, BadBytesNameTheirProblem) {
  Pubkey key{};
  const std::string bet = EncodeEvent(BetPlaced{1, key, 1, 2, 3, 4});
  EXPECT_EQ(DecodeEvent(bet.substr(0, 20)).error, "truncated_event");
  EXPECT_EQ(DecodeEvent("short").error, "truncated_event");
  EXPECT_EQ(DecodeEvent(bet + "x").error, "trailing_bytes");
  EXPECT_EQ(DecodeEvent(std::string(8, '\x7f') + "payload").error, "unknown_event");
  std::string bad_side = bet;
  bad_side[8 + 8 + 32] = 2;
  EXPECT_EQ(DecodeEvent(bad_side).error, "bad_enum");
  EXPECT_EQ(DecodeEvent(EncodeEvent(MarketResolved{1, 3})).error, "bad_enum");
  EXPECT_EQ(DecodeEvent(EncodeEvent(MarketCreated{1, key, 0, std::string("a\xff", 2), "x"})).error, "bad_text");
  EXPECT_EQ(DecodeEvent(EncodeEvent(MarketCreated{1, key, 0, std::string("a\0b", 3), "x"})).error, "bad_text");
  // A string length that runs past the end.
  std::string long_title = EncodeEvent(MarketCreated{1, key, 0, "ab", "c"});
  long_title[8 + 8 + 32 + 8] = 100;
  EXPECT_EQ(DecodeEvent(long_title).error, "truncated_event");
}
}  // namespace
}  // namespace pmbench::events
