#include "lib/stats/report.h"

#include <stdexcept>

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
    results.push_back({bar.kind, bar.metric, bar.threshold.expression(), r.pass, r.was_measured, r.measured,
                       bar.metric + " " + r.message});
  }
  return results;
}

std::string Failures(const std::vector<BarResult>& results) {
  std::string out;
  for (const BarResult& r : results) {
    if (r.kind == Bar::Kind::kThreshold && !r.pass) out += (out.empty() ? "threshold failed: " : "; ") + r.message;
  }
  return out;
}

Bar Bar::Parse(std::string_view text, std::string_view default_metric) {
  std::string_view metric = default_metric, expression = text;
  // A metric is a name before the first ':' ("p(95)<1ms" has none; a unit never has one).
  if (const auto colon = text.find(':'); colon != std::string_view::npos) {
    metric = text.substr(0, colon);
    expression = text.substr(colon + 1);
    if (metric.empty()) throw std::invalid_argument("bad threshold '" + std::string(text) + "': empty metric before ':'");
  }
  return {Kind::kThreshold, std::string(metric), Threshold::Parse(expression)};
}

void CheckBarMetrics(const std::vector<Bar>& bars, const std::vector<std::string>& valid) {
  for (const Bar& b : bars) {
    bool known = false;
    for (const auto& v : valid) known |= v == b.metric;
    if (known) continue;
    std::string list;
    for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
    throw std::invalid_argument("unknown metric '" + b.metric + "' in threshold '" + b.metric + ":" +
                                b.threshold.expression() + "' (valid: " + list + ")");
  }
}

std::optional<double> Ratio(double num, double den, double den_samples, double min_samples) {
  if (!(den > 0) || den_samples < min_samples) return std::nullopt;
  return num / den;
}

}  // namespace pmbench::stats
