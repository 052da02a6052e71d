// What the load commands (load db, load ws, load chain) share: durations, thresholds on
// the one path the benchmarks use (stats::Bar), and their results as Google Benchmark JSON.
#ifndef PMBENCH_TOOLS_CLI_LOAD_COMMON_H_
#define PMBENCH_TOOLS_CLI_LOAD_COMMON_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/load/engine.h"
#include "lib/metrics/exporter.h"
#include "lib/metrics/registry.h"
#include "lib/load/shape.h"
#include "lib/results/shard_merge.h"
#include "lib/stats/report.h"

namespace pmbench::cli {

class Flags;

// "30", "30s", "250ms", "2m", "1h" -> seconds; UsageError naming --<name> otherwise.
double ParseDuration(const std::string& name, const std::string& text);
using load::ParseFinite;  // the whole of a text as a finite number

// Every --threshold '[METRIC:]EXPR' as a bar that fails the run (METRIC defaults to
// `default_metric`), checked against the metrics the command measures before any load
// starts: UsageError (exit 2) naming the bad one and listing `valid`.
std::vector<stats::Bar> ParseThresholds(const Flags& flags, std::string_view default_metric,
                                        const std::vector<std::string>& valid);

// Evaluates the thresholds, prints one line each on stderr, returns their results.
std::vector<stats::BarResult> EvaluateThresholds(const std::vector<stats::Bar>& bars,
                                                 const std::map<std::string, stats::Observed>& observed);
bool AllPass(const std::vector<stats::BarResult>& results);

// The engine's counters of one request kind: latency (every request, from its intended
// start; dropped and unfinished ones at the deadline) and service percentiles, ok, failed,
// dropped, unfinished, success_ratio, achieved_requests_per_s (ok / seconds) and, in the
// open model, offered_requests_per_s (the schedule's rate: the input, not a measurement).
std::vector<std::pair<std::string, double>> KindCounters(const load::KindResult& k, double seconds,
                                                         std::optional<double> offered_per_s);

// The run's shape over time: --stage 'D:N,...' (k6 stages), --spike (x10 for the middle
// fifth of --duration, then back) or, by default, `level` for --duration after --ramp-up.
// UsageError for a bad or contradictory one.
load::Shape ParseShape(const Flags& flags, double level);
extern const char* const kShapeUsage;  // the help lines of those flags

// Each kind's interval log as pmbench_series entries named `<base>/<kind>`.
nlohmann::json SeriesJson(const std::string& base, const load::LoadResult& r);

// After a spike: seconds from its end until `k`'s p95 is back under `limit_ns` for good;
// nullopt when the shape has no spike or the run never recovered.
std::optional<double> RecoverySeconds(const load::Shape& shape, const load::KindResult& k, double limit_ns);

// --metrics-listen HOST:PORT: the command's Prometheus metrics, served while it runs
// (nullptr without the flag). UsageError for a bad address; std::runtime_error naming the
// address when it cannot listen (in use).
struct MetricsEndpoint {
  metrics::Registry registry;
  std::unique_ptr<metrics::Exporter> exporter;
};
std::unique_ptr<MetricsEndpoint> ServeMetrics(const Flags& flags, const std::string& command);
extern const char* const kMetricsUsage;  // the help line of --metrics-listen

// Every metric a load threshold can read: latency, service, success, requests, dropped,
// failed, unfinished and each request kind of `mix` (its latency).
std::vector<std::string> LoadMetrics(const std::vector<load::RequestKind>& mix);
std::map<std::string, stats::Observed> LoadObserved(const load::LoadResult& r);

// --shard I/N and --start-at TIME into `spec` (engine.h: shard I takes its part of every
// arrival, user and client; the schedule starts at TIME by the wall clock). TIME is UTC
// RFC 3339 (2026-12-03T20:30:00Z, fractions allowed) or Unix seconds. UsageError for a
// bad one.
void ParseShard(const Flags& flags, load::LoadSpec& spec);
extern const char* const kShardUsage;  // the help lines of those flags
// The command line but a shard's own options (--shard, --out, --metrics-listen, --threads), secrets
// redacted: what the shards of one run share, and the merge checks.
std::string ShardPlan(const std::string& command, const std::vector<std::string>& args);

// The model, level, shape and engine spec of a load command: --rate (open) or --vus with
// --think (closed), the shape (ParseShape), --warmup, --max-in-flight, --threads, --seed and
// the connections (--`clients_flag`). UsageError for a bad or contradictory one.
struct LoadPlan {
  bool closed = false;  // closed model: `level` users; open: `level` requests/s
  double level = 0;
  load::Shape shape;
  load::LoadSpec spec;  // without its mix, progress and metrics
};
LoadPlan ParseLoadPlan(const Flags& flags, double default_rate, const std::string& clients_flag = "clients");
// The help lines of those flags (but the connections' and the seed's).
std::string PlanUsage();

// The open model's arrivals after the warm-up that are this shard's (all of them unsharded).
uint64_t ShardArrivals(const LoadPlan& plan);

// A progress line on a terminal (nothing otherwise), and "opening N connections; ..." first.
void AddProgress(const LoadPlan& plan, load::LoadSpec& spec);
// Each kind's counts and percentiles, the achieved rate and the engine's health, on stderr.
void PrintLoadSummary(const LoadPlan& plan, const load::LoadResult& r);

// Evaluates the thresholds, writes the result JSON (`base` for the run, `base/<kind>` per
// kind, with `whole` and `per_kind` counters added) and returns the exit status: 1 when a
// threshold failed, or a closed run's engine was bound (it lightened the load).
struct LoadReport {
  std::string base;
  nlohmann::json context;  // date, executable and the command's own keys
  std::vector<std::pair<std::string, double>> whole;
  std::function<std::vector<std::pair<std::string, double>>(size_t kind)> per_kind;
  // A shard's result (--shard) carries these: ShardPlan, and this clock's offset from a
  // reference both shards read (nullopt: WithShard reads staging's database, when there
  // is one) — see results/shard_merge.h.
  std::string plan;
  std::optional<std::pair<double, double>> clock_offset_ms;  // offset, error
  std::string clock_reference;
};
int ReportLoad(const Flags& flags, const LoadPlan& plan, const load::LoadResult& r, const std::vector<stats::Bar>& thresholds,
               LoadReport report);

// A shard's result (--shard): `text` with what results merge needs to rebuild the whole
// run exactly — when and how it ran, every histogram behind its counters, and every
// metric a threshold can read in a form that adds up (results/shard_merge.h).
std::string WithShard(const std::string& text, const load::LoadSpec& spec, const load::LoadResult& r, const LoadReport& report,
                      const std::map<std::string, results::ShardMetric>& observed,
                      const std::vector<results::ShardHistogram>& histograms);

// The exit status for a run's verdicts: 1 when one failed — but a shard's (--shard) are
// parts of the run's, judged by `results merge` on the whole; a shard exits 0 once it has
// written its result (an Indexed Job fails on any pod's non-zero exit, and would never
// reach the merge), saying on stderr what failed on it alone.
int VerdictStatus(const Flags& flags, bool passed);

// The current UTC time, ISO 8601, as Google Benchmark's context.date.
std::string Now();

// A command's result JSON: to --out FILE (atomically) when given, else stdout.
void WriteResult(const Flags& flags, const std::string& text);

}  // namespace pmbench::cli

#endif  // PMBENCH_TOOLS_CLI_LOAD_COMMON_H_
