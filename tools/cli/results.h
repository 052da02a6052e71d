// File: results.h
//
// results/latest.json: every bench binary's Google Benchmark JSON merged into one valid
// file (json_schema_version 1) with pmbench's context added, and the human summary
// tools/bench prints at the end.
#ifndef PMBENCH_TOOLS_CLI_RESULTS_H_
#define PMBENCH_TOOLS_CLI_RESULTS_H_

#include <string>
#include <vector>

namespace pmbench::cli {

// Google Benchmark writes NaN and inf (e.g. the cv of a counter that is 0 in every
// repetition), which JSON does not allow: such values become null so any parser reads it.
std::string WithoutNaN(const std::string& benchmark_json);

// Nanoseconds per Google Benchmark time_unit ("ns", "us", "ms", "s").
double NsPerUnit(const std::string& time_unit);

struct BenchOutput {
  std::string name;       // the bench binary, e.g. "db_bench"
  std::string json;       // its --benchmark_out
  std::string bars_json;  // its --pmbench_bars_out, "" when absent
};

struct MergeContext {
  std::string git_commit;
  std::string profile;
  std::string build_type;
  std::string staging_info_json;  // tools/staging's info.json, "" when absent
};

// Throws std::invalid_argument naming the bench whose output is malformed.
std::string MergeResults(const std::vector<BenchOutput>& outputs, const MergeContext& context);

struct Summary {
  std::string text;
  int thresholds_failed = 0;
  int errors = 0;  // benchmarks that reported an error
  bool ok() const { return thresholds_failed == 0 && errors == 0; }
};

// Throws std::invalid_argument when `merged_json` is not a merged results file.
Summary Summarize(const std::string& merged_json);

}  // namespace pmbench::cli

#endif  // PMBENCH_TOOLS_CLI_RESULTS_H_
