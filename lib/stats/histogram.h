// File: histogram.h
//
// LatencyHistogram records latencies in integer nanoseconds, in the manner of
// HdrHistogram: log-linear buckets, 128 linear sub-buckets per power of two, so a
// percentile is the top of the bucket holding the exact nearest-rank value: never below
// it and less than 0.8% (1/128) above it, from 1 ns to 2^42 ns (73 min).
// Recording is O(1), never allocates, and memory is fixed (~37 KiB). Merging adds
// bucket counts, so the merge of two histograms is exactly the histogram of the union
// of their samples; the JSON form lets another process merge too.
//
//   pmbench::stats::LatencyHistogram h;
//   h.Record(elapsed_ns);
//   double p99 = h.Percentile(99.0);   // ns
//   other.Merge(h);
#ifndef PMBENCH_STATS_HISTOGRAM_H_
#define PMBENCH_STATS_HISTOGRAM_H_

#include <array>
#include <bit>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "lib/stats/uint128.h"

namespace pmbench::stats {

// The nearest rank of percentile p (in [0, 100], up to four decimals) among n samples:
// ceil(p * n / 100) computed exactly, at least 1; 0 when n is 0.
uint64_t NearestRank(double p, uint64_t n) noexcept;

class LatencyHistogram {
 public:
  // Values are exact below 256 ns; above, a bucket is 1/128 of its power of two.
  static constexpr int kSubBucketBits = 7;
  static constexpr int kMaxBits = 42;  // 2^42 ns ~ 73 minutes, above the 1 h we promise.
  static constexpr int64_t kHighestTrackable = (int64_t{1} << kMaxBits) - 1;
  static constexpr int kBucketCount =
      ((kMaxBits - kSubBucketBits - 1) << kSubBucketBits) + (1 << (kSubBucketBits + 1));

  // Negative values count as 0; values above kHighestTrackable land in the last bucket,
  // but min/max/mean keep the exact value.
  void Record(int64_t ns) noexcept {
    const int64_t v = ns < 0 ? 0 : ns;
    ++counts_[IndexOf(v > kHighestTrackable ? kHighestTrackable : v)];
    ++count_;
    sum_ += static_cast<Uint128>(v);
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
  }

  void Merge(const LatencyHistogram& other) noexcept;
  void Reset() noexcept { *this = LatencyHistogram(); }

  uint64_t count() const noexcept { return count_; }
  // Exact, from the recorded values; 0 when empty.
  int64_t min() const noexcept { return count_ ? min_ : 0; }
  int64_t max() const noexcept { return count_ ? max_ : 0; }
  double mean() const noexcept;
  // Nearest-rank percentile, p in [0, 100] (rank NearestRank(p, count)): exact at the first
  // and last rank, otherwise the highest value of the bucket that holds it, clamped to
  // [min, max]; 0 when empty.
  double Percentile(double p) const noexcept;

  // Sparse JSON: {"format":"pmbench-histogram-v1", "count", "min_ns", "max_ns", "sum_ns",
  // "buckets":[[index,count],...]}. FromJson throws std::invalid_argument on bad input.
  std::string ToJson() const;
  static LatencyHistogram FromJson(const std::string& json);
  // The histogram whose samples fill `buckets` ((index, count) pairs, as ToJson lists them)
  // with the given exact extremes and sum; throws std::invalid_argument on an index out of
  // range or min > max. What an interval log (interval_series.h) rebuilds an interval from.
  static LatencyHistogram FromBuckets(const std::vector<std::pair<int, uint64_t>>& buckets, int64_t min_ns,
                                      int64_t max_ns, Uint128 sum_ns);

  friend bool operator==(const LatencyHistogram&, const LatencyHistogram&) = default;

  static constexpr int IndexOf(int64_t v) noexcept {
    const auto u = static_cast<uint64_t>(v);
    if (u < (uint64_t{1} << (kSubBucketBits + 1))) return static_cast<int>(u);
    const int shift = std::bit_width(u) - 1 - kSubBucketBits;
    return (shift << kSubBucketBits) + static_cast<int>(u >> shift);
  }
  // Smallest value and width of bucket `index`.
  static constexpr int64_t BucketLow(int index) noexcept {
    if (index < (1 << (kSubBucketBits + 1))) return index;
    const int shift = (index >> kSubBucketBits) - 1;
    const int64_t sub = index - (shift << kSubBucketBits);
    return sub << shift;
  }
  static constexpr int64_t BucketWidth(int index) noexcept {
    if (index < (1 << (kSubBucketBits + 1))) return 1;
    return int64_t{1} << ((index >> kSubBucketBits) - 1);
  }

 private:
  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t count_ = 0;
  Uint128 sum_ = 0;
  int64_t min_ = std::numeric_limits<int64_t>::max();
  int64_t max_ = 0;
};

}  // namespace pmbench::stats

#endif  // PMBENCH_STATS_HISTOGRAM_H_
