// File: history.h
//
// The performance history: one JSON line per measured commit (the nightly job appends
// one), holding each benchmark's key medians, from which the report draws trends.
//
//   out << HistoryLine(latest_text) << "\n";                 // append to history.jsonl
//   auto points = ReadHistory(history_text);                  // oldest first
#ifndef PMBENCH_RESULTS_HISTORY_H_
#define PMBENCH_RESULTS_HISTORY_H_

#include <map>
#include <string>
#include <vector>

namespace pmbench::results {

struct HistoryPoint {
  std::string commit, date, profile;
  std::map<std::string, std::map<std::string, double>> metrics;  // short run name -> metric -> median
};

// One line (no newline): {"commit","date","profile","metrics":{run:{metric:median}}} with
// real_time, the scoreboard's figures and every p95/p99 and rate of each benchmark that
// did not error. Throws std::invalid_argument when the text is not a results file.
std::string HistoryLine(const std::string& results_json);

// Every well-formed line of a history file, in file order; throws std::invalid_argument
// naming the first line that is not a history line.
std::vector<HistoryPoint> ReadHistory(const std::string& history_jsonl);

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_HISTORY_H_
