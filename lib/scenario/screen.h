// File: screen.h
//
// Click to screen: from the moment a user's action is sent to the moment every subscriber
// it concerns holds its effect. A bet is on screen when each subscriber of its market has
// received odds whose pools include it; a new market when each subscriber of "markets" has
// received it. Updates carry pools, not bets, so a bet is matched after the run from the
// database's commit order: pools only grow, so the first update of the market whose pools
// reach the running sums through that bet is the one that first showed it.
//
//   ScreenRecorder screen({{"market:1", 10}, {"markets", 500}});
//   ws_options.on_update = [&](auto channel, auto data, int64_t ns) { screen.Receipt(channel, data, ns); };
//   ...
//   ScreenLatency click = screen.Bets(committed_in_order, pools_before, sent_ns, deadline_ns);
#ifndef PMBENCH_SCENARIO_SCREEN_H_
#define PMBENCH_SCENARIO_SCREEN_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lib/stats/histogram.h"

namespace pmbench::scenario {

struct CommittedBet {
  std::string signature;
  int64_t market = 0;
  bool yes = false;
  int64_t amount = 0;
};

struct ScreenLatency {
  // Sent -> the last subscriber's receipt; actions some subscriber never received count at
  // the deadline (a run cannot pass p99 by losing its slowest).
  stats::LatencyHistogram latency;
  int64_t complete = 0;    // every subscriber received it
  int64_t incomplete = 0;  // some subscriber never did
  int64_t unwatched = 0;   // nobody subscribed to where it shows
  // An action sent at sent_ns, on screen at screen_ns (ScreenRecorder::kNever: some
  // subscriber never had it; nullopt: nobody watches where it shows).
  void Add(std::optional<int64_t> screen_ns, int64_t sent_ns, int64_t deadline_ns);
};

class ScreenRecorder {
 public:
  explicit ScreenRecorder(std::map<std::string, int> subscribers_per_channel);

  // A frame's data as a subscriber of `channel` received it at wall_ns; any thread.
  void Receipt(std::string_view channel, std::string_view data, int64_t wall_ns);

  // `committed`: the run's bets in the database's commit order; `pools_before`: each
  // market's (yes, no) pools before the run; `sent_ns`: each bet's send time by signature
  // (bets without one are not this run's and are skipped).
  ScreenLatency Bets(const std::vector<CommittedBet>& committed, const std::map<int64_t, std::pair<int64_t, int64_t>>& pools_before,
                     const std::unordered_map<std::string, int64_t>& sent_ns, int64_t deadline_ns) const;
  // `created`: (market id, send time) of each market created.
  ScreenLatency NewMarkets(const std::vector<std::pair<int64_t, int64_t>>& created, int64_t deadline_ns) const;

  // When each action was on these subscribers' screens: when the last of them received
  // it, or kNever when one never did; actions nobody here watches are left out. Shards'
  // recorders each hold a part of the subscribers: an action is on the whole run's screens
  // when every shard watching it has it, at the latest of their times.
  static constexpr int64_t kNever = -1;
  std::unordered_map<std::string, int64_t> BetScreens(const std::vector<CommittedBet>& committed,
                                                      const std::map<int64_t, std::pair<int64_t, int64_t>>& pools_before) const;
  std::map<int64_t, int64_t> MarketScreens(const std::vector<int64_t>& ids) const;

  int64_t receipts() const;

 private:
  struct Update {
    int64_t yes = 0, no = 0;
    std::string status;
    int receipts = 0;
    int64_t first_ns = 0, last_ns = 0;
  };
  int Subscribers(const std::string& channel) const;

  std::map<std::string, int> subscribers_;
  mutable std::mutex mu_;
  // channel -> market id -> its distinct updates (pools and status), each with its receipts
  std::map<std::pair<bool, int64_t>, std::map<std::tuple<int64_t, int64_t, std::string>, Update>> updates_;
  int64_t receipts_ = 0;
};

}  // namespace pmbench::scenario

#endif  // PMBENCH_SCENARIO_SCREEN_H_
