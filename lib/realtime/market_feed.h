// File: market_feed.h
//
// Turns the database's market changes into hub updates: follows the committed changes to
// `<schema>.markets` by logical decoding (db::ChangeStream, on a direct connection: a pooler
// cannot carry replication) and publishes each new market, pool change and status change to
// "market:<id>" and "markets". A transaction that emits the logical message
// pmbench.bulk_load (the seed) is not announced row by row. When the connection drops it
// reconnects with backoff and sends every channel a reset, so no subscriber silently
// misses an update.
//
//   MarketFeed feed(direct_url, "pmbench", hub);
//   feed.Start();    // throws std::runtime_error when the first connection fails (a
//                    // pooled URL, wal_level below logical, no REPLICATION privilege)
//   ...
//   feed.Stop();
#ifndef PMBENCH_REALTIME_MARKET_FEED_H_
#define PMBENCH_REALTIME_MARKET_FEED_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "lib/realtime/hub.h"

namespace pmbench::db {
class ChangeStream;
}  // namespace pmbench::db

namespace pmbench::realtime {

// The update's data for one decoded change (test_decoding's line) to `schema`.markets, or
// nullopt for another table or schema, a DELETE or a malformed line:
// {"id":..,"yes_pool":..,"no_pool":..,"odds_yes":..,"volume":..,"status":".."} and the id.
struct MarketChange {
  int64_t id = 0;
  std::string data;
};
std::optional<MarketChange> ParseMarketChange(std::string_view line, std::string_view schema);

class MarketFeed {
 public:
  MarketFeed(std::string url, std::string schema, Hub& hub) : url_(std::move(url)), schema_(std::move(schema)), hub_(hub) {}
  ~MarketFeed() { Stop(); }

  void Start();
  void Stop();

  int64_t notifications() const { return notifications_.load(); }  // market changes published
  int64_t reconnects() const { return reconnects_.load(); }
  bool connected() const { return connected_.load(); }

 private:
  void Loop(std::unique_ptr<db::ChangeStream> first);

  const std::string url_, schema_;
  Hub& hub_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, connected_{false};
  std::atomic<int64_t> notifications_{0}, reconnects_{0};
};

}  // namespace pmbench::realtime

#endif  // PMBENCH_REALTIME_MARKET_FEED_H_
