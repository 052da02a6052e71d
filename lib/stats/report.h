// File: report.h
//
// Turns observations into what a benchmark reports: counters whose names state unit and
// direction (see benchmarks/README.md; tools/compare relies on them), and bars — SLA
// thresholds that fail a run, and goals that are only reported as met or missed.
//
//   std::vector<Bar> bars = {Bar::Sla("latency", "p(95)<100ms"), Bar::Goal("latency", "p(99)<5ms")};
//   auto results = EvaluateBars(bars, {{"latency", {.latency = &h}}});
//   for (auto& [name, value] : LatencyCounters(h)) state.counters[name] = value;
#ifndef PMBENCH_STATS_REPORT_H_
#define PMBENCH_STATS_REPORT_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/stats/histogram.h"
#include "lib/stats/threshold.h"

namespace pmbench::stats {

// p50_ms p90_ms p95_ms p99_ms p999_ms p9999_ms min_ms mean_ms max_ms, and samples, each
// name after `prefix` ("submit_" gives submit_p99_ms).
std::vector<std::pair<std::string, double>> LatencyCounters(const LatencyHistogram& h,
                                                            const std::string& prefix = "");

struct Bar {
  enum class Kind { kThreshold, kGoal };
  Kind kind;
  std::string metric;  // which observation it reads, e.g. "latency", "rows"
  Threshold threshold;

  // The story's SLA: failing it fails the run.
  static Bar Sla(std::string metric, std::string_view expression) {
    return {Kind::kThreshold, std::move(metric), Threshold::Parse(expression)};
  }
  // Our harder target: reported as met or missed, never failing the run.
  static Bar Goal(std::string metric, std::string_view expression) {
    return {Kind::kGoal, std::move(metric), Threshold::Parse(expression)};
  }
  // A command-line threshold, k6's "[METRIC:]EXPR" ("place_bet:p(99)<50ms"); METRIC is
  // `default_metric` when absent. Throws std::invalid_argument naming what is wrong.
  static Bar Parse(std::string_view text, std::string_view default_metric);
};

// Throws std::invalid_argument, listing the valid names, when a bar reads a metric not in
// `valid` — before a run starts, not after it.
void CheckBarMetrics(const std::vector<Bar>& bars, const std::vector<std::string>& valid);

struct BarResult {
  Bar::Kind kind;
  std::string metric;
  std::string expression;
  bool pass;
  bool was_measured;    // false: nothing to judge (never "met")
  double measured;      // ns for latency aggregates
  std::string message;  // "p(95)=132.4ms, want <100ms"
};

std::vector<BarResult> EvaluateBars(const std::vector<Bar>& bars,
                                    const std::map<std::string, Observed>& observed);

// Every failed threshold's message after "threshold failed: ", joined by "; "; "" when all
// pass.
std::string Failures(const std::vector<BarResult>& results);

// num / den when the denominator means something: nullopt when `den_samples` (what the
// denominator was measured from) is below `min_samples` or den is not > 0 — a ratio over
// a near-zero is reported as not measured, never as a huge success.
std::optional<double> Ratio(double num, double den, double den_samples = 1, double min_samples = 1);

}  // namespace pmbench::stats

#endif  // PMBENCH_STATS_REPORT_H_
