// File: logs_source.h
//
// A live input for the listener: Solana's logsSubscribe over WebSocket (mentions = the
// platform's address, at a commitment level), delivering logsNotification lines as
// Ingest reads them. After a lost socket it reconnects with backoff, subscribes again and
// only then catches up what it missed — getSignaturesForAddress back to the last
// signature it delivered (or the checkpoint's, at start) and getTransaction for each —
// so nothing is lost in the gap; signatures seen twice are delivered once.
//
//   LogsSource src({.url = "ws://127.0.0.1:8899", .mentions = treasury, .resume_after = sig});
//   listener::Ingest([&](std::string& l, Clock::time_point& t) { return src.Next(l, t); }, options);
#ifndef PMBENCH_CHAIN_LOGS_SOURCE_H_
#define PMBENCH_CHAIN_LOGS_SOURCE_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "lib/chain/ed25519.h"

namespace pmbench::chain {

struct LogsSourceOptions {
  std::string url;                        // ws:// or wss:// (the RPC: same host and port, http(s)://)
  PublicKey mentions{};
  std::string commitment = "confirmed";   // confirmed or finalized: no rolled-back slots
  std::string resume_after;               // a signature: catch up everything after it first
  double reconnect_max_s = 2;             // backoff cap between connection attempts
  double give_up_after_s = 60;            // Next throws when unconnected this long
  // After each subscription (and its catch-up), on the thread calling Next: from then on
  // nothing at the address is missed.
  std::function<void()> on_subscribed;
};

struct LogsSourceStats {
  uint64_t live = 0, caught_up = 0, duplicates = 0, reconnects = 0;
};

class LogsSource {
 public:
  using Clock = std::chrono::steady_clock;

  // Throws std::invalid_argument for a URL that is not ws[s]://host:port[/path].
  explicit LogsSource(LogsSourceOptions options);
  ~LogsSource();

  // The next notification line; false once Stop() was called. Throws std::runtime_error
  // when the node stays unreachable past give_up_after_s.
  bool Next(std::string& line, Clock::time_point& arrival);
  // Thread-safe: makes Next return false within ~0.2 s.
  void Stop();
  LogsSourceStats Stats() const;
  // The newest signature delivered so far ("" before the first).
  std::string last_signature() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmbench::chain

#endif  // PMBENCH_CHAIN_LOGS_SOURCE_H_
