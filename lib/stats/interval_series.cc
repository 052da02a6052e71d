#include "lib/stats/interval_series.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace pmbench::stats {

IntervalSeries::IntervalSeries(double interval_s) : interval_s_(interval_s) {
  if (!(interval_s > 0) || !std::isfinite(interval_s)) throw std::invalid_argument("interval must be > 0 s");
}

IntervalSeries::Interval& IntervalSeries::At(size_t i) {
  if (i >= intervals_.size()) intervals_.resize(i + 1);
  return intervals_[i];
}

void IntervalSeries::Record(double t_s, int64_t ns, bool ok) {
  const int64_t v = std::clamp<int64_t>(ns, 0, LatencyHistogram::kHighestTrackable);
  Interval& in = At(t_s > 0 ? static_cast<size_t>(t_s / interval_s_) : 0);
  ++in.buckets[LatencyHistogram::IndexOf(v)];
  in.min = in.count ? std::min(in.min, v) : v;
  in.max = in.count ? std::max(in.max, v) : v;
  ++in.count;
  in.sum += static_cast<Uint128>(v);
  if (!ok) ++in.errors;
}

void IntervalSeries::Merge(const IntervalSeries& other) {
  if (other.interval_s_ != interval_s_) throw std::invalid_argument("interval logs of different intervals cannot merge");
  for (size_t i = 0; i < other.intervals_.size(); ++i) {
    const Interval& from = other.intervals_[i];
    if (from.count == 0) continue;
    Interval& in = At(i);
    for (const auto& [b, n] : from.buckets) in.buckets[b] += n;
    in.min = in.count ? std::min(in.min, from.min) : from.min;
    in.max = in.count ? std::max(in.max, from.max) : from.max;
    in.count += from.count;
    in.errors += from.errors;
    in.sum += from.sum;
  }
}

LatencyHistogram IntervalSeries::Histogram(size_t i) const {
  if (i >= intervals_.size()) return {};
  const Interval& in = intervals_[i];
  return LatencyHistogram::FromBuckets({in.buckets.begin(), in.buckets.end()}, in.min, in.max, in.sum);
}

LatencyHistogram IntervalSeries::Histogram(size_t from, size_t to) const {
  LatencyHistogram h;
  for (size_t i = from; i < std::min(to, intervals_.size()); ++i) h.Merge(Histogram(i));
  return h;
}

std::string IntervalSeries::ToJson() const {
  nlohmann::json intervals = nlohmann::json::array();
  for (size_t i = 0; i < intervals_.size(); ++i) {
    const Interval& in = intervals_[i];
    nlohmann::json buckets = nlohmann::json::array();
    for (const auto& [b, n] : in.buckets) buckets.push_back({b, n});
    nlohmann::json j = {{"t_s", static_cast<double>(i) * interval_s_}, {"count", in.count}, {"errors", in.errors},
                        {"min_ns", in.min}, {"max_ns", in.max}, {"sum_ns", ToDecimal(in.sum)},
                        {"buckets", std::move(buckets)}};
    if (in.count) {
      const LatencyHistogram h = Histogram(i);
      for (const double p : {50.0, 95.0, 99.0}) {
        j["p" + std::to_string(static_cast<int>(p)) + "_ms"] = h.Percentile(p) / 1e6;
      }
    }
    intervals.push_back(std::move(j));
  }
  return nlohmann::json({{"format", "pmbench-interval-log-v1"}, {"interval_s", interval_s_}, {"intervals", intervals}}).dump();
}

IntervalSeries IntervalSeries::FromJson(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("format") != "pmbench-interval-log-v1") throw std::invalid_argument("interval log: unknown format");
    IntervalSeries s(j.at("interval_s").get<double>());
    for (const auto& iv : j.at("intervals")) {
      const double t = iv.at("t_s").get<double>();
      const auto index = static_cast<size_t>(std::llround(t / s.interval_s_));
      if (t < 0 || index < s.intervals_.size()) throw std::invalid_argument("interval log: intervals out of order");
      Interval& in = s.At(index);
      for (const auto& b : iv.at("buckets")) {
        const int index_b = b.at(0).get<int>();
        if (index_b < 0 || index_b >= LatencyHistogram::kBucketCount) throw std::invalid_argument("interval log: bucket out of range");
        in.buckets[index_b] += b.at(1).get<uint64_t>();
        in.count += b.at(1).get<uint64_t>();
      }
      if (in.count != iv.at("count").get<uint64_t>()) throw std::invalid_argument("interval log: bucket counts != count");
      in.errors = iv.at("errors").get<uint64_t>();
      in.min = iv.at("min_ns").get<int64_t>();
      in.max = iv.at("max_ns").get<int64_t>();
      in.sum = ParseUint128(iv.at("sum_ns").get<std::string>());
      if (in.errors > in.count || (in.count && (in.min < 0 || in.min > in.max))) {
        throw std::invalid_argument("interval log: bad errors or min/max");
      }
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("interval log: malformed JSON: ") + e.what());
  }
}

std::optional<size_t> RecoveredAt(const IntervalSeries& s, size_t from, double percentile, double limit_ns) {
  std::optional<size_t> at;
  for (size_t i = from; i < s.size(); ++i) {
    if (s.count(i) == 0) continue;
    if (s.Histogram(i).Percentile(percentile) <= limit_ns) {
      if (!at) at = i;
    } else {
      at.reset();
    }
  }
  return at;
}

double Slope(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 2) return 0;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < n; ++i) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  return sxx > 0 ? sxy / sxx : 0;
}

}  // namespace pmbench::stats
