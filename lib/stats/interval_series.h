// File: interval_series.h
//
// A latency histogram per interval of a run (1 s by default), in the manner of
// HdrHistogram's interval log: each interval keeps the same buckets as LatencyHistogram,
// sparsely, so merging two series (two threads, two processes) is exact, and so is any
// interval's percentile or the whole run's. Each sample also says whether it succeeded, so
// errors and throughput come out per interval too.
//
//   IntervalSeries s(/*interval_s=*/1);
//   s.Record(seconds_since_start, latency_ns, ok);
//   for (size_t i = 0; i < s.size(); ++i) s.Histogram(i).Percentile(95);
#ifndef PMBENCH_STATS_INTERVAL_SERIES_H_
#define PMBENCH_STATS_INTERVAL_SERIES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/stats/histogram.h"

namespace pmbench::stats {

class IntervalSeries {
 public:
  IntervalSeries() : IntervalSeries(1) {}
  // Throws std::invalid_argument unless interval_s > 0.
  explicit IntervalSeries(double interval_s);

  // A sample that ended `t_s` seconds after the run's start; t_s < 0 counts as 0.
  void Record(double t_s, int64_t ns, bool ok = true);
  // Adds every interval of `other`; throws std::invalid_argument when the intervals differ.
  void Merge(const IntervalSeries& other);

  double interval_s() const { return interval_s_; }
  size_t size() const { return intervals_.size(); }  // through the last interval with a sample
  uint64_t count(size_t i) const { return i < intervals_.size() ? intervals_[i].count : 0; }
  uint64_t errors(size_t i) const { return i < intervals_.size() ? intervals_[i].errors : 0; }
  // Interval i's samples as a histogram (exact: the same buckets as recording them there).
  LatencyHistogram Histogram(size_t i) const;
  // Every interval in [from, to) merged.
  LatencyHistogram Histogram(size_t from, size_t to) const;

  // {"format":"pmbench-interval-log-v1","interval_s":1,"intervals":[{"t_s":0,"count":..,
  // "errors":..,"min_ns","max_ns","sum_ns","buckets":[[index,count],..],"p50_ms","p95_ms",
  // "p99_ms"},..]}; the percentiles are derived, for readers, and ignored by FromJson.
  std::string ToJson() const;
  // Throws std::invalid_argument on a malformed log.
  static IntervalSeries FromJson(const std::string& json);

  friend bool operator==(const IntervalSeries&, const IntervalSeries&) = default;

 private:
  struct Interval {
    std::map<int, uint64_t> buckets;  // LatencyHistogram's index -> samples
    uint64_t count = 0, errors = 0;
    int64_t min = 0, max = 0;
    Uint128 sum = 0;  // ns
    friend bool operator==(const Interval&, const Interval&) = default;
  };
  Interval& At(size_t i);

  double interval_s_;
  std::vector<Interval> intervals_;
};

// The first interval, at or after `from`, from which every interval with samples until the
// end has p(`percentile`) <= `limit_ns`; nullopt when it never gets back under it, or when
// no interval from `from` on has samples (nothing measured is not a recovery).
// With from = the end of a spike, (result - from) * interval_s is the recovery time.
std::optional<size_t> RecoveredAt(const IntervalSeries& s, size_t from, double percentile, double limit_ns);

// Least-squares slope of y over x (per unit of x); 0 with fewer than two points.
double Slope(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace pmbench::stats

#endif  // PMBENCH_STATS_INTERVAL_SERIES_H_
