// DO NOT INCLUDE THIS FILE outside benchmarks/common.
//
// Bars evaluated by CheckBars wait here until bench_main's reporter learns which run they
// belong to (Google Benchmark 1.7's State does not know its own name).
#ifndef PMBENCH_BENCHMARKS_COMMON_INTERNAL_BAR_LOG_H_
#define PMBENCH_BENCHMARKS_COMMON_INTERNAL_BAR_LOG_H_

#include <vector>

#include "lib/stats/report.h"

namespace pmbench::bench::internal {

// One call of CheckBars = one group. Google Benchmark also calls a benchmark while it
// settles the iteration count; only the last group of each reported repetition counts.
void LogBars(const std::vector<stats::BarResult>& results);
std::vector<std::vector<stats::BarResult>> TakeLoggedBars();
// ReportSeries' entries, each a JSON array's text, in the order logged.
std::vector<std::string> TakeLoggedSeries();

}  // namespace pmbench::bench::internal

#endif  // PMBENCH_BENCHMARKS_COMMON_INTERNAL_BAR_LOG_H_
