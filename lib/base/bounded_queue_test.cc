#include "lib/base/bounded_queue.h"

#include <atomic>
#include <numeric>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace pmbench::base {
namespace {

TEST(BoundedQueueTest, EveryItemReachesExactlyOneConsumer) {
  BoundedQueue<int> q(3);
  std::atomic<long> sum{0};
  std::atomic<int> count{0};
  std::vector<std::jthread> consumers;
  for (int c = 0; c < 4; ++c) {
    consumers.emplace_back([&] {
      while (auto item = q.Pop()) {
        sum += *item;
        ++count;
      }
    });
  }
  for (int i = 1; i <= 10'000; ++i) ASSERT_TRUE(q.Push(i));
  q.Finish();
  consumers.clear();  // joins
  EXPECT_EQ(count.load(), 10'000);
  EXPECT_EQ(sum.load(), 10'000L * 10'001 / 2);
}

TEST(BoundedQueueTest, NeverHoldsMoreThanItsCapacity) {
  BoundedQueue<int> q(2);
  EXPECT_TRUE(q.Push(1));
  EXPECT_TRUE(q.Push(2));
  std::atomic<bool> third_pushed{false};
  std::jthread producer([&] {
    q.Push(3);
    third_pushed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // give a wrong queue time to accept
  EXPECT_FALSE(third_pushed.load());
  EXPECT_EQ(q.Pop(), 1);
  producer.join();
  EXPECT_TRUE(third_pushed.load());
}

TEST(BoundedQueueTest, CloseReleasesABlockedProducerAndStopsConsumers) {
  BoundedQueue<int> q(1);
  EXPECT_TRUE(q.Push(1));
  std::atomic<int> result{-1};
  std::jthread producer([&] { result = q.Push(2) ? 1 : 0; });
  q.Close();
  producer.join();
  EXPECT_EQ(result.load(), 0);
  EXPECT_FALSE(q.Pop().has_value());
}

TEST(BoundedQueueTest, PopUntilTellsATimeoutFromTheEnd) {
  BoundedQueue<int> q(2);
  bool timed_out = false;
  const auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
  EXPECT_FALSE(q.PopUntil(soon, timed_out).has_value());
  EXPECT_TRUE(timed_out);
  q.Push(7);
  EXPECT_EQ(q.PopUntil(soon, timed_out), 7);
  EXPECT_FALSE(timed_out);
  q.Finish();
  EXPECT_FALSE(q.PopUntil(std::chrono::steady_clock::now() + std::chrono::seconds(5), timed_out).has_value());
  EXPECT_FALSE(timed_out);
}

}  // namespace
}  // namespace pmbench::base
