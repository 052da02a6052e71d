// File: summary.h
//
// What tools/bench prints when the run is over, verdict first: the story's SLAs (AC2-AC6,
// each PASS or FAIL with its key figures), every other threshold that failed, every
// benchmark that errored (in how many repetitions), then our goals met and missed; each
// benchmark's counters only when asked (verbose).
//
//   Summary s = Summarize(text, {.verbose = false});
//   std::cout << s.text;  return s.ok() ? 0 : 1;
#ifndef PMBENCH_RESULTS_SUMMARY_H_
#define PMBENCH_RESULTS_SUMMARY_H_

#include <string>

namespace pmbench::results {

struct SummaryOptions {
  bool verbose = false;  // also every benchmark's counters
};

struct Summary {
  std::string text;
  int thresholds_failed = 0;
  int errored_benchmarks = 0;   // benchmarks with at least one errored repetition
  int errored_repetitions = 0;
  bool ok() const { return thresholds_failed == 0 && errored_benchmarks == 0; }
};

// Throws std::invalid_argument when `results_json` is not a results file.
Summary Summarize(const std::string& results_json, const SummaryOptions& options = {});

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_SUMMARY_H_
