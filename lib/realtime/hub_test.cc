#include "lib/realtime/hub.h"

#include <thread>

#include <gtest/gtest.h>

#include "lib/realtime/internal/recording_subscriber.h"

namespace pmbench::realtime {
namespace {

using Recorder = internal::RecordingSubscriber;

std::vector<std::string> Strings(const Hub::Subscribed& s) {
  std::vector<std::string> out;
  for (const auto& f : s.frames) out.push_back(f->text);
  return out;
}

TEST(HubTest, ChannelsAreMarketsOrTheAllMarketsFeed) {
  EXPECT_TRUE(IsValidChannel("markets"));
  EXPECT_TRUE(IsValidChannel("market:42"));
  for (const char* bad : {"market:", "market:0", "market:042", "market:-1", "market:4x", "market:99999999999999999999",
                          "Markets", "bets", ""}) {
    EXPECT_FALSE(IsValidChannel(bad)) << bad;
  }
  Hub hub;
  auto r = std::make_shared<Recorder>();
  EXPECT_THROW(hub.Subscribe("market:0", std::nullopt, r), std::invalid_argument);
}

TEST(HubTest, UpdatesCarryOneSeqPerChannelAndReachOnlyItsSubscribers) {
  Hub hub;
  auto a = std::make_shared<Recorder>(), b = std::make_shared<Recorder>();
  EXPECT_EQ(Strings(hub.Subscribe("market:1", std::nullopt, a)),
            std::vector<std::string>{R"({"op":"subscribed","channel":"market:1","seq":0})"});
  hub.Subscribe("market:2", std::nullopt, b);
  EXPECT_EQ(hub.Publish("market:1", R"({"yes_pool":1})", 100), 1u);
  EXPECT_EQ(hub.Publish("market:1", R"({"yes_pool":2})", 200), 1u);
  EXPECT_EQ(hub.Publish("market:2", R"({"yes_pool":3})", 300), 1u);
  EXPECT_EQ(a->frames, (std::vector<std::string>{
                           R"({"op":"update","channel":"market:1","seq":1,"ts_ns":100,"data":{"yes_pool":1}})",
                           R"({"op":"update","channel":"market:1","seq":2,"ts_ns":200,"data":{"yes_pool":2}})"}));
  ASSERT_EQ(b->frames.size(), 1u);
  EXPECT_NE(b->frames[0].find(R"("seq":1)"), std::string::npos);  // market:2 counts on its own

  EXPECT_TRUE(hub.Unsubscribe("market:1", a.get()));
  EXPECT_FALSE(hub.Unsubscribe("market:1", a.get()));
  EXPECT_EQ(hub.Publish("market:1", "{}", 400), 0u);
  EXPECT_EQ(a->frames.size(), 2u);
}

TEST(HubTest, SinceReplaysTheMissedUpdatesOrResetsWhenTheRingForgotThem) {
  Hub hub({.replay = 3});
  for (int i = 1; i <= 5; ++i) hub.Publish("market:9", "{\"n\":" + std::to_string(i) + "}", i);
  auto a = std::make_shared<Recorder>();
  const auto replay = Strings(hub.Subscribe("market:9", 3, a));  // ring holds 3, 4, 5
  ASSERT_EQ(replay.size(), 3u);
  EXPECT_EQ(replay[0], R"({"op":"subscribed","channel":"market:9","seq":5})");
  EXPECT_NE(replay[1].find(R"("seq":4)"), std::string::npos);
  EXPECT_NE(replay[2].find(R"("seq":5)"), std::string::npos);

  auto b = std::make_shared<Recorder>();
  const auto old = Strings(hub.Subscribe("market:9", 1, b));  // 2 is gone
  ASSERT_EQ(old.size(), 2u);
  EXPECT_EQ(old[1], R"({"op":"reset","channel":"market:9","seq":5})");

  auto c = std::make_shared<Recorder>();
  EXPECT_EQ(hub.Subscribe("market:9", 5, c).frames.size(), 1u);  // up to date: nothing to replay
  auto d = std::make_shared<Recorder>();
  EXPECT_EQ(Strings(hub.Subscribe("market:9", 50, d)).back(), R"({"op":"reset","channel":"market:9","seq":5})");  // another life
}

TEST(HubTest, AResetReachesEverySubscriberAndEmptiesTheRing) {
  Hub hub;
  auto a = std::make_shared<Recorder>();
  hub.Subscribe("markets", std::nullopt, a);
  hub.Publish("markets", "{}", 1);
  hub.ResetAll();
  ASSERT_EQ(a->frames.size(), 2u);
  EXPECT_EQ(a->frames[1], R"({"op":"reset","channel":"markets","seq":1})");
  auto b = std::make_shared<Recorder>();
  EXPECT_EQ(Strings(hub.Subscribe("markets", 0, b)).back(), R"({"op":"reset","channel":"markets","seq":1})");
}

TEST(HubTest, GoneSessionsAreSkippedAndLeavingRemovesEverySubscription) {
  Hub hub;
  auto a = std::make_shared<Recorder>();
  {
    auto gone = std::make_shared<Recorder>();
    hub.Subscribe("market:1", std::nullopt, gone);
  }
  hub.Subscribe("market:1", std::nullopt, a);
  hub.Subscribe("markets", std::nullopt, a);
  EXPECT_EQ(hub.Publish("market:1", "{}", 1), 1u);
  hub.Leave(a.get());
  EXPECT_EQ(hub.Publish("market:1", "{}", 2), 0u);
  EXPECT_EQ(hub.Publish("markets", "{}", 3), 0u);
}

TEST(HubTest, ConcurrentSubscribersSeeEveryUpdateOnceInOrder) {
  Hub hub({.replay = 100000});
  constexpr int kUpdates = 2000;
  std::thread publisher([&] {
    for (int i = 1; i <= kUpdates; ++i) hub.Publish("market:5", "{}", i);
  });
  std::vector<std::shared_ptr<Recorder>> subs;
  for (int i = 0; i < 20; ++i) {
    auto r = std::make_shared<Recorder>();
    const auto first = hub.Subscribe("market:5", 0, r);  // since 0: everything, replayed or live
    std::lock_guard lock(r->mu);
    std::vector<std::string> got = Strings(first);
    got.insert(got.end(), r->frames.begin(), r->frames.end());
    r->frames = got;
    subs.push_back(r);
  }
  publisher.join();
  for (const auto& r : subs) {
    std::lock_guard lock(r->mu);
    uint64_t expect = 1;
    for (size_t i = 1; i < r->frames.size(); ++i) {
      ASSERT_NE(r->frames[i].find(",\"seq\":" + std::to_string(expect) + ","), std::string::npos) << r->frames[i];
      ++expect;
    }
    EXPECT_EQ(expect, static_cast<uint64_t>(kUpdates) + 1);
  }
}

TEST(HubTest, FramesEscapeWhatTheyQuote) {
  EXPECT_EQ(ErrorFrame("bad \"op\"\n"), R"({"op":"error","reason":"bad \"op\""})");
}

}  // namespace
}  // namespace pmbench::realtime
