// pmbench load db: the database load test outside ctest, on the engine the benchmarks use.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "lib/db/database_url.h"
#include "lib/db/staging.h"
#include "lib/load/engine.h"
#include "lib/queries/db_load.h"
#include "lib/results/gbench_json.h"
#include "lib/stats/threshold.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_common.h"

namespace pmbench::cli {
namespace {

const std::string kUsage = R"(Usage: pmbench load db [options]

Sends the platform's database requests through the pooler on many connections from a few
threads (libpq's asynchronous API) and reports latency from each request's intended start
(coordinated omission corrected) and from its actual send, per request kind.

Open model (default): requests arrive at --rate per second whatever the server does; those
finding every connection busy wait, and past --max-in-flight they are dropped and counted.
Closed model (--vus N): N users each send, wait for the answer, and think --think seconds.

Options:
  --scenario NAME         markets | detail | bets | dashboard | leaderboard | mix |
                          browse | point_select (pgbench -S's select; needs
                          pgbench -i)                                            [markets]
                          mix is the story's peak: 500 browsing, 300 betting, 150 voting,
                          50 creating markets; browse is its reads alone
  --clients N             connections opened before the run                     [100]
  --rate R                open model: requests per second                       [1000]
  --vus N                 closed model: virtual users (at most --clients)
  --think S               closed model: seconds between a user's requests       [0]
  --duration D            how long to hold the rate or users: 30, 30s, 2m       [30s]
  --ramp-up D             reach the rate or users linearly over D first          [0]
)" + std::string(kShapeUsage) + R"(  --warmup D              run at the starting level for D first, unrecorded      [0]
  --max-in-flight N       open model: started + waiting requests before dropping [2 x clients]
  --threads N             engine threads                                        [cores]
  --cache                 lists, market pages and leaderboard via the in-process cache
  --leaderboard KIND      materialized | live                                   [materialized]
  --threshold EXPR        k6-style, repeatable: [METRIC:]EXPR, e.g. 'p(95)<100ms',
                          'list_markets:p(99)<50ms', 'success:rate>0.99', 'dropped:count<1'.
                          METRIC: latency (default), service, a request kind of the
                          scenario, success, requests, dropped, failed, unfinished; an
                          unknown one exits 2 before the run. Exit status 1 when one fails.
  --database URL          where requests go (default: staging's pooled URL)
  --schema NAME           the seeded schema (default: pmbench; pmbench db seed)
  --seed S                request arguments' random seed                        [1]
  --out FILE              write the result JSON there instead of stdout
)" + std::string(kMetricsUsage) + R"(  --allow-remote-writes   permit a server that is not on loopback

Latency counts every request from its intended start (coordinated omission corrected):
failed ones until their answer (as k6 does), dropped and unfinished ones until the run's
deadline (the schedule's end + the drain time), so a run cannot pass a percentile by losing
its slowest requests; all of them count against success. `service` is the answered ones'
time from the actual send.

The result is Google Benchmark JSON (one entry for the run, one per request kind; the
thresholds in pmbench_bars), so pmbench results merge|summary and tools/compare take it.
Counters: achieved_requests_per_s (answers that passed their check, per second) and, in
the open model, offered_requests_per_s (the schedule's rate); recovery_s after a --spike
(-1: never back under 100 ms). Each kind's latency per second is in pmbench_series (an
interval log: exact histograms per interval). A progress line is shown on a terminal.
)";

// Every metric a db threshold can read, for the request kinds of `mix`.
std::vector<std::string> DbMetrics(const std::vector<load::RequestKind>& mix) {
  std::vector<std::string> m = {"latency", "service", "success", "requests", "dropped", "failed", "unfinished"};
  for (const auto& k : mix) m.push_back(k.name);
  return m;
}

std::map<std::string, stats::Observed> DbObserved(const load::LoadResult& r) {
  std::map<std::string, stats::Observed> o = {
      {"latency", {.latency = &r.total.latency}},
      {"service", {.latency = &r.total.service}},
      {"success", {.rate = r.total.success_ratio()}},
      {"requests", {.count = static_cast<double>(r.total.ok), .rate = r.throughput()}},
      {"dropped", {.count = static_cast<double>(r.total.dropped)}},
      {"failed", {.count = static_cast<double>(r.total.failed)}},
      {"unfinished", {.count = static_cast<double>(r.total.unfinished)}}};
  for (const auto& k : r.kinds) o[k.name] = {.latency = &k.latency};
  return o;
}

// A load db run as the flags ask for it, checked before anything connects.
struct DbRun {
  std::string scenario_name;
  queries::DbScenario scenario;
  bool closed;   // closed model: `level` users; open: `level` requests/s
  double level;
  load::Shape shape;
  queries::LeaderboardSource leaderboard;
  std::vector<stats::Bar> thresholds;
  std::string url, schema;
  db::DatabaseTarget target;
  load::LoadSpec spec;  // without its mix and progress: the workload gives them
};

DbRun ParseDbRun(const Flags& flags) {
  DbRun run;
  run.scenario_name = flags.Get("scenario", "markets");
  const auto scenario = queries::ParseDbScenario(run.scenario_name);
  if (!scenario) throw UsageError("unknown scenario '" + run.scenario_name + "' (see pmbench load db --help)");
  run.scenario = *scenario;
  run.closed = flags.Has("vus");
  if (run.closed && (flags.Has("rate") || flags.Has("max-in-flight"))) {
    throw UsageError("--vus (closed model) goes without --rate and --max-in-flight");
  }
  if (!run.closed && flags.Has("think")) throw UsageError("--think goes with --vus");
  run.level = run.closed ? flags.GetDouble("vus", 0) : flags.GetDouble("rate", 1000);
  if (!(run.level > 0)) throw UsageError(run.closed ? "--vus must be > 0" : "--rate must be > 0");
  run.shape = ParseShape(flags, run.level);
  const double clients = flags.GetDouble("clients", run.closed ? std::max(100.0, run.shape.peak()) : 100);
  if (!(clients >= 1 && clients <= 100'000) || clients != std::floor(clients)) {
    throw UsageError("--clients must be a whole number in 1..100000");
  }
  const std::string lb = flags.Get("leaderboard", "materialized");
  if (lb != "materialized" && lb != "live") throw UsageError("--leaderboard is materialized or live");
  run.leaderboard = lb == "live" ? queries::LeaderboardSource::kLive : queries::LeaderboardSource::kMaterialized;
  run.thresholds = ParseThresholds(flags, "latency", DbMetrics(queries::DbWorkload::Mix(run.scenario)));

  run.url = flags.Has("database") ? flags.Get("database", "") : db::ResolveStaging().pooled_url;
  run.target = db::ParseDatabaseUrl(run.url);
  // Load goes to loopback only, unless asked: it writes, and it is a lot of traffic.
  db::CheckWritable(run.target, flags.Has("allow-remote-writes"));
  run.schema = flags.Get("schema", "pmbench");
  db::CheckSchemaName(run.schema);

  load::LoadSpec& spec = run.spec;
  spec.model = run.closed ? load::Model::kClosed : load::Model::kOpen;
  spec.clients = static_cast<int>(clients);
  spec.start = run.shape.start;
  const double warmup = ParseDuration("warmup", flags.Get("warmup", "0"));
  if (warmup > 0) {  // at the starting level: zero users or requests warm nothing up
    if (run.shape.start == 0) throw UsageError("--warmup goes with a shape that starts at its level (a ramp is its own warm-up)");
    spec.stages.push_back({warmup, run.shape.start});
    spec.warmup_s = warmup;
  }
  spec.stages.insert(spec.stages.end(), run.shape.stages.begin(), run.shape.stages.end());
  spec.think_s = flags.GetDouble("think", 0);
  spec.max_in_flight = static_cast<int>(flags.GetUint("max-in-flight", 0));
  spec.threads = static_cast<int>(flags.GetUint("threads", 0));
  spec.seed = flags.GetUint("seed", 1);
  return run;
}

// Prepares the workload (verifying the schema), runs the load with a progress line on a
// terminal, and checks the bets it placed.
load::LoadResult RunDb(DbRun& run, bool cache, metrics::Registry* metrics) {
  std::cerr << "preparing " << run.scenario_name << " on " << run.target.Display() << " (schema " << run.schema
            << ")\n";
  auto workload = queries::DbWorkload::Prepare(
      run.url, run.schema,
      {.cache = cache,
       .leaderboard = run.leaderboard,
       .run_tag = "cli-" + std::to_string(getpid()) + "-" + std::to_string(std::time(nullptr)),
       .seed = run.spec.seed});
  load::LoadSpec spec = run.spec;
  spec.mix = queries::DbWorkload::Mix(run.scenario);
  spec.metrics = metrics;
  spec.role = "db";
  const bool tty = isatty(STDERR_FILENO);
  if (tty) {
    spec.progress = [](const load::Progress& p) {
      std::fprintf(stderr, "\r  %6.1fs  level %-8.0f %8.0f/s  done %-9lld failed %-6lld dropped %-6lld in flight %-5lld ",
                   p.elapsed_s, p.level, p.rate, static_cast<long long>(p.completed), static_cast<long long>(p.failed),
                   static_cast<long long>(p.dropped), static_cast<long long>(p.in_flight));
      std::fflush(stderr);
    };
  }
  std::cerr << "opening " << spec.clients << " connections; " << (run.closed ? "closed model, " : "open model, ")
            << "up to " << run.shape.peak() << (run.closed ? " users" : " requests/s") << " over " << run.shape.seconds() << " s"
            << (run.shape.spike_end_s ? " (a x10 spike)" : "") << "\n";
  const load::LoadResult r = load::RunLoad(spec, workload->Clients(run.url, run.scenario));
  if (tty) std::cerr << "\n";
  if (workload->counters().bets_placed > 0) workload->VerifyBets(run.url);
  return r;
}

void PrintDbSummary(const DbRun& run, const load::LoadResult& r) {
  for (const auto& k : r.kinds) {
    if (k.requests() == 0) continue;
    std::fprintf(stderr, "  %-14s %9lld ok %6lld failed %6lld dropped %6lld unfinished  p50 %8.2f  p95 %8.2f  p99 %8.2f ms  (service p99 %.2f ms)\n",
                 k.name.c_str(), static_cast<long long>(k.ok), static_cast<long long>(k.failed),
                 static_cast<long long>(k.dropped), static_cast<long long>(k.unfinished), k.latency.Percentile(50) / 1e6,
                 k.latency.Percentile(95) / 1e6, k.latency.Percentile(99) / 1e6, k.service.Percentile(99) / 1e6);
    for (const auto& [reason, n] : k.errors) std::fprintf(stderr, "      %lld x %s\n", static_cast<long long>(n), db::RedactSecrets(reason).c_str());
  }
  std::fprintf(stderr, "  achieved %.0f requests/s (offered %s) over %.1f s; schedule lag p99 %.2f ms; busiest engine thread %.0f%% CPU\n",
               r.throughput(), run.closed ? "by the users" : (std::to_string(static_cast<int64_t>(run.level)) + "/s").c_str(), r.seconds,
               r.lag.Percentile(99) / 1e6, r.generator_cpu * 100);
  if (r.generator_bound) {
    std::cerr << "  GENERATOR BOUND: " << r.generator_reason << " - latencies include the engine's own delay\n";
  }
}

// The summary on stderr, the thresholds, and the result JSON; the exit status.
int ReportDb(const Flags& flags, const DbRun& run, const load::LoadResult& r) {
  PrintDbSummary(run, r);
  const auto verdicts = EvaluateThresholds(run.thresholds, DbObserved(r));
  // Open model: the engine's delay is inside the latency measured, so only a closed run, whose
  // load a bound engine lightens, fails for it.
  const bool failed = !AllPass(verdicts) || (r.generator_bound && run.closed && !run.thresholds.empty());

  nlohmann::json errors = nlohmann::json::object();
  for (const auto& k : r.kinds) {
    for (const auto& [reason, n] : k.errors) errors[k.name][db::RedactSecrets(reason)] = n;
  }
  const nlohmann::json context = {{"date", Now()},
                                   {"executable", "pmbench load db"},
                                   {"pmbench_scenario", run.scenario_name},
                                   {"pmbench_model", run.closed ? "closed" : "open"},
                                   {"pmbench_database", run.target.Display()},
                                   {"pmbench_generator_bound", r.generator_bound},
                                   {"pmbench_generator_reason", r.generator_reason},
                                   {"pmbench_errors", errors}};
  const std::string base = "load_db/" + run.scenario_name;
  const auto mix = queries::DbWorkload::Mix(run.scenario);
  const auto offered = [&](const load::KindResult& k) -> std::optional<double> {
    if (run.closed) return std::nullopt;
    double weight = 0, total = 0;
    for (const auto& m : mix) {
      total += m.weight;
      if (m.name == k.name) weight = m.weight;
    }
    // The mean rate the shape offered (for a constant shape, its rate).
    const double mean = static_cast<double>(load::ArrivalSchedule(run.shape.start, run.shape.stages).total()) / run.shape.seconds();
    return &k == &r.total ? mean : mean * weight / total;
  };
  std::vector<results::RunEntry> entries;
  results::RunEntry whole{base, r.seconds, KindCounters(r.total, r.seconds, offered(r.total))};
  whole.counters.insert(whole.counters.end(), {{"clients", static_cast<double>(r.clients)},
                                               {"threads_used", static_cast<double>(r.threads)},
                                               {"lag_p99_ms", r.lag.Percentile(99) / 1e6},
                                               {"lag_max_ms", static_cast<double>(r.lag.max()) / 1e6},
                                               {"generator_cpu", r.generator_cpu},
                                               {"generator_bound", r.generator_bound ? 1.0 : 0.0},
                                               {"connect_s", r.connect_s}});
  // After a spike: until p95 is back under the story's database SLA (100 ms) for good.
  if (run.shape.spike_end_s) whole.counters.push_back({"recovery_s", RecoverySeconds(run.shape, r.total, 100e6).value_or(-1)});
  entries.push_back(std::move(whole));
  for (const auto& k : r.kinds) entries.push_back({base + "/" + k.name, r.seconds, KindCounters(k, r.seconds, offered(k))});
  WriteResult(flags, results::WriteRunJson(context, entries, verdicts, SeriesJson(base, r)));
  return failed ? 1 : 0;
}

}  // namespace

int LoadDbCommand(const std::vector<std::string>& args) {
  const Flags flags(args,
                    {"scenario", "clients", "rate", "vus", "think", "duration", "ramp-up", "stage", "warmup", "max-in-flight", "threads",
                     "leaderboard", "threshold", "database", "schema", "seed", "out", "metrics-listen"},
                    {"cache", "spike", "allow-remote-writes", "help"});
  if (PrintedHelpOrRejectedArguments(flags, kUsage, "pmbench load db")) return 0;
  DbRun run = ParseDbRun(flags);
  const auto served = ServeMetrics(flags, "pmbench load db");
  const load::LoadResult r = RunDb(run, flags.Has("cache"), served ? &served->registry : nullptr);
  return ReportDb(flags, run, r);
}

}  // namespace pmbench::cli
