// File: markdown_report.h
//
// results/BASELINE.md: the committed baseline's figures as Markdown — the scoreboard, the
// goals, and each benchmark's headline metrics (median and range over the repetitions) —
// generated, never typed, so the README's figures cannot drift from what was measured.
// A test regenerates it from results/baseline.json and fails on any difference.
//
//   WriteFileAtomically("results/BASELINE.md", BaselineMarkdown(baseline_text, "results/baseline.json"));
#ifndef PMBENCH_RESULTS_MARKDOWN_REPORT_H_
#define PMBENCH_RESULTS_MARKDOWN_REPORT_H_

#include <string>

namespace pmbench::results {

// `source` names the file in the text ("results/baseline.json"). Deterministic: the same
// results give the same bytes. Throws std::invalid_argument for a file that is not results.
std::string BaselineMarkdown(const std::string& results_json, const std::string& source);

// Whether a metric belongs in a headline table: judged, and not one of the extremes,
// intermediate percentiles, sample counts or bookkeeping counters.
bool IsHeadlineMetric(const std::string& metric);

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_MARKDOWN_REPORT_H_
