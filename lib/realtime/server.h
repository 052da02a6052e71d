// File: server.h
//
// The fan-out WebSocket server (Boost.Beast, asynchronous): one io_context thread per core,
// a strand per connection, the hub's shared frames, a bounded send queue per session.
// Endpoint /realtime speaks the JSON protocol of hub.h; /healthz and /metrics (Prometheus
// text) answer plain HTTP on the same port.
//
//   Hub hub;
//   Server server({.port = 0}, hub);
//   server.Start();                 // throws std::runtime_error when the port is taken
//   ... server.port() ...
//   server.Stop();
#ifndef PMBENCH_REALTIME_SERVER_H_
#define PMBENCH_REALTIME_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "lib/realtime/hub.h"

namespace pmbench::realtime {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;                // 0: a free port (see port())
  int threads = 0;                  // 0: one per core
  size_t queue_messages = 4096;     // a session's unsent frames before it is a slow consumer
  size_t queue_bytes = 8u << 20;    // ... or bytes
  size_t max_frame = 4096;          // largest client frame; larger closes with 1009
  size_t max_subscriptions = 1000;  // per connection
  int max_ops_per_s = 1000;         // client messages per second per connection; beyond: 1008
  double idle_timeout_s = 30;       // Beast pings an idle peer, then closes it if silent
  double drain_timeout_s = 5;       // Stop: how long open sessions get to flush and close
};

class Server {
 public:
  Server(ServerOptions o, Hub& hub);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the threads. Throws std::runtime_error naming the address when it
  // cannot listen (in use, not local).
  void Start();
  // Closes the listener; sends every open session its queued frames, then a close 1001
  // (going away); waits up to drain_timeout_s for them to close; then stops the threads.
  void Stop();
  uint16_t port() const;
  // Prometheus text exposition of the counters (also served at /metrics).
  std::string MetricsText() const;

  struct Counters {
    int64_t connections = 0, connections_total = 0, messages_sent = 0, bytes_sent = 0;
    int64_t slow_consumers = 0, bad_frames = 0, floods = 0;
  };
  Counters counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmbench::realtime

#endif  // PMBENCH_REALTIME_SERVER_H_
