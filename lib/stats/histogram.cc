#include "lib/stats/histogram.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace pmbench::stats {

void LatencyHistogram::Merge(const LatencyHistogram& other) noexcept {
  for (int i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double LatencyHistogram::mean() const noexcept {
  return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
}

uint64_t NearestRank(double p, uint64_t n) noexcept {
  if (n == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // In integers: ceil(0.999 * 1000) is 1000 in floating point, which turned p99.9 of 1,000
  // samples into the maximum. Percent to parts per million is exact for every p written
  // with up to four decimals (99.9, 99.99, 99.9999).
  const auto ppm = static_cast<Uint128>(std::llround(p * 10'000));
  const Uint128 rank = (ppm * n + 999'999) / 1'000'000;
  return std::max<uint64_t>(1, static_cast<uint64_t>(rank));
}

double LatencyHistogram::Percentile(double p) const noexcept {
  if (count_ == 0) return 0.0;
  const uint64_t rank = NearestRank(p, count_);
  // The extremes are known exactly; buckets only serve the ranks between.
  if (rank == 1) return static_cast<double>(min_);
  if (rank >= count_) return static_cast<double>(max_);
  uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The bucket's highest value, as HdrHistogram reports: a percentile is never below
      // the exact one, so a latency bar cannot pass on rounding.
      const int64_t top = BucketLow(i) + BucketWidth(i) - 1;
      return static_cast<double>(std::clamp(top, min_, max_));
    }
  }
  return static_cast<double>(max_);
}

std::string LatencyHistogram::ToJson() const {
  nlohmann::json buckets = nlohmann::json::array();
  for (int i = 0; i < kBucketCount; ++i) {
    if (counts_[i]) buckets.push_back({i, counts_[i]});
  }
  nlohmann::json j = {{"format", "pmbench-histogram-v1"},
                      {"count", count_},
                      {"min_ns", min()},
                      {"max_ns", max()},
                      {"sum_ns", ToDecimal(sum_)},
                      {"buckets", std::move(buckets)}};
  return j.dump();
}

LatencyHistogram LatencyHistogram::FromBuckets(const std::vector<std::pair<int, uint64_t>>& buckets, int64_t min_ns,
                                               int64_t max_ns, Uint128 sum_ns) {
  LatencyHistogram h;
  for (const auto& [index, n] : buckets) {
    if (index < 0 || index >= kBucketCount) throw std::invalid_argument("histogram: bucket index out of range");
    h.counts_[index] += n;
    h.count_ += n;
  }
  h.sum_ = sum_ns;
  if (h.count_) {
    if (min_ns < 0 || min_ns > max_ns) throw std::invalid_argument("histogram: bad min/max");
    h.min_ = min_ns;
    h.max_ = max_ns;
  }
  return h;
}

LatencyHistogram LatencyHistogram::FromJson(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("format") != "pmbench-histogram-v1") {
      throw std::invalid_argument("histogram: unknown format");
    }
    std::vector<std::pair<int, uint64_t>> buckets;
    for (const auto& b : j.at("buckets")) buckets.emplace_back(b.at(0).get<int>(), b.at(1).get<uint64_t>());
    const auto count = j.at("count").get<uint64_t>();
    const bool any = count > 0;
    LatencyHistogram h = FromBuckets(buckets, any ? j.at("min_ns").get<int64_t>() : 0, any ? j.at("max_ns").get<int64_t>() : 0,
                                     ParseUint128(j.at("sum_ns").get<std::string>()));
    if (h.count_ != count) throw std::invalid_argument("histogram: bucket counts != count");
    return h;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("histogram: malformed JSON: ") + e.what());
  }
}

}  // namespace pmbench::stats
