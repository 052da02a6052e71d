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

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
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

class ChildProcess;

// A platform prepared for a scenario by one process (pmbench scenario platform) and
// loaded by others: its seeded schema, where its fan-out server listens, and what the hot
// markets held before any load (click to screen sums bets onto these pools).
struct PlatformState {
  std::string scenario;  // the scenario it was prepared for (its hot markets, its channels)
  std::string schema;
  std::string fanout_host = "127.0.0.1";
  uint16_t fanout_port = 0;
  int hot_markets = 0;
  std::map<int64_t, std::pair<int64_t, int64_t>> pools_before;  // market -> (yes, no)
  int64_t max_bet_id = 0;     // bets above it are the runs'
  int64_t max_market_id = 0;  // markets above it, the runs'
  std::string host;        // the machine serving it, and the process (gone: the file is stale)
  int64_t pid = 0;
  std::string ToJson() const;
  // Throws std::invalid_argument naming the problem.
  static PlatformState Parse(const std::string& json_text);
  // Served by this machine, by a process that is gone.
  bool Stale() const;
};

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
  // PlatformHost: the IP address its fan-out server listens on (a free port), which the
  // platform's state gives the shards to connect to.
  std::string fanout_address = "127.0.0.1";
  // Load a platform another process prepared (PlatformHost), rather than preparing one.
  std::optional<PlatformState> platform;
  // This process's part of a run spread over shard_count processes, starting at start_at
  // (every role's users, wallets, arrivals and subscribers i with i % shard_count ==
  // shard_index, as load::LoadSpec deals them); needs `platform`. The result then carries
  // what results merge needs (results/shard_merge.h), with `shard_plan` as the run's
  // options the shards must share.
  int shard_index = 0, shard_count = 0;  // 0: not a shard
  std::optional<std::chrono::system_clock::time_point> start_at;
  std::string shard_plan;
};

// Prepares the platform for `spec` on staging (options' URLs, ledger and seed): drops the
// schemas of interrupted runs, seeds a fresh schema with its hot markets open, then starts
// the fan-out server and the listener as child processes. The destructor stops them and
// drops the schema (unless keep_schema). Call it before this process starts any thread.
class PlatformHost {
 public:
  PlatformHost(const ScenarioSpec& spec, const RunOptions& options);
  ~PlatformHost();
  PlatformHost(const PlatformHost&) = delete;
  PlatformHost& operator=(const PlatformHost&) = delete;
  const PlatformState& state() const { return state_; }
  pid_t listener_pid() const;
  pid_t fanout_pid() const;
  uint32_t listener_metrics_port() const;
  uint32_t fanout_port() const;
  bool running() const;  // the listener and the fan-out both still up
  // Stops the listener and the fan-out (the schema stays until destruction).
  void Stop();

 private:
  void Drop();
  std::string direct_url_;
  bool keep_schema_ = false, seeded_ = false;
  PlatformState state_;
  std::unique_ptr<ChildProcess> fanout_, listener_;
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
  // A shard's run (RunOptions::shard_count > 0): which one, when it started by its clock,
  // and its clock against the database's.
  struct Shard {
    int index = 0, count = 1;
    std::string plan;
    std::optional<int64_t> start_at_ns;
    int64_t schedule_ns = 0, started_ns = 0;
    double seconds = 0;  // from the schedule's start to the last role's last answer
    std::optional<double> clock_offset_ms, clock_offset_error_ms;
    // Click to screen's parts (ScreenRecorder::BetScreens): when this shard sent its own
    // actions, and when its subscribers had every action of the run they watch.
    struct Screens {
      std::unordered_map<std::string, int64_t> sent, shown;
      int64_t deadline_ns = 0;
      int64_t local_incomplete = 0;  // counted in this shard's own figures
    };
    Screens bets, markets;
  };
  std::optional<Shard> shard;

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

 private:
  void AddShardParts(nlohmann::json& out) const;
};

// std::invalid_argument naming options that cannot go together (a shard without a
// platform, a role with fewer users than shards, a platform prepared for another
// scenario); std::runtime_error for a platform whose process is gone. RunScenario checks
// them first; a command checks them before it starts anything.
void CheckRunOptions(const ScenarioSpec& spec, const RunOptions& options);

// Throws std::runtime_error with one line naming what is missing (no ledger, a pooled URL
// where a direct one is needed, a process that did not start); nothing is left running.
// std::invalid_argument as CheckRunOptions.
ScenarioResult RunScenario(const ScenarioSpec& spec, const RunOptions& options);

}  // namespace pmbench::scenario

#endif  // PMBENCH_SCENARIO_RUN_H_
