// File: metrics.h
//
// Which way is better for every metric a results file holds, read from the metric's name
// (benchmarks/README.md lists the shapes): the regression gate judges a metric only in
// its direction, and a name it does not know is reported as not judged, never passed.
//
//   DirectionOf("p99_ms") == Direction::kLower;  DirectionOf("rows") == Direction::kInfo;
#ifndef PMBENCH_RESULTS_METRICS_H_
#define PMBENCH_RESULTS_METRICS_H_

#include <string_view>

namespace pmbench::results {

enum class Direction {
  kLower,    // a time, a count of failures: lower is better
  kHigher,   // a rate, a ratio of successes or of speeds: higher is better
  kInfo,     // the run's size or its input (samples, rows, offered rates): shown, not judged
  kUnknown,  // a name of no known shape: listed as not judged
};

Direction DirectionOf(std::string_view metric);
const char* DirectionName(Direction d);  // "lower", "higher", "info", "unknown"

// False for the keys of a Google Benchmark run that are not measurements (name,
// iterations, repetition_index, time_unit, ...).
bool IsMetricKey(std::string_view key);

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_METRICS_H_
