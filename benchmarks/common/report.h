// File: report.h
//
// Puts what a benchmark observed into its Google Benchmark counters (names per
// benchmarks/README.md) and checks its bars: a failed SLA threshold fails the benchmark
// with the threshold's message, a missed goal is only recorded. Both land in the results.
//
//   stats::LatencyHistogram h = ...;
//   bench::ReportLatency(state, h);
//   bench::CheckBars(state, {stats::Bar::Sla("latency", "p(95)<100ms")},
//                    {{"latency", {.latency = &h}}});
#ifndef PMBENCH_BENCHMARKS_COMMON_REPORT_H_
#define PMBENCH_BENCHMARKS_COMMON_REPORT_H_

#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "lib/stats/histogram.h"
#include "lib/stats/report.h"

namespace pmbench::bench {

// Counters p50_ms ... max_ms and samples, after `prefix` (e.g. "submit_").
void ReportLatency(benchmark::State& state, const stats::LatencyHistogram& h,
                   const std::string& prefix = "");

// A rate counter in events per second of the benchmark's time: name it "<what>_per_s".
void ReportRate(benchmark::State& state, const std::string& name, double count, double seconds);

// Evaluates the bars, records the results for this run, fails the benchmark on a failed
// threshold (naming every one that failed). Returns false when one failed.
bool CheckBars(benchmark::State& state, const std::vector<stats::Bar>& bars,
               const std::map<std::string, stats::Observed>& observed);

// Fails the benchmark when a result check does not hold: a wrong result is an error, not
// a time. Returns `ok`. Later checks and bars still run after a failed one (call them all:
// a failure must not hide another).
bool Check(benchmark::State& state, bool ok, const std::string& what);

// Time series (a JSON array of pmbench_series entries, e.g. ScenarioResult::SeriesJson())
// written beside the results: --pmbench_bars_out=X.bars.json puts them in X.series.json,
// and pmbench results merge into the merged file's pmbench_series.
void ReportSeries(const std::string& series_json_array);

// Fails the run with `why`; a run that already failed keeps its first reason and `why`
// goes to stderr.
void Fail(benchmark::State& state, const std::string& why);

}  // namespace pmbench::bench

#endif  // PMBENCH_BENCHMARKS_COMMON_REPORT_H_
