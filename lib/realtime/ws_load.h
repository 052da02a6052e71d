// File: ws_load.h
//
// The WebSocket load client: one process, a few threads (an io_context each), thousands of
// subscribers measuring what each one experiences — connect + subscribe time, update
// latency (receipt - the update's publish time), gaps in each channel's seq (lost updates),
// resets — and, through a receipt hook, fan-out completion. After the server drops them,
// every connection reconnects and resubscribes with `since` its last seq.
//
//   WsLoad load({.port = 8090, .connections = 500, .channels = {"market:1", "market:2"}});
//   load.Open();
//   ... updates flow ...
//   WsLoadStats s = load.Stats();   // s.update.Percentile(99), s.lost
#ifndef PMBENCH_REALTIME_WS_LOAD_H_
#define PMBENCH_REALTIME_WS_LOAD_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/realtime/ws_protocol.h"
#include "lib/stats/histogram.h"

namespace pmbench::metrics {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace pmbench::metrics

namespace pmbench::realtime {

struct WsLoadOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int connections = 500;
  int threads = 2;
  std::vector<std::string> channels;  // connection i subscribes to channels[i % size] (and the next ones)
  int channels_per_connection = 1;
  // Connection i is the run's connection first_index + index_stride x i for its channels:
  // a shard (--shard I/N) opens the run's connections I, I + N, ... and subscribes each as
  // one process would.
  int first_index = 0, index_stride = 1;
  std::vector<std::string> every_connection;  // channels every connection also subscribes to
  int connect_concurrency = 256;      // handshakes in flight at once
  // Called on every update received, from the client threads: its channel, data and the
  // receipt time (CLOCK_REALTIME ns).
  std::function<void(std::string_view channel, std::string_view data, int64_t wall_ns)> on_update;
  metrics::Histogram* update_latency = nullptr;  // also observes each update's latency (seconds)
  // Another server's protocol (ws_protocol.h); nullptr: pmbench realtime serve's own. Its
  // updates are counted, timed when they carry a timestamp and checked for gaps when they
  // carry a sequence; churn (Churn) and `since` are for the own protocol only.
  std::shared_ptr<const WsProtocol> protocol;
};

struct WsLoadStats {
  stats::LatencyHistogram connect;  // TCP connect + handshake + every "subscribed"
  stats::LatencyHistogram update;   // receipt - ts_ns, of the updates received
  int64_t received = 0, lost = 0, resets = 0, closed = 0, reconnects = 0, errors = 0;
  int64_t connected = 0;
  // Each seq gap: the publish time (ts_ns) of the update that revealed it, and how many
  // updates it skipped (published before that one).
  std::vector<std::pair<int64_t, int64_t>> gaps;
  // received / (received + lost); nothing when no update was sent.
  std::optional<double> success_ratio() const {
    if (received + lost == 0) return std::nullopt;
    return static_cast<double>(received) / static_cast<double>(received + lost);
  }
};

// What a latency bar must read: the received updates' latency, plus every lost one
// counted as received at `deadline_ns` (CLOCK_REALTIME; the end of the run), timed from
// the update that revealed its loss (published after it, so this is the least it waited).
stats::LatencyHistogram UpdateLatencyWithLosses(const WsLoadStats& s, int64_t deadline_ns);

// An integer field of an update's data as on_update receives it ("id", "yes_pool", ...);
// -1 when absent. No JSON parse: it runs on every receipt, from the client threads.
// The subscribers' side of WebSocket delivery as Prometheus series (pmbench_ws_*, labelled
// role): connections, updates received and lost, resets, reconnects, errors, and the
// update latency (publish -> receipt; give latency() to WsLoadOptions::update_latency).
// Update() with each Stats() snapshot.
class WsMetrics {
 public:
  WsMetrics(metrics::Registry& registry, const std::string& role);
  void Update(const WsLoadStats& s);
  metrics::Histogram* latency() { return &latency_; }

 private:
  metrics::Gauge& connected_;
  metrics::Counter &received_, &lost_, &resets_, &reconnects_, &errors_;
  metrics::Histogram& latency_;
};

int64_t UpdateIntField(std::string_view data, std::string_view key);

class WsLoad {
 public:
  explicit WsLoad(WsLoadOptions o);
  ~WsLoad();
  WsLoad(const WsLoad&) = delete;
  WsLoad& operator=(const WsLoad&) = delete;

  // Opens and subscribes every connection. Throws std::runtime_error when one cannot
  // connect within `timeout_s` (the rest are closed).
  void Open(double timeout_s = 60);
  // Opens or closes connections until `n` (at most `connections`) are open and subscribed:
  // a load shape over subscribers. Growing waits, as Open does; closing is at once, for good
  // (a closed connection is not reconnected, and may be opened again by a later growth).
  void Resize(int n, double timeout_s = 60);
  // Waits until every connection is open and caught up again (after the server dropped
  // them); returns the seconds it took, or throws std::runtime_error after `timeout_s`.
  double WaitAllCaughtUp(double timeout_s);
  // For `seconds`, `rate` times a second: a connection unsubscribes from one of its
  // channels and subscribes back with `since`. Returns the resubscriptions made.
  int64_t Churn(double rate, double seconds);

  WsLoadStats Stats() const;
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmbench::realtime

#endif  // PMBENCH_REALTIME_WS_LOAD_H_
