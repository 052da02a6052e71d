// File: results_file.h
//
// A results file read for people: each benchmark with its repetitions, aggregates and
// errors, and each bar (threshold or goal) with one verdict over its repetitions. What the
// summary, the scoreboard, the HTML report and results/BASELINE.md are made from.
//
//   ResultsFile r = ResultsFile::Parse(text, "results/latest.json");
//   for (const BenchmarkRuns& b : r.benchmarks()) b.Median("p95_ms");
#ifndef PMBENCH_RESULTS_RESULTS_FILE_H_
#define PMBENCH_RESULTS_RESULTS_FILE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pmbench::results {

struct BenchmarkRuns {
  std::string run_name;  // "BM_MarketsQuery/manual_time"
  std::string bench;     // the bench binary (pmbench_bench), "" outside merged files
  std::vector<nlohmann::json> repetitions;              // iteration rows, errored ones too
  std::map<std::string, nlohmann::json> aggregates;     // "median", "mean", ...
  int errored = 0;                                      // repetitions that errored
  std::string error;                                    // the first one's message

  // The median over the repetitions that did not error (real_time and cpu_time in ns);
  // the median aggregate when a file holds aggregates only; nullopt when absent.
  std::optional<double> Median(const std::string& metric) const;
  int runs() const { return static_cast<int>(repetitions.size()); }
};

struct BarVerdict {
  std::string run_name, kind, metric, expression;
  bool threshold = true;
  // A threshold holds only if it held in every repetition; a goal is judged on the
  // repetition with the median measurement.
  bool pass = false;
  bool was_measured = true;  // false: not measured (a goal is then neither met nor missed)
  std::string message;       // the failing repetition's for a failed threshold, else the median's
  int failures = 0, runs = 0;
};

class ResultsFile {
 public:
  // Throws std::invalid_argument naming `what` when it is not Google Benchmark JSON.
  static ResultsFile Parse(const std::string& text, const std::string& what);

  const nlohmann::json& context() const { return context_; }
  const std::vector<BenchmarkRuns>& benchmarks() const { return benchmarks_; }  // file order
  const std::vector<BarVerdict>& bars() const { return bars_; }
  const BenchmarkRuns* Find(const std::string& run_name) const;
  // Whether b's error is a threshold failure this file also holds as a failed bar, so a
  // verdict that lists the bar need not list the error again. An error without its bar
  // (a file from elsewhere, a bar lost) is never hidden.
  bool ErrorIsAFailedBar(const BenchmarkRuns& b) const;
  std::string profile() const;
  std::string commit() const;

 private:
  nlohmann::json context_;
  std::vector<BenchmarkRuns> benchmarks_;
  std::vector<BarVerdict> bars_;
};

// "BM_MarketsQuery/manual_time" -> "BM_MarketsQuery": Google Benchmark's decorations say
// nothing a reader needs.
std::string ShortName(std::string run_name);

// A Google Benchmark row's run name (its "run_name", or its name without the aggregate's
// suffix in files that lack one), and whether it errored (or was skipped).
std::string RunNameOf(const nlohmann::json& row);
bool IsErrored(const nlohmann::json& row);

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_RESULTS_FILE_H_
