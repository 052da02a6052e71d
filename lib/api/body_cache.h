// File: body_cache.h
//
// The API server's cache of answer bodies, with the in-process cache's semantics
// (lib/queries/cache.h: fresh for ttl, then served stale for `stale` while one refresh runs,
// concurrent misses sharing one load, tags that invalidate an entry and a load already under
// way) in two backends:
//  - memory: one process's (queries::Cache);
//  - redis://host:port[/db]: shared by every process using the same Redis. Freshness is
//    wall-clock time stored with the body; single flight across processes is a lock key
//    (SET NX PX) beside an in-process one; invalidation bumps a generation key that a load
//    started before it must match to be stored (a Lua compare-and-set), so a load that read
//    the old state never lands. A Redis that fails is counted and bypassed: the answer
//    comes from the loader, never an error.
//
//   auto cache = MakeBodyCache("redis://127.0.0.1:6379", {.ttl = 1s}, "pmbench");
//   cache->Get("market:7", {7}, [&](BodyCache::LoadDone done) { done(Render(...), {}, ""); },
//              [&](BodyCache::Value body, const std::string& error) { Respond(...); });
//   cache->Invalidate(7);
//
// Thread-safe; loaders and callbacks run on the caller's thread or the one completing a load.
#ifndef PMBENCH_API_BODY_CACHE_H_
#define PMBENCH_API_BODY_CACHE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/queries/cache.h"

namespace pmbench::api {

struct BodyCacheStats : queries::CacheStats {
  int64_t backend_errors = 0;  // Redis calls that failed (answers were loaded instead)
};

class BodyCache {
 public:
  using Value = std::shared_ptr<const std::string>;
  using Done = std::function<void(Value body, const std::string& error)>;
  // A load's result: the body, tags read from it (the markets a page lists), or an error.
  using LoadDone = std::function<void(std::string body, std::vector<int64_t> tags, const std::string& error)>;
  using Loader = std::function<void(LoadDone)>;  // must call its argument exactly once

  virtual ~BodyCache() = default;
  virtual void Get(const std::string& key, std::vector<int64_t> tags, const Loader& load, Done done) = 0;
  virtual void Invalidate(int64_t tag) = 0;
  virtual void Clear() = 0;  // after the feed lost updates: nothing cached can be trusted
  virtual BodyCacheStats stats() const = 0;
  virtual std::string name() const = 0;  // memory, redis
};

// "memory" or "redis://host:port[/db]"; `ns` keeps apart the keys of different schemas on
// one Redis. Throws std::invalid_argument for another spec and std::runtime_error naming the
// address when Redis does not answer PING.
std::unique_ptr<BodyCache> MakeBodyCache(const std::string& spec, queries::CacheOptions o, const std::string& ns);

}  // namespace pmbench::api

#endif  // PMBENCH_API_BODY_CACHE_H_
