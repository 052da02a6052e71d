// File: compare.h
//
// `tools/compare BASELINE CONTENDER`: benchmark by benchmark, metric by metric (real and
// CPU time and every user counter), is the contender better, worse, or the same? A metric
// regresses only when the change is statistically significant (Mann-Whitney U on
// repetitions, Welch's t on aggregates-only files) *and* larger than the tolerance,
// max(--threshold, 2 x the baseline's own coefficient of variation, estimated robustly). Directions come from
// the counter names (benchmarks/README.md) or a policy file.
//
//   Comparison c = Compare(base_json, new_json, {});
//   std::cout << FormatText(c, /*color=*/false);
//   return c.regressions > 0 ? 1 : 0;
#ifndef PMBENCH_TOOLS_CLI_COMPARE_H_
#define PMBENCH_TOOLS_CLI_COMPARE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace pmbench::cli {

struct CompareOptions {
  double alpha = 0.05;
  double threshold = 0.05;
  std::string policy_json;  // {"rules":[{"benchmark":RE,"metric":RE,"direction":...,"tolerance":x,"ignore":b}]}
};

enum class Verdict { kRegressed, kImproved, kUnchanged, kInconclusive, kInfo, kAdded, kRemoved, kErrored };
const char* VerdictName(Verdict v);

struct MetricComparison {
  std::string benchmark;
  std::string metric;
  int direction = 0;  // -1 lower is better, +1 higher is better, 0 not gated
  double base = 0, contender = 0;  // medians of samples, or means of aggregates (ns for times)
  double change = 0;               // contender / base - 1
  double p_value = 1;
  double tolerance = 0;
  std::string method;  // "u-exact", "u-normal", "welch", "tolerance-only", ""
  size_t base_n = 0, contender_n = 0;
  Verdict verdict = Verdict::kUnchanged;
};

struct Comparison {
  std::vector<MetricComparison> rows;
  std::vector<std::string> warnings;
  int counts[8] = {};            // by Verdict
  double time_geomean = 1;       // geometric mean of real_time ratios, matched benchmarks
  size_t matched = 0;
  bool regressed() const { return counts[static_cast<int>(Verdict::kRegressed)] > 0; }
};

// Throws std::invalid_argument with one line naming what is unusable.
Comparison Compare(const std::string& base_json, const std::string& contender_json,
                   const CompareOptions& options);

std::string FormatText(const Comparison& c, bool color);
std::string FormatMarkdown(const Comparison& c);
std::string FormatJson(const Comparison& c);

// The counter naming convention: -1 lower is better, +1 higher, 0 not gated.
int DirectionOf(const std::string& metric);

}  // namespace pmbench::cli

#endif  // PMBENCH_TOOLS_CLI_COMPARE_H_
