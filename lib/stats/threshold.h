// File: threshold.h
//
// Pass/fail bars in k6's threshold syntax, evaluated against what a benchmark observed.
//
//   auto t = pmbench::stats::Threshold::Parse("p(95)<100ms");
//   ThresholdResult r = t.Evaluate({.latency = &histogram});
//   if (!r.pass) state.SkipWithError(r.message.c_str());   // "p(95)=132.4ms, want <100ms"
//
// Aggregates: p(N) avg min max med (latency, units ns|us|ms|s, a bare number means ms as in
// k6), count and rate (plain numbers; for a counter, rate is per second; for a rate metric,
// the ratio of successes). Comparisons: < <= > >= == !=.
#ifndef PMBENCH_STATS_THRESHOLD_H_
#define PMBENCH_STATS_THRESHOLD_H_

#include <optional>
#include <string>
#include <string_view>

#include "lib/stats/histogram.h"

namespace pmbench::stats {

// What a threshold is checked against; a threshold on data not given fails.
struct Observed {
  const LatencyHistogram* latency = nullptr;
  std::optional<double> count;
  std::optional<double> rate;
};

struct ThresholdResult {
  bool pass = false;
  bool was_measured = false;  // false: no samples, or a ratio whose denominator was ~0
  double measured = 0;        // ns for latency aggregates
  std::string message;        // e.g. "p(95)=132.4ms, want <100ms"
};

class Threshold {
 public:
  enum class Aggregate { kPercentile, kAvg, kMin, kMax, kMed, kCount, kRate };
  enum class Comparison { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };

  // Throws std::invalid_argument naming the expression and what is wrong with it.
  static Threshold Parse(std::string_view expression);

  ThresholdResult Evaluate(const Observed& observed) const;

  const std::string& expression() const { return expression_; }
  Aggregate aggregate() const { return aggregate_; }
  bool is_latency() const { return aggregate_ != Aggregate::kCount && aggregate_ != Aggregate::kRate; }
  // The bound, in ns for latency aggregates.
  double bound() const { return bound_; }

 private:
  std::string expression_;
  Aggregate aggregate_ = Aggregate::kAvg;
  double percentile_ = 0;
  Comparison comparison_ = Comparison::kLess;
  double bound_ = 0;
};

// "132.4ms", "870us", "1.25s": 4 significant digits in the largest unit that keeps it >= 1.
std::string FormatDuration(double ns);

}  // namespace pmbench::stats

#endif  // PMBENCH_STATS_THRESHOLD_H_
