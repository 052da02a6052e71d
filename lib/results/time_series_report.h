// File: time_series_report.h
//
// The HTML report's "Over time" section, from a results file's pmbench_series: for each
// whole-platform run, latency p50/p95/p99, throughput and errors per interval with its
// spike or stall shaded, and the CPU and memory of every process. "" when there is none.
#ifndef PMBENCH_RESULTS_TIME_SERIES_REPORT_H_
#define PMBENCH_RESULTS_TIME_SERIES_REPORT_H_

#include <string>

namespace pmbench::results {

std::string TimeSeriesSection(const std::string& results_json);

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_TIME_SERIES_REPORT_H_
