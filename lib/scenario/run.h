// File: run.h
//
// Runs a scenario against the whole platform at once: a fresh schema on staging (migrated,
// seeded), the listener and the fan-out server as child processes, browsing users'
// WebSocket subscriptions, then every role's users at the same time on the load engine
// (reads through the pooler; transactions to the ledger, each user with its own wallet).
// It measures click to screen (bet sent -> every subscriber of the market holds odds that
// include it), bet confirmed -> row written, each read kind, WebSocket delivery, what
// reached the database against what was confirmed, latency per interval, and the CPU and
// memory of every process; then judges the story's SLAs and our goals.
//
//   ScenarioResult r = RunScenario(Builtin("peak", "default"), {.direct_url = ..., .pooled_url = ...,
//                                  .ledger_url = ..., .say = [](auto& line) { ... }});
//   r.ToJson();   // Google Benchmark JSON + pmbench_bars + pmbench_series
#ifndef PMBENCH_SCENARIO_RUN_H_
#define PMBENCH_SCENARIO_RUN_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/load/engine.h"
#include "lib/scenario/proc_sampler.h"
#include "lib/scenario/scenario.h"
#include "lib/scenario/screen.h"
#include "lib/stats/histogram.h"
#include "lib/stats/report.h"

namespace pmbench::metrics {
class Registry;
}

namespace pmbench::scenario {

struct RunOptions {
  std::string direct_url, pooled_url;  // staging
  std::string ledger_url;              // the ledger's RPC (http://); its PubSub is the same port
  std::string schema;                  // made for the run and dropped after; empty: scenario_<name>_<pid>
  bool keep_schema = false;
  uint64_t seed = 1;
  std::function<void(const std::string&)> say;  // progress, a line at a time
  bool status_line = false;                      // also a one-line status each interval (a terminal)
  // Called once every role has started, with the run's t0 (for tests that act mid-run).
  std::function<void(std::chrono::steady_clock::time_point)> on_start;
  // Monitoring: the generator's Prometheus registry (the caller serves it on
  // generator_metrics_port; roles' requests and the subscribers' updates go into it), and a
  // Prometheus file_sd file the run writes for its life, naming the listener's, the
  // fan-out's and the generator's /metrics (tools/staging up --monitoring scrapes the folder).
  metrics::Registry* metrics = nullptr;
  uint16_t generator_metrics_port = 0;
  std::string targets_file;
};

struct RoleResult {
  std::string name, action;
  double offset_s = 0;  // when its engine started, after the run's t0
  load::LoadResult load;
  // Chain roles: submitted (with arrivals never sent), confirmed, failed by reason.
  int64_t submitted = 0, confirmed = 0;
  std::map<std::string, int64_t> reasons;
  std::optional<double> success_ratio() const;
};

struct SyncCount {
  std::string kind;  // bets, votes, markets, claims, resolutions
  int64_t confirmed = 0, stored = 0;
};

struct ScenarioResult {
  ScenarioSpec spec;
  std::string schema;
  double seconds = 0;
  double unix_start = 0, unix_end = 0;  // the run's t0 and end, wall clock (for Prometheus' range queries)
  // The servers' side of the run (monitoring/evidence.h): top statements, pool waits,
  // locks, checkpoints, CPU, IO. Null when staging is remote.
  nlohmann::json server;
  std::vector<RoleResult> roles;
  ScreenLatency click, new_markets;
  stats::LatencyHistogram confirm_to_commit;  // bet confirmed (sender) -> its row written
  stats::LatencyHistogram update;             // WebSocket publish -> receipt, lost ones at the end
  int watchers = 0;  // WebSocket subscribers opened (the browsing users)
  int64_t ws_connections = 0, ws_received = 0, ws_lost = 0, ws_errors = 0;
  std::vector<SyncCount> sync;
  std::vector<ProcessGroupUse> processes;
  std::optional<double> recovery_s;  // after the spike or the stall: until read p95 is back under its SLA
  std::optional<double> disturbance_end_s;
  double p95_drift_ms_per_h = 0;
  std::map<std::string, double> rss_drift_mb_per_h, processes_drift_per_h;  // per process group
  bool generator_bound = false;
  std::string generator_reason;
  std::vector<stats::BarResult> bars;

  bool passed() const;  // every SLA threshold held
  // The story's SLAs (thresholds) and our goals, with what the run observed for each (the
  // observations point into this result); RunScenario evaluates them into `bars`.
  std::pair<std::vector<stats::Bar>, std::map<std::string, stats::Observed>> Judged() const;
  // The result as Google Benchmark JSON, with pmbench_bars and pmbench_series (SeriesJson).
  std::string ToJson(const std::string& git_commit = "") const;
  // [{"run_name", "metric": "latency", "offset_s", "log": interval log} per role and read
  // kind, {"run_name", "metric": "processes", "scenario": {..., "spike", "stall"},
  // "groups": [{"name", "cpu_s", "t_s", "cpu_share", "rss_mb", "processes"}]}]
  std::string SeriesJson() const;
};

// Throws std::runtime_error with one line naming what is missing (no ledger, a pooled URL
// where a direct one is needed, a process that did not start); nothing is left running.
ScenarioResult RunScenario(const ScenarioSpec& spec, const RunOptions& options);

}  // namespace pmbench::scenario

#endif  // PMBENCH_SCENARIO_RUN_H_
