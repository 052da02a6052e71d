// File: hub.h
//
// The fan-out at the heart of the real-time server: channels ("market:42", "markets"), their
// subscribers, a sequence number per channel and a ring of its latest updates for replay.
// A broadcast is one immutable frame shared by every subscriber (Beast's chat-multi pattern).
// Frames are queued to subscribers under the channel's lock — Send only queues — so a
// subscriber's replay and the live updates after it arrive in seq order.
//
//   Hub hub({.replay = 256});
//   auto r = hub.Subscribe("market:42", /*since=*/17, session);   // frames to send first
//   hub.Publish("market:42", R"({"yes_pool":5,"no_pool":7,"odds_yes":0.41})", now_ns);
//
// Thread-safe. Sessions leave in their destructor (Leave), as the hub holds only weak
// references.
#ifndef PMBENCH_REALTIME_HUB_H_
#define PMBENCH_REALTIME_HUB_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pmbench::realtime {

// One frame as sent; ts_ns is its update's publish time (0 for control frames), for the
// publish -> send latency.
struct Message {
  std::string text;
  int64_t ts_ns = 0;
};
using Frame = std::shared_ptr<const Message>;

// A session as the hub sees it. Send must not block: it queues.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual void Send(Frame frame) = 0;
};

struct HubOptions {
  size_t replay = 256;  // updates kept per channel for `since`
};

struct HubStats {
  int64_t channels = 0, subscriptions = 0, published = 0, delivered = 0;
};

// "market:<id>" (id > 0) or "markets".
bool IsValidChannel(std::string_view channel);

class Hub {
 public:
  explicit Hub(HubOptions o = {}) : o_(o) {}

  struct Subscribed {
    std::vector<Frame> frames;  // "subscribed", then the replayed updates or a "reset"
  };
  // Registers `s` on `channel` and returns what it must be sent before any later update:
  // {"op":"subscribed",...,"seq":N} and, with `since`, the updates after it from the ring, or
  // {"op":"reset"} when the ring no longer holds them. Throws std::invalid_argument for an
  // unknown channel.
  Subscribed Subscribe(const std::string& channel, std::optional<uint64_t> since, const std::shared_ptr<Subscriber>& s);
  bool Unsubscribe(const std::string& channel, const Subscriber* s);
  void Leave(const Subscriber* s);

  // The next update of `channel`: seq + 1, `data` (a JSON object) and the publish time.
  // Returns how many subscribers it was queued for.
  size_t Publish(const std::string& channel, std::string_view data, int64_t ts_ns);
  // Every channel's subscribers get {"op":"reset"}: updates may have been missed (the
  // database connection dropped) and the client must reload the state.
  void ResetAll();

  HubStats stats() const;

 private:
  struct Channel {
    std::mutex mu;
    uint64_t seq = 0;
    std::deque<std::pair<uint64_t, Frame>> ring;
    std::vector<std::pair<const Subscriber*, std::weak_ptr<Subscriber>>> subscribers;
  };
  Channel& Get(const std::string& name);

  const HubOptions o_;
  mutable std::mutex mu_;  // guards the map, not the channels
  std::map<std::string, std::unique_ptr<Channel>, std::less<>> channels_;
  std::atomic<int64_t> published_{0}, delivered_{0};
};

// Frames, exactly as sent.
std::string SubscribedFrame(std::string_view channel, uint64_t seq);
std::string UpdateFrame(std::string_view channel, uint64_t seq, int64_t ts_ns, std::string_view data);
std::string ResetFrame(std::string_view channel, uint64_t seq);
std::string ErrorFrame(std::string_view reason);

}  // namespace pmbench::realtime

#endif  // PMBENCH_REALTIME_HUB_H_
