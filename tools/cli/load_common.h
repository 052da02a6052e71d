// What the load commands share: durations, k6-style thresholds, timestamps.
#ifndef PMBENCH_TOOLS_CLI_LOAD_COMMON_H_
#define PMBENCH_TOOLS_CLI_LOAD_COMMON_H_

#include <optional>
#include <string>

#include "lib/stats/threshold.h"

namespace pmbench::cli {

// "30", "30s", "250ms", "2m", "1h" -> seconds; UsageError naming --<name> otherwise.
double ParseDuration(const std::string& name, const std::string& text);
// The whole of `text` as a finite number; nullopt otherwise.
std::optional<double> ParseFinite(const std::string& text);

struct NamedThreshold {
  std::string metric, text;
  stats::Threshold threshold;
};
// "[METRIC:]EXPR"; METRIC defaults to latency. UsageError when EXPR does not parse.
NamedThreshold ParseThreshold(const std::string& text);

// The current UTC time, ISO 8601, as Google Benchmark's context.date.
std::string Now();

class Flags;
// A command's result JSON: to --out FILE (atomically) when given, else stdout.
void WriteResult(const Flags& flags, const std::string& text);

}  // namespace pmbench::cli

#endif  // PMBENCH_TOOLS_CLI_LOAD_COMMON_H_
