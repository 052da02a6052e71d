// File: compare.h
//
// The regression gate: two Google Benchmark JSON files (repetitions, aggregates only,
// errored rows — ours or anyone's) compared benchmark by benchmark and metric by metric,
// in the direction each metric's name gives (metrics.h).
//
// A metric regressed when both hold:
// - the one-sided Mann-Whitney U test (exact permutation distribution) says the new
//   samples are worse at p <= alpha (default 0.05) — one-sided because the direction is
//   known, which is what lets 3 repetitions a side decide (their smallest p is 1/20);
//   Welch's one-sided t when a file holds aggregates only;
// - the median moved the wrong way by more than the tolerance: the threshold (5%, the
//   smallest change that matters), or noise_factor x the metric's noise when that is
//   larger (off by default: the test already weighs the noise, and on this machine a
//   factor of 1 cost a tenth of the detections). The noise — the robust spread (1.4826 x
//   MAD) of both sides' repetitions around their own medians, relative to the baseline —
//   is shown, and sizes the repetitions an undecided row asks for.
// A change past the tolerance that is not significant is inconclusive, and the row says
// how many repetitions a side would decide it.
//
// Broken (ExitCode 3), whatever else happened: a benchmark errored in NEW, a benchmark of
// BASE is missing from NEW, or a matched benchmark lost a metric. A metric whose name has
// no direction is listed as not judged.
//
//   Comparison c = Compare(base_json, new_json, {});
//   std::cout << FormatText(c, {.color = false});
//   return c.ExitCode();   // 0 fine, 1 regressed, 3 broken
#ifndef PMBENCH_RESULTS_COMPARE_H_
#define PMBENCH_RESULTS_COMPARE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "lib/results/metrics.h"

namespace pmbench::results {

struct CompareOptions {
  double alpha = 0.05;        // one-sided significance level, per metric
  double threshold = 0.05;    // the smallest change that matters
  double noise_factor = 0;    // the change must also exceed this many times the noise
  std::string policy_json;    // {"rules":[{"benchmark":RE,"metric":RE,"direction":...,"tolerance":x,"ignore":b}]}
};

enum class Verdict {
  kRegressed,
  kImproved,
  kUnchanged,
  kInconclusive,  // past the tolerance, not significant: more repetitions would tell
  kInfo,          // the metric is the run's size or input: shown, not judged
  kNotJudged,     // the metric's name has no direction
  kAdded,         // a benchmark only NEW has
  kRemoved,       // a benchmark of BASE that NEW lacks: broken
  kErrored,       // errored in NEW (broken), or in BASE only
  kMissing,       // a metric of BASE that NEW's run lacks: broken
};
constexpr int kVerdictCount = 10;
const char* VerdictName(Verdict v);

struct MetricComparison {
  std::string benchmark;
  std::string metric;  // "" for rows about a whole benchmark (added, removed, errored)
  Direction direction = Direction::kUnknown;
  double base = 0, contender = 0;  // medians of repetitions, or means of aggregates (ns for times)
  double change = 0;               // contender / base - 1
  double p_value = 1;              // one-sided, in the direction the change went
  double noise = 0;                // relative robust spread of the repetitions
  double tolerance = 0;
  std::string method;              // "u" (Mann-Whitney), "welch", "" (no values)
  size_t base_n = 0, contender_n = 0;
  int repetitions_needed = 0;      // inconclusive rows: a side, to decide
  Verdict verdict = Verdict::kUnchanged;
  std::string note;                // an error message, why a row is not judged, ...
  bool has_values() const { return !method.empty(); }
};

struct Comparison {
  std::vector<MetricComparison> rows;
  std::vector<std::string> warnings;
  int counts[kVerdictCount] = {};  // by Verdict
  double time_geomean = 1;         // geometric mean of real_time ratios over matched benchmarks
  size_t matched = 0;
  int count(Verdict v) const { return counts[static_cast<int>(v)]; }
  bool regressed() const { return count(Verdict::kRegressed) > 0; }
  // A benchmark errored or vanished in NEW, or lost a metric.
  bool broken() const;
  int ExitCode() const { return broken() ? 3 : regressed() ? 1 : 0; }
};

// Throws std::invalid_argument with one line naming what is unusable.
Comparison Compare(const std::string& base_json, const std::string& contender_json, const CompareOptions& options);

struct FormatOptions {
  bool color = false;
  bool all_rows = false;  // text: every row, not only what moved, broke or is not judged
  bool brief = false;     // text: inconclusive rows counted, not listed
};
std::string FormatText(const Comparison& c, const FormatOptions& options = {});
std::string FormatMarkdown(const Comparison& c);
std::string FormatJson(const Comparison& c);
// "2 regressed, 1 improved, ...; time geomean 1.012x over 40 matched benchmarks"
std::string SummaryLine(const Comparison& c);

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_COMPARE_H_
