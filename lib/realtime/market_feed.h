// File: market_feed.h
//
// Turns the database's market changes into hub updates: LISTENs on a direct connection
// (the pooler cannot hold a LISTEN) to the notifications migration 005's trigger sends when
// a market's pools change, and publishes each to "market:<id>" and "markets". When the
// connection drops it reconnects with backoff and sends every channel a reset, so no
// subscriber silently misses an update.
//
//   MarketFeed feed(direct_url, "pmbench", hub);
//   feed.Start();    // throws std::runtime_error when the first connection fails or
//                    // hears nothing (a pooled URL)
//   ...
//   feed.Stop();
#ifndef PMBENCH_REALTIME_MARKET_FEED_H_
#define PMBENCH_REALTIME_MARKET_FEED_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "lib/realtime/hub.h"

namespace pmbench::db {
class ChannelListener;
}  // namespace pmbench::db

namespace pmbench::realtime {

// The notification channel migration 005's trigger uses.
inline constexpr std::string_view kMarketNotifyChannel = "pmbench_markets";

// The update's data for a notification payload of `schema`, or "" when it is for another
// schema or malformed: {"yes_pool":..,"no_pool":..,"odds_yes":..,"volume":..} and the market id.
struct MarketChange {
  int64_t id = 0;
  std::string data;
};
std::optional<MarketChange> ParseMarketChange(std::string_view payload, std::string_view schema);

class MarketFeed {
 public:
  MarketFeed(std::string url, std::string schema, Hub& hub) : url_(std::move(url)), schema_(std::move(schema)), hub_(hub) {}
  ~MarketFeed() { Stop(); }

  void Start();
  void Stop();

  int64_t notifications() const { return notifications_.load(); }
  int64_t reconnects() const { return reconnects_.load(); }
  bool connected() const { return connected_.load(); }

 private:
  void Loop(std::unique_ptr<db::ChannelListener> first);

  const std::string url_, schema_;
  Hub& hub_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, connected_{false};
  std::atomic<int64_t> notifications_{0}, reconnects_{0};
};

}  // namespace pmbench::realtime

#endif  // PMBENCH_REALTIME_MARKET_FEED_H_
