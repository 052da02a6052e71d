// File: cache.h
//
// An in-process read-through cache for the query paths, callback-shaped so the
// asynchronous load engine can use it without blocking a thread:
//  - fresh for `ttl`: served from memory;
//  - then stale for `stale`: served at once while one refresh runs (stale-while-revalidate);
//  - missing or older: concurrent misses on one key share one load (single-flight);
//  - Invalidate(tag): entries tagged with a market are dropped when a bet moves it, and a
//    load already running for them is not stored (it may have read the old pools).
//
//   Cache<MarketPage> cache({.ttl = 1s, .stale = 4s});
//   cache.Get("markets:open:volume", tags, [&](Cache<MarketPage>::Done done) {
//     RunQueryAsync(..., [done](MarketPage p) { done(std::make_shared<MarketPage>(p), ""); });
//   }, [](Cache<MarketPage>::Value v, const std::string& error) { ... });
//
// Thread-safe. Callbacks run on the thread that completes the load (or the caller's, on a
// hit), never under the cache's lock.
#ifndef PMBENCH_QUERIES_CACHE_H_
#define PMBENCH_QUERIES_CACHE_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pmbench::queries {

struct CacheOptions {
  std::chrono::nanoseconds ttl = std::chrono::seconds(1);
  std::chrono::nanoseconds stale = std::chrono::seconds(5);
  // Injected in tests; steady_clock otherwise.
  std::function<std::chrono::steady_clock::time_point()> now;
};

struct CacheStats {
  int64_t hits = 0;       // served fresh
  int64_t stale = 0;      // served stale while a refresh ran
  int64_t misses = 0;     // waited for a load
  int64_t coalesced = 0;  // misses that joined a load already running
  int64_t loads = 0;      // loads started
  int64_t invalidated = 0;
};

template <typename V>
class Cache {
 public:
  using Value = std::shared_ptr<const V>;
  using Done = std::function<void(Value, const std::string& error)>;
  using Loader = std::function<void(Done)>;  // must call its argument exactly once

  // `tags_of` adds tags read from a loaded value (the markets a page lists).
  explicit Cache(CacheOptions o = {}, std::function<std::vector<int64_t>(const V&)> tags_of = {})
      : o_(std::move(o)), tags_of_(std::move(tags_of)) {
    if (!o_.now) o_.now = [] { return std::chrono::steady_clock::now(); };
  }

  // Serves `key`; `tags` (market ids) are what invalidates it. `load` runs only when no
  // fresh or servable stale value exists and no load for the key is running.
  void Get(const std::string& key, std::vector<int64_t> tags, const Loader& load, Done done) {
    const auto now = o_.now();
    Value serve;
    bool start = false;
    uint64_t generation = 0;
    {
      std::lock_guard lock(mu_);
      Entry& e = entries_[key];
      if (e.value && now < e.fresh_until) {
        ++stats_.hits;
        serve = e.value;
      } else if (e.value && now < e.stale_until) {
        ++stats_.stale;
        serve = e.value;
        start = !e.loading;
      } else {
        ++stats_.misses;
        if (e.loading) ++stats_.coalesced;
        start = !e.loading;
        e.waiters.emplace_back(e.generation, std::move(done));
      }
      if (start) {
        e.loading = true;
        e.tags = std::move(tags);
        generation = e.generation;
        ++stats_.loads;
      }
    }
    if (serve) done(serve, "");
    if (start) {
      load([this, key, generation](Value v, const std::string& error) { Finish(key, generation, std::move(v), error); });
    }
  }

  // Drops every entry tagged with `tag`; loads running for them finish for their waiters
  // but are not kept.
  void Invalidate(int64_t tag) {
    std::lock_guard lock(mu_);
    for (auto& [key, e] : entries_) {
      if (std::find(e.tags.begin(), e.tags.end(), tag) == e.tags.end()) continue;
      e.value.reset();
      ++e.generation;
      e.loading = false;  // the running load read the old state: the next Get starts another
      ++stats_.invalidated;
    }
  }

  void Clear() {
    std::lock_guard lock(mu_);
    for (auto& [key, e] : entries_) {
      e.value.reset();
      ++e.generation;
      e.loading = false;
    }
  }

  CacheStats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  struct Entry {
    Value value;
    std::chrono::steady_clock::time_point fresh_until, stale_until;
    std::vector<int64_t> tags;
    std::vector<std::pair<uint64_t, Done>> waiters;  // with the generation they wait for
    bool loading = false;     // a load of the current generation is running
    uint64_t generation = 0;  // bumped by invalidation: a load started before is not stored
  };

  void Finish(const std::string& key, uint64_t generation, Value v, const std::string& error) {
    std::vector<Done> waiters;
    {
      std::lock_guard lock(mu_);
      Entry& e = entries_[key];
      auto mine = std::stable_partition(e.waiters.begin(), e.waiters.end(),
                                        [&](const auto& w) { return w.first != generation; });
      for (auto it = mine; it != e.waiters.end(); ++it) waiters.push_back(std::move(it->second));
      e.waiters.erase(mine, e.waiters.end());
      if (e.generation == generation) e.loading = false;
      if (v && error.empty() && e.generation == generation) {
        const auto now = o_.now();
        e.value = v;
        if (tags_of_) {
          for (int64_t t : tags_of_(*v)) e.tags.push_back(t);
        }
        e.fresh_until = now + o_.ttl;
        e.stale_until = e.fresh_until + o_.stale;
      }
    }
    for (auto& w : waiters) w(v, error);
  }

  CacheOptions o_;
  std::function<std::vector<int64_t>(const V&)> tags_of_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  CacheStats stats_;
};

}  // namespace pmbench::queries

#endif  // PMBENCH_QUERIES_CACHE_H_
