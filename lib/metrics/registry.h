// File: registry.h
//
// Prometheus metrics for pmbench's long-running parts (the listener, the load generators):
// counters, gauges and histograms updated lock-free from any thread, rendered in the text
// exposition format (version 0.0.4) when scraped. Names follow Prometheus' conventions:
// base units (`_seconds`, `_bytes`), `_total` on counters.
//
//   metrics::Registry r;
//   auto& done = r.AddCounter("pmbench_load_requests_total", "Requests answered.", {{"outcome", "ok"}});
//   auto& lat = r.AddHistogram("pmbench_load_request_duration_seconds", "From the intended start.");
//   done.Inc();
//   lat.Observe(0.012);
//   r.AddGaugeFn("pmbench_ingest_checkpoint_slot", "Last slot committed.", {}, [&] { return slot; });
//   std::string text = r.Text();
#ifndef PMBENCH_METRICS_REGISTRY_H_
#define PMBENCH_METRICS_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace pmbench::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(double v = 1) { v_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Gauge {
 public:
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  void Add(double v) { v_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Fixed upper bounds (le), cumulative only when rendered: an observation is one increment.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Per bucket (not cumulative), the last one past every bound (+Inf).
  std::vector<uint64_t> counts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

// 1 ms .. 30 s: the story's SLAs (100 ms, 1 s, 2 s) fall on bounds, so a histogram_quantile
// near them is exact at the bar.
std::vector<double> LatencyBuckets();

class Registry {
 public:
  // Same name and labels again: the same series. Throws std::invalid_argument for a name
  // or label Prometheus would reject, or a name already registered as another type.
  Counter& AddCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& AddGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& AddHistogram(const std::string& name, const std::string& help, const Labels& labels = {},
                          std::vector<double> bounds = LatencyBuckets());
  // Read when scraped (from the scraping thread): a value the owner already keeps.
  void AddGaugeFn(const std::string& name, const std::string& help, const Labels& labels, std::function<double()> read);

  // Text in the exposition format, made when scraped and appended as it is: families whose
  // series come and go with what they describe (pgbouncer's pools).
  void AddCollector(std::function<std::string()> text);

  std::string Text() const;

 private:
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
  };
  struct Family {
    std::string type, help;
    std::vector<std::unique_ptr<Series>> series;
  };
  Series& Find(const std::string& name, const std::string& help, const std::string& type, const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::vector<std::function<std::string()>> collectors_;
};

// Exposition-format number: integers without a fraction, +Inf/-Inf/NaN spelled out.
std::string FormatValue(double v);

}  // namespace pmbench::metrics

#endif  // PMBENCH_METRICS_REGISTRY_H_
