#include "benchmarks/common/load_report.h"

#include <cstdio>

#include "benchmarks/common/report.h"

namespace pmbench::bench {

std::map<std::string, stats::Observed> ReportLoad(benchmark::State& state, const load::LoadResult& r,
                                                  std::vector<stats::Bar>& bars, bool generator_is_the_work,
                                                  std::optional<double> offered, bool reference) {
  ReportLatency(state, r.total.latency);
  ReportLatency(state, r.total.service, "service_");
  state.counters["achieved_requests_per_s"] = r.throughput();
  if (offered) state.counters["offered_requests_per_s"] = *offered;
  if (const auto s = r.total.success_ratio()) state.counters["success_ratio"] = *s;
  state.counters["dropped"] = static_cast<double>(r.total.dropped);
  state.counters["unfinished"] = static_cast<double>(r.total.unfinished);
  state.counters["failed"] = static_cast<double>(r.total.failed);
  state.counters["clients"] = r.clients;
  state.counters["lag_p99_ms"] = r.lag.Percentile(99) / 1e6;
  state.counters["lag_max_ms"] = static_cast<double>(r.lag.max()) / 1e6;
  state.counters["generator_cpu"] = r.generator_cpu;
  state.counters["generator_bound"] = r.generator_bound ? 1 : 0;
  state.counters["connect_s"] = r.connect_s;
  state.SetItemsProcessed(r.total.ok);
  if (r.generator_bound) std::fprintf(stderr, "generator bound: %s\n", r.generator_reason.c_str());
  if (!r.total.errors.empty()) std::fprintf(stderr, "first error: %s\n", r.total.errors.begin()->first.c_str());
  // A bound generator is an SLA failure only where its delay could flatter the server: a closed
  // model asks less than intended. In the open model every delay of the engine's (late
  // arrivals, late completions) is inside the latency measured from the intended start, so a
  // latency bar met while bound still holds and a missed one is reported with the reason above.
  // Answers from the in-process cache cost the server nothing: there the engine is the work.
  const bool only_a_goal = generator_is_the_work || offered.has_value();
  bars.push_back(only_a_goal ? stats::Bar::Goal("generator_bound", "count<1") : stats::Bar::Sla("generator_bound", "count<1"));
  bars.push_back(reference ? stats::Bar::Goal("success", "rate>0.99") : stats::Bar::Sla("success", "rate>0.99"));
  return {{"latency", {.latency = &r.total.latency}},
          {"generator_bound", {.count = r.generator_bound ? 1.0 : 0.0}},
          {"success", {.rate = r.total.success_ratio()}},
          {"requests", {.count = static_cast<double>(r.total.ok), .rate = r.throughput()}}};
}

}  // namespace pmbench::bench
