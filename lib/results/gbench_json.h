// File: gbench_json.h
//
// Reading and writing Google Benchmark's JSON (json_schema_version 1) as pmbench uses it:
// its NaNs made readable, its time units, and one writer for the results of a command
// that is not a bench binary (pmbench load db|ws|chain), so every results file has the
// same shape — context, benchmarks, and the bars evaluated (pmbench_bars).
//
//   nlohmann::json doc = ParseBenchmarkJson(text, "latest.json");
//   double ns = b["real_time"].get<double>() * NsPerUnit(b.value("time_unit", "ns"));
#ifndef PMBENCH_RESULTS_GBENCH_JSON_H_
#define PMBENCH_RESULTS_GBENCH_JSON_H_

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "lib/stats/report.h"

namespace pmbench::results {

// Google Benchmark writes NaN and inf (e.g. the cv of a counter that is 0 in every
// repetition), which JSON does not allow: such values become null so any parser reads it.
std::string WithoutNaN(const std::string& benchmark_json);

// Nanoseconds per Google Benchmark time_unit ("ns", "us", "ms", "s").
double NsPerUnit(const std::string& time_unit);

// Parses a Google Benchmark file; std::invalid_argument naming `what` when it is not JSON
// or has no "benchmarks" array.
nlohmann::json ParseBenchmarkJson(const std::string& text, const std::string& what);

// One benchmark entry of a command's run: one repetition, real and CPU time = `seconds`.
struct RunEntry {
  std::string name;  // e.g. "load_db/markets", "load_db/markets/place_bet"
  double seconds = 0;
  std::vector<std::pair<std::string, double>> counters;
};

// A command's whole result: {"context": context + date, "benchmarks": entries,
// "pmbench_bars": bars (run_name = the first entry's name), "pmbench_series": series (when
// not empty: [{"run_name", "metric", "log": an interval log, see stats/interval_series.h}])}.
// Secrets are redacted.
std::string WriteRunJson(const nlohmann::json& context, const std::vector<RunEntry>& entries,
                         const std::vector<stats::BarResult>& bars);
std::string WriteRunJson(const nlohmann::json& context, const std::vector<RunEntry>& entries,
                         const std::vector<stats::BarResult>& bars, const nlohmann::json& series);

// A bar's result as results files hold it (run_name, kind, metric, expression, pass,
// measured, message).
nlohmann::json BarJson(const std::string& run_name, const stats::BarResult& r);

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_GBENCH_JSON_H_
