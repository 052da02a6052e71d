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
#include "lib/db/pg_session.h"
#include "lib/db/staging.h"
#include "lib/load/engine.h"
#include "lib/queries/db_load.h"
#include "lib/queries/schema_check.h"
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
)" + PlanUsage() + kShardUsage + R"(  --cache                 lists, market pages and leaderboard via the in-process cache
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

// A load db run as the flags ask for it, checked before anything connects.
struct DbRun {
  std::string scenario_name;
  queries::DbScenario scenario;
  LoadPlan plan;
  queries::LeaderboardSource leaderboard;
  std::vector<stats::Bar> thresholds;
  std::string url, schema;
  db::DatabaseTarget target;
};

DbRun ParseDbRun(const Flags& flags) {
  DbRun run;
  run.scenario_name = flags.Get("scenario", "markets");
  const auto scenario = queries::ParseDbScenario(run.scenario_name);
  if (!scenario) throw UsageError("unknown scenario '" + run.scenario_name + "' (see pmbench load db --help)");
  run.scenario = *scenario;
  run.plan = ParseLoadPlan(flags, 1000);
  const std::string lb = flags.Get("leaderboard", "materialized");
  if (lb != "materialized" && lb != "live") throw UsageError("--leaderboard is materialized or live");
  run.leaderboard = lb == "live" ? queries::LeaderboardSource::kLive : queries::LeaderboardSource::kMaterialized;
  run.plan.spec.mix = queries::DbWorkload::Mix(run.scenario);
  run.thresholds = ParseThresholds(flags, "latency", LoadMetrics(run.plan.spec.mix));

  run.url = flags.Has("database") ? flags.Get("database", "") : db::ResolveStaging().pooled_url;
  run.target = db::ParseDatabaseUrl(run.url);
  // Load goes to loopback only, unless asked: it writes, and it is a lot of traffic.
  db::CheckWritable(run.target, flags.Has("allow-remote-writes"));
  run.schema = flags.Get("schema", "pmbench");
  db::CheckReadableSchemaName(run.schema);
  return run;
}

// Prepares the workload (verifying the schema), runs the load with a progress line on a
// terminal, and checks the bets it placed.
load::LoadResult RunDb(DbRun& run, bool cache, metrics::Registry* metrics) {
  std::cerr << "preparing " << run.scenario_name << " on " << run.target.Display() << " (schema " << run.schema
            << ")\n";
  if (run.scenario != queries::DbScenario::kPointSelect) {
    queries::CheckSchema(run.url, run.schema, queries::NeedsOf(run.scenario), "load db --scenario " + run.scenario_name);
  }
  auto workload = queries::DbWorkload::Prepare(
      run.url, run.schema,
      {.cache = cache,
       .leaderboard = run.leaderboard,
       .run_tag = "cli-" + std::to_string(getpid()) + "-" + std::to_string(std::time(nullptr)),
       .seed = run.plan.spec.seed});
  load::LoadSpec spec = run.plan.spec;
  spec.metrics = metrics;
  spec.role = "db";
  AddProgress(run.plan, spec);
  const load::LoadResult r = load::RunLoad(spec, workload->Clients(run.url, run.scenario));
  if (workload->counters().bets_placed > 0) workload->VerifyBets(run.url);
  return r;
}

// The summary on stderr, the thresholds, and the result JSON; the exit status.
int ReportDb(const Flags& flags, const DbRun& run, const load::LoadResult& r, std::string plan,
             std::optional<db::ClockOffset> clock) {
  LoadReport report{.base = "load_db/" + run.scenario_name,
                    .context = {{"executable", "pmbench load db"},
                                {"pmbench_scenario", run.scenario_name},
                                {"pmbench_database", run.target.Display()}},
                    .plan = std::move(plan)};
  if (clock) {
    report.clock_offset_ms = std::pair{clock->offset_ms, clock->error_ms};
    report.clock_reference = "the database's clock_timestamp()";
  }
  // After a spike: until p95 is back under the story's database SLA (100 ms) for good.
  if (run.plan.shape.spike_end_s) report.whole.push_back({"recovery_s", RecoverySeconds(run.plan.shape, r.total, 100e6).value_or(-1)});
  return ReportLoad(flags, run.plan, r, run.thresholds, std::move(report));
}

}  // namespace

int LoadDbCommand(const std::vector<std::string>& args) {
  const Flags flags(args,
                    {"scenario", "clients", "rate", "vus", "think", "duration", "ramp-up", "stage", "warmup", "max-in-flight", "threads",
                     "leaderboard", "threshold", "database", "schema", "seed", "out", "metrics-listen", "shard", "start-at"},
                    {"cache", "spike", "allow-remote-writes", "help"});
  if (PrintedHelpOrRejectedArguments(flags, kUsage, "pmbench load db")) return 0;
  DbRun run = ParseDbRun(flags);
  const auto served = ServeMetrics(flags, "pmbench load db");
  // A shard measures its clock against the database every shard reads: the merge reports
  // how far the shards' clocks disagree.
  std::optional<db::ClockOffset> clock;
  if (flags.Has("shard")) {
    db::PgSession session(run.url);
    clock = db::MeasureClockOffset(session);
  }
  const load::LoadResult r = RunDb(run, flags.Has("cache"), served ? &served->registry : nullptr);
  return ReportDb(flags, run, r, ShardPlan("load db", args), clock);
}

}  // namespace pmbench::cli
