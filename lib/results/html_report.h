// File: html_report.h
//
// results/report.html: one self-contained page (inline SVG and CSS; no scripts, fonts or
// network), verdict first — the story's SLAs and what failed — then charts (latency
// percentiles, the listener's sinks, vote tallies, baseline vs latest, trends over the
// history), then the long tables (every bar, every benchmark).
//
//   std::string html = HtmlReport(latest_text, {.baseline = base_text, .history = jsonl});
#ifndef PMBENCH_RESULTS_HTML_REPORT_H_
#define PMBENCH_RESULTS_HTML_REPORT_H_

#include <string>

namespace pmbench::results {

struct ReportInputs {
  std::string baseline;  // a results file to compare with, "" for none
  std::string history;   // a history.jsonl (history.h), "" for none
};

// Throws std::invalid_argument naming the input that is unusable.
std::string HtmlReport(const std::string& latest_json, const ReportInputs& inputs = {});

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_HTML_REPORT_H_
