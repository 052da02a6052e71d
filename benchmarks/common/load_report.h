// File: load_report.h
//
// A load engine run (lib/load) as a benchmark's counters and bars: latency from the intended
// start and service time, achieved (and offered) rate, failures, and the engine's own health.
//
//   std::vector<stats::Bar> bars = {stats::Bar::Sla("latency", "p(95)<100ms")};
//   auto observed = ReportLoad(state, result, bars, false, offered_per_s);
//   CheckBars(state, bars, observed);
#ifndef PMBENCH_BENCHMARKS_COMMON_LOAD_REPORT_H_
#define PMBENCH_BENCHMARKS_COMMON_LOAD_REPORT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "lib/load/engine.h"
#include "lib/stats/report.h"

namespace pmbench::bench {

// Counters p50_ms..max_ms, service_*, achieved_requests_per_s (offered_requests_per_s when
// `offered`), success_ratio, dropped, unfinished, failed, clients, lag_*, generator_*,
// connect_s; adds the bars `success rate>0.99` (SLA) and `generator_bound count<1`: an SLA in
// the closed model, whose load a bound engine lightens; a goal in the open model (`offered`
// given: every delay of the engine's is inside the latency measured from the intended start)
// and when `generator_is_the_work`. A `reference` run (what another is compared with, not
// held to the SLA) has `success` as a goal. Returns what those bars and `latency`,
// `requests` read.
std::map<std::string, stats::Observed> ReportLoad(benchmark::State& state, const load::LoadResult& r,
                                                  std::vector<stats::Bar>& bars, bool generator_is_the_work = false,
                                                  std::optional<double> offered = std::nullopt, bool reference = false);

}  // namespace pmbench::bench

#endif  // PMBENCH_BENCHMARKS_COMMON_LOAD_REPORT_H_
