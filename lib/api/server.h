// File: server.h
//
// The platform's HTTP JSON API over Beast, on lib/queries and a body cache: the stand-in for
// the Next.js API routes, so `pmbench load http` and the scenarios drive the platform as
// browsers do.
//
//   GET  /api/markets?cursor=&category=&status=&order=volume|closes_at&limit=
//   GET  /api/markets/{id}
//   GET  /api/users/{wallet}/dashboard
//   GET  /api/leaderboard?limit=
//   POST /api/bets   {"wallet", "market_id", "side", "amount", "tx_signature"}
//   GET  /healthz
//
// Lists, market pages and the leaderboard go through the cache (none, memory or Redis);
// a bet placed here invalidates its market at once, and with `feed_url` every market change
// committed by anyone (logical decoding, lib/realtime/market_feed.h) does too. Bad input gets
// a 4xx with {"error": "..."} (400 bad JSON or arguments, 404 unknown path or market, 405
// wrong method, 409 closed market, 413 oversized body); a database that fails gets 503.
//
//   ApiServer api({.database = pooled_url, .feed_url = direct_url, .cache = "redis://127.0.0.1:6379"});
//   api.Start();   // throws std::runtime_error naming the address when it cannot listen
//   api.port();
#ifndef PMBENCH_API_SERVER_H_
#define PMBENCH_API_SERVER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "lib/api/body_cache.h"
#include "lib/queries/cache.h"

namespace pmbench::api {

struct ApiOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;              // 0: a free one
  std::string database;           // where queries go (the pooled URL)
  std::string feed_url;           // a direct URL to follow market changes by; "" : none
  std::string schema = "pmbench";
  int threads = 0;                // io threads; 0: one per core
  int db_connections = 16;        // workers, each with its own connection
  std::string cache = "none";     // none | memory | redis://host:port[/db]
  queries::CacheOptions cache_options;
  std::string cache_namespace;    // keys' prefix in a shared Redis; "" : the schema
  size_t body_limit = 16 * 1024;  // a larger request body gets 413
};

struct ApiCounters {
  int64_t requests = 0;
  std::array<int64_t, 6> by_class{};  // [2] 2xx ... [5] 5xx
  int64_t db_errors = 0;              // answered 503
  int64_t feed_invalidations = 0;     // market changes from the feed
  BodyCacheStats cache;
};

class ApiServer {
 public:
  // Throws std::invalid_argument for a bad schema name or cache spec.
  explicit ApiServer(ApiOptions o);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Connects the cache and the feed, binds and serves. Throws std::runtime_error naming what
  // failed (the address in use, Redis not answering, the feed's connection); nothing is left
  // running then.
  void Start();
  void Stop();
  uint16_t port() const;
  ApiCounters counters() const;

  struct Impl;  // lib/api/server.cc

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmbench::api

#endif  // PMBENCH_API_SERVER_H_
