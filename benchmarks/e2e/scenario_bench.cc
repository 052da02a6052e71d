// The story's Scenarios 1-4 as whole-platform runs (lib/scenario): browsing users reading
// through pgbouncer with live-odds subscriptions, bets, votes, creations, approvals,
// resolutions and claims as transactions to the local ledger, the listener writing them to
// PostgreSQL and the fan-out server delivering the odds — all at once. Sizes come from the
// profile: smoke (seconds, a tenth of the users), default (minutes, the story's users and
// rates), soak (the story's durations; drift is judged). The story's SLAs are thresholds;
// click-to-screen p99 <= 1 s is our goal. Time series and per-process CPU go to the
// results' pmbench_series.
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "benchmarks/common/profile.h"
#include "benchmarks/common/report.h"
#include "benchmarks/common/staging.h"
#include "lib/db/database_url.h"
#include "lib/metrics/exporter.h"
#include "lib/metrics/registry.h"
#include "lib/scenario/run.h"
#include "lib/scenario/scenario.h"

namespace pmbench::bench {
namespace {

// The scenario profile of the bench profile: soak is soak, smoke is smoke, the rest default.
std::string ScenarioProfile() {
  const std::string_view p = CurrentProfile().name;
  return p == "smoke" || p == "soak" ? std::string(p) : "default";
}

void BM_Scenario(benchmark::State& state, const std::string& name) {
  scenario::RunOptions o;
  try {
    const db::Staging s = WritableStaging();
    if (s.ledger_url.empty()) {
      return state.SkipWithError(("no local ledger in staging: " + (s.ledger_error.empty() ? std::string("tools/staging up starts one")
                                                                                          : s.ledger_error)).c_str());
    }
    o = {.direct_url = s.direct_url, .pooled_url = s.pooled_url, .ledger_url = s.ledger_url.substr(0, s.ledger_url.find(','))};
    // With staging's monitoring up, Prometheus scrapes the run's processes as it goes.
    if (!s.prometheus_targets.empty()) {
      static metrics::Registry registry;
      static metrics::Exporter exporter(registry, "127.0.0.1:0");
      if (exporter.port() == 0) exporter.Start();
      o.metrics = &registry;
      o.generator_metrics_port = exporter.port();
      o.targets_file = s.prometheus_targets + "/scenario_bench-" + std::to_string(getpid()) + ".json";
    }
  } catch (const std::exception& e) {
    return state.SkipWithError(db::RedactSecrets(e.what()).c_str());
  }
  scenario::ScenarioResult r;
  try {
    const scenario::ScenarioSpec spec = scenario::Builtin(name, ScenarioProfile());
    for (auto _ : state) {
      r = scenario::RunScenario(spec, o);
      state.SetIterationTime(r.seconds);
    }
  } catch (const std::exception& e) {
    return state.SkipWithError(db::RedactSecrets(e.what()).c_str());
  }
  // The counters of the whole run, as `pmbench scenario run` writes them.
  const auto doc = nlohmann::json::parse(r.ToJson());
  for (const auto& [key, value] : doc["benchmarks"][0].items()) {
    if (value.is_number() && key != "real_time" && key != "cpu_time" && key != "iterations" && key != "repetitions" &&
        key != "repetition_index" && key != "threads" && key != "thresholds_failed" && key != "goals_missed") {
      state.counters[key] = value.get<double>();
    }
  }
  for (const scenario::RoleResult& role : r.roles) {
    if (const auto s = role.success_ratio()) state.counters[role.name + "_success_ratio"] = *s;
    state.counters[role.name + "_p95_ms"] = role.load.total.latency.Percentile(95) / 1e6;
  }
  ReportSeries(r.SeriesJson());
  // The bars the run judged, through the path every benchmark's bars take.
  const auto [bars, observed] = r.Judged();
  CheckBars(state, bars, observed);
}
BENCHMARK_CAPTURE(BM_Scenario, peak, std::string("peak"))->Iterations(1)->Repetitions(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Scenario, flood, std::string("flood"))->Iterations(1)->Repetitions(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Scenario, creation, std::string("creation"))->Iterations(1)->Repetitions(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Scenario, sustained, std::string("sustained"))->Iterations(1)->Repetitions(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pmbench::bench
