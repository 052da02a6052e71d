#include "lib/stats/report.h"

namespace pmbench::stats {

std::vector<std::pair<std::string, double>> LatencyCounters(const LatencyHistogram& h,
                                                            const std::string& prefix) {
  constexpr double kNsPerMs = 1e6;
  return {
      {prefix + "p50_ms", h.Percentile(50) / kNsPerMs},
      {prefix + "p90_ms", h.Percentile(90) / kNsPerMs},
      {prefix + "p95_ms", h.Percentile(95) / kNsPerMs},
      {prefix + "p99_ms", h.Percentile(99) / kNsPerMs},
      {prefix + "p999_ms", h.Percentile(99.9) / kNsPerMs},
      {prefix + "p9999_ms", h.Percentile(99.99) / kNsPerMs},
      {prefix + "min_ms", static_cast<double>(h.min()) / kNsPerMs},
      {prefix + "mean_ms", h.mean() / kNsPerMs},
      {prefix + "max_ms", static_cast<double>(h.max()) / kNsPerMs},
      {prefix + "samples", static_cast<double>(h.count())},
  };
}

std::vector<BarResult> EvaluateBars(const std::vector<Bar>& bars,
                                    const std::map<std::string, Observed>& observed) {
  std::vector<BarResult> results;
  results.reserve(bars.size());
  for (const Bar& bar : bars) {
    const auto it = observed.find(bar.metric);
    const ThresholdResult r = bar.threshold.Evaluate(it == observed.end() ? Observed{} : it->second);
    results.push_back({bar.kind, bar.metric, bar.threshold.expression(), r.pass, r.measured,
                       bar.metric + " " + r.message});
  }
  return results;
}

std::string FirstFailure(const std::vector<BarResult>& results) {
  for (const BarResult& r : results) {
    if (r.kind == Bar::Kind::kThreshold && !r.pass) return "threshold failed: " + r.message;
  }
  return "";
}

}  // namespace pmbench::stats
