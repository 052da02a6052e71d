#include "lib/queries/cache.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace pmbench::queries {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// A clock the test moves, and a loader whose completions the test releases.
struct Harness {
  Clock::time_point now{};
  Cache<int> cache{{.ttl = seconds(1), .stale = seconds(4), .now = [this] { return now; }}};
  std::mutex mu;
  std::vector<Cache<int>::Done> pending;
  std::atomic<int> loads{0};

  Cache<int>::Loader Deferred() {
    return [this](Cache<int>::Done d) {
      ++loads;
      std::lock_guard lock(mu);
      pending.push_back(std::move(d));
    };
  }
  static Cache<int>::Loader Immediate(int v) {
    return [v](Cache<int>::Done d) { d(std::make_shared<const int>(v), ""); };
  }
  void Complete(size_t i, int v) {
    Cache<int>::Done d;
    {
      std::lock_guard lock(mu);
      d = std::move(pending.at(i));
    }
    d(std::make_shared<const int>(v), "");
  }
  int Get(const std::string& key, const Cache<int>::Loader& load, std::vector<int64_t> tags = {}) {
    int got = -1;
    cache.Get(key, std::move(tags), load, [&](Cache<int>::Value v, const std::string&) { got = v ? *v : -2; });
    return got;  // -1: still waiting
  }
};

TEST(CacheTest, FreshValuesAreServedWithoutALoad) {
  Harness h;
  EXPECT_EQ(h.Get("k", Harness::Immediate(1)), 1);
  h.now += std::chrono::milliseconds(999);
  EXPECT_EQ(h.Get("k", Harness::Immediate(2)), 1);
  EXPECT_EQ(h.cache.stats().hits, 1);
  EXPECT_EQ(h.cache.stats().loads, 1);
}

TEST(CacheTest, ConcurrentMissesShareOneLoad) {
  Harness h;
  std::atomic<int> answered{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        h.cache.Get("k", {}, h.Deferred(), [&](Cache<int>::Value v, const std::string&) {
          if (!v || *v != 42) ++wrong;
          ++answered;
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.loads.load(), 1);
  EXPECT_EQ(answered.load(), 0);  // nobody answered before the one load finished
  h.Complete(0, 42);
  EXPECT_EQ(answered.load(), 200);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(h.cache.stats().coalesced, 199);
}

TEST(CacheTest, StaleValuesAreServedWhileOneRefreshRuns) {
  Harness h;
  EXPECT_EQ(h.Get("k", Harness::Immediate(1)), 1);
  h.now += seconds(2);  // past ttl, within stale
  EXPECT_EQ(h.Get("k", h.Deferred()), 1);
  EXPECT_EQ(h.Get("k", h.Deferred()), 1);
  EXPECT_EQ(h.loads.load(), 1);  // one refresh for both
  h.Complete(0, 2);
  EXPECT_EQ(h.Get("k", h.Deferred()), 2);
  EXPECT_EQ(h.cache.stats().stale, 2);

  h.now += seconds(6);  // past ttl + stale: the caller waits for the load
  EXPECT_EQ(h.Get("k", h.Deferred()), -1);
  h.Complete(1, 3);
  EXPECT_EQ(h.Get("k", h.Deferred()), 3);
}

TEST(CacheTest, InvalidationDropsTaggedEntriesAndDiscardsLoadsInFlight) {
  Harness h;
  EXPECT_EQ(h.Get("market:7", Harness::Immediate(7), {7}), 7);
  EXPECT_EQ(h.Get("market:8", Harness::Immediate(8), {8}), 8);
  EXPECT_EQ(h.Get("list", Harness::Immediate(78), {7, 8}), 78);
  h.cache.Invalidate(7);
  EXPECT_EQ(h.Get("market:8", Harness::Immediate(0), {8}), 8);  // untouched
  EXPECT_EQ(h.Get("market:7", Harness::Immediate(70), {7}), 70);
  EXPECT_EQ(h.Get("list", h.Deferred(), {7, 8}), -1);  // dropped: reloads

  // A bet lands while that load runs: its result reaches its own waiter only, and the next
  // reader starts a load of its own instead of joining the outdated one.
  int old_waiter = -1;
  h.cache.Get("list", {7, 8}, h.Deferred(), [&](Cache<int>::Value v, const std::string&) { old_waiter = *v; });
  h.cache.Invalidate(8);
  int new_waiter = -1;
  h.cache.Get("list", {7, 8}, h.Deferred(), [&](Cache<int>::Value v, const std::string&) { new_waiter = *v; });
  EXPECT_EQ(h.loads.load(), 2);
  h.Complete(0, 780);
  EXPECT_EQ(old_waiter, 780);
  EXPECT_EQ(new_waiter, -1);
  h.Complete(1, 781);
  EXPECT_EQ(new_waiter, 781);
  EXPECT_EQ(h.Get("list", h.Deferred(), {7, 8}), 781);
}

TEST(CacheTest, TagsCanComeFromTheLoadedValue) {
  // A page's value lists its markets: 3 and 4.
  Cache<std::vector<int64_t>> cache({}, [](const std::vector<int64_t>& v) { return v; });
  int loads = 0;
  const auto load = [&](Cache<std::vector<int64_t>>::Done d) {
    ++loads;
    d(std::make_shared<const std::vector<int64_t>>(std::vector<int64_t>{3, 4}), "");
  };
  const auto ignore = [](Cache<std::vector<int64_t>>::Value, const std::string&) {};
  cache.Get("page", {}, load, ignore);
  cache.Invalidate(5);
  cache.Get("page", {}, load, ignore);
  EXPECT_EQ(loads, 1);
  cache.Invalidate(4);
  cache.Get("page", {}, load, ignore);
  EXPECT_EQ(loads, 2);
}

TEST(CacheTest, FailedLoadsReachTheirWaitersAndAreNotKept) {
  Harness h;
  std::string error;
  h.cache.Get("k", {}, [](Cache<int>::Done d) { d(nullptr, "server gone"); },
              [&](Cache<int>::Value v, const std::string& e) {
                EXPECT_FALSE(v);
                error = e;
              });
  EXPECT_EQ(error, "server gone");
  EXPECT_EQ(h.Get("k", Harness::Immediate(5)), 5);
  EXPECT_EQ(h.cache.stats().loads, 2);
}

}  // namespace
}  // namespace pmbench::queries
