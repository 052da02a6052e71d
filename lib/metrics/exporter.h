// File: exporter.h
//
// Serves a Registry to Prometheus: GET /metrics (text exposition) and /healthz over plain
// HTTP/1.1, one short connection at a time on its own thread. A scrape is a few KiB every
// second or so; nothing here needs more.
//
//   metrics::Exporter exporter(registry, "127.0.0.1:9464");  // port 0: a free one
//   exporter.Start();               // throws std::runtime_error naming the address
//   ... exporter.port() ...
#ifndef PMBENCH_METRICS_EXPORTER_H_
#define PMBENCH_METRICS_EXPORTER_H_

#include <cstdint>
#include <memory>
#include <string>

namespace pmbench::metrics {

class Registry;

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};
// "HOST:PORT" (an IPv6 host in brackets). Throws std::invalid_argument naming the text.
ListenAddress ParseListen(const std::string& text);

class Exporter {
 public:
  Exporter(const Registry& registry, const std::string& listen);
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  void Start();
  void Stop();
  uint16_t port() const;
  std::string host() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmbench::metrics

#endif  // PMBENCH_METRICS_EXPORTER_H_
