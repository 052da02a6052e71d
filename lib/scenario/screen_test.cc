#include "lib/scenario/screen.h"

#include <gtest/gtest.h>

namespace pmbench::scenario {
namespace {

std::string Odds(int64_t id, int64_t yes, int64_t no, const char* status = nullptr) {
  std::string s = "{\"id\":" + std::to_string(id) + ",\"yes_pool\":" + std::to_string(yes) + ",\"no_pool\":" + std::to_string(no) +
                  ",\"odds_yes\":0.5,\"volume\":1";
  if (status) s += std::string(",\"status\":\"") + status + "\"";
  return s + "}";
}

// A listener batch holds several bets and the market notifies once per batch: each bet is on
// screen with the first update whose pools include it, when every subscriber has that one.
TEST(ScreenTest, ABetIsOnScreenWhenEverySubscriberHoldsOddsIncludingIt) {
  ScreenRecorder screen({{"market:1", 2}, {"market:2", 1}});
  // Batch 1 (b1, b2) -> pools 110/105, both subscribers; batch 2 (b3) -> 111/105, one of two.
  screen.Receipt("market:1", Odds(1, 110, 105), 1'000);
  screen.Receipt("market:1", Odds(1, 110, 105), 1'200);
  screen.Receipt("market:1", Odds(1, 111, 105), 2'000);
  screen.Receipt("markets", Odds(1, 111, 105), 2'100);  // "markets" does not stand in for the market's channel
  const std::vector<CommittedBet> committed = {
      {"b1", 1, true, 10}, {"other", 1, false, 3}, {"b2", 1, false, 2}, {"b3", 1, true, 1}, {"b4", 3, true, 1}};
  const ScreenLatency s =
      screen.Bets(committed, {{1, {100, 100}}}, {{"b1", 100}, {"b2", 150}, {"b3", 1'500}, {"b4", 10}}, /*deadline_ns=*/5'000);
  EXPECT_EQ(s.complete, 2);
  EXPECT_EQ(s.incomplete, 1);  // b3: one subscriber never got it
  EXPECT_EQ(s.unwatched, 1);   // b4: nobody watches market 3
  EXPECT_EQ(s.latency.count(), 3u);
  EXPECT_EQ(s.latency.min(), 1'050);  // b2: sent at 150, last subscriber at 1,200
  EXPECT_EQ(s.latency.max(), 3'500);  // b3 counts until the deadline
}

// A resolution repeats the pools with a new status; it must not stand in for a later bet's.
TEST(ScreenTest, AStatusChangeIsNotABetsUpdate) {
  ScreenRecorder screen({{"market:1", 1}});
  screen.Receipt("market:1", Odds(1, 10, 0), 100);
  screen.Receipt("market:1", Odds(1, 10, 0, "resolved"), 300);
  const ScreenLatency s = screen.Bets({{"b", 1, true, 10}}, {{1, {0, 0}}}, {{"b", 50}}, 1'000);
  EXPECT_EQ(s.complete, 1);
  EXPECT_EQ(s.latency.max(), 50);  // the first update showing it, at 100
  const ScreenLatency missing = screen.Bets({{"b", 1, true, 10}, {"c", 1, true, 5}}, {{1, {0, 0}}}, {{"c", 60}}, 1'000);
  EXPECT_EQ(missing.incomplete, 1);  // 15 was never shown: the resolution's 10 does not count
}

// A shard's recorder holds its part of the subscribers: BetScreens says when they had every
// bet they watch — the others' bets too — and leaves out the markets they do not watch.
TEST(ScreenTest, BetScreensAreWhenThisRecordersSubscribersHadEachBet) {
  ScreenRecorder part({{"market:1", 2}});
  part.Receipt("market:1", Odds(1, 110, 100), 1'000);
  part.Receipt("market:1", Odds(1, 110, 100), 1'300);
  part.Receipt("market:1", Odds(1, 111, 100), 2'000);  // one of the two
  const auto screens = part.BetScreens({{"x", 1, true, 10}, {"y", 1, true, 1}, {"z", 2, true, 5}}, {{1, {100, 100}}, {2, {0, 0}}});
  ASSERT_EQ(screens.size(), 2u);
  EXPECT_EQ(screens.at("x"), 1'300);
  EXPECT_EQ(screens.at("y"), ScreenRecorder::kNever);
  EXPECT_FALSE(screens.contains("z")) << "market 2 is watched elsewhere";
  EXPECT_EQ(part.MarketScreens({5}).size(), 0u) << "nobody here watches \"markets\"";
}

TEST(ScreenTest, NewMarketsAreOnScreenWhenEveryWatcherOfMarketsHasThem) {
  ScreenRecorder screen({{"markets", 2}});
  screen.Receipt("markets", Odds(77, 0, 0, "open"), 400);
  screen.Receipt("markets", Odds(77, 0, 0, "open"), 500);
  screen.Receipt("markets", Odds(78, 0, 0, "open"), 450);
  const ScreenLatency s = screen.NewMarkets({{77, 100}, {78, 100}, {79, 100}}, 1'100);
  EXPECT_EQ(s.complete, 1);
  EXPECT_EQ(s.incomplete, 2);
  EXPECT_EQ(s.latency.min(), 400);
  EXPECT_EQ(s.latency.max(), 1'000);
  EXPECT_EQ(screen.receipts(), 3);
}

}  // namespace
}  // namespace pmbench::scenario
