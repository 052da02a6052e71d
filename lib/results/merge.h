// File: merge.h
//
// results/latest.json: every bench binary's Google Benchmark JSON merged into one valid
// file (json_schema_version 1) with pmbench's context added — the commit, profile, build
// type, staging (never a URL or password), the machine's load average before and after
// the run, and every threshold and goal evaluated (pmbench_bars).
//
//   std::string merged = MergeResults({{"db_bench", json, bars_json}}, {.git_commit = "abc"});
#ifndef PMBENCH_RESULTS_MERGE_H_
#define PMBENCH_RESULTS_MERGE_H_

#include <string>
#include <vector>

namespace pmbench::results {

struct BenchOutput {
  std::string name;       // the bench binary, e.g. "db_bench"
  std::string json;       // its --benchmark_out (or a command's JSON with pmbench_bars inside)
  std::string bars_json;  // its --pmbench_bars_out, "" when absent
  std::string series_json;  // the X.series.json beside it (time series), "" when absent
  std::string server_json;  // the X.server.json beside it (server-side evidence), "" when absent
};

struct MergeContext {
  std::string git_commit;
  std::string profile;
  std::string build_type;
  std::string staging_info_json;  // tools/staging's info.json, "" when absent
  std::vector<double> load_avg_before, load_avg_after;  // /proc/loadavg's three figures
};

// Throws std::invalid_argument naming the bench whose output is malformed.
std::string MergeResults(const std::vector<BenchOutput>& outputs, const MergeContext& context);

// The three load averages of /proc/loadavg's text; std::invalid_argument when malformed.
std::vector<double> ParseLoadAverage(const std::string& proc_loadavg);

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_MERGE_H_
