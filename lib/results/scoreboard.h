// File: scoreboard.h
//
// The story's acceptance criteria AC2-AC6 read off a results file: each with PASS when
// every SLA threshold of its benchmarks held in every repetition and none errored, FAIL
// otherwise, NOT RUN when none of its benchmarks is in the file; and its key figures.
// What tools/bench prints first and the HTML report opens with.
//
//   for (const ScoreRow& row : Scoreboard(ResultsFile::Parse(text, "latest.json"))) ...
#ifndef PMBENCH_RESULTS_SCOREBOARD_H_
#define PMBENCH_RESULTS_SCOREBOARD_H_

#include <string>
#include <vector>

#include "lib/results/results_file.h"

namespace pmbench::results {

struct ScoreRow {
  enum class Status { kPass, kFail, kNotRun };
  std::string id;     // "AC2"
  std::string title;  // "Database: 1,000+ concurrent queries, p95 < 100 ms"
  Status status = Status::kNotRun;
  std::vector<std::string> figures;   // "BM_MarketsQuery p95 2.1 ms at 1000 clients"
  std::vector<std::string> failures;  // failed thresholds and errors, one line each
};
const char* StatusName(ScoreRow::Status s);  // "PASS", "FAIL", "NOT RUN"

std::vector<ScoreRow> Scoreboard(const ResultsFile& results);

// Which AC a benchmark belongs to ("AC2" ...), "" for none.
std::string AcceptanceCriterionOf(const std::string& run_name);

// The figures the scoreboard shows, as (benchmark name prefix, metric): what a history
// line keeps and the report's trends draw.
struct KeyFigure {
  std::string benchmark, metric;
};
std::vector<KeyFigure> KeyFigures();
// True when the run's short name is `prefix` or starts with it followed by '/' or '<'.
bool HasPrefix(const std::string& run_name, const std::string& prefix);

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_SCOREBOARD_H_
