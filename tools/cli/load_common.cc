#include "tools/cli/load_common.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>
#include <iostream>
#include <stdexcept>

#include "lib/db/database_url.h"
#include "lib/db/pg_session.h"
#include "lib/db/staging.h"
#include "lib/load/arrival_schedule.h"
#include "lib/results/gbench_json.h"
#include "lib/results/shard_merge.h"
#include "lib/stats/wall_clock.h"
#include "lib/stats/interval_series.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {

double ParseDuration(const std::string& name, const std::string& text) {
  try {
    return load::ParseSeconds(text);
  } catch (const std::invalid_argument&) {
    throw UsageError("--" + name + " takes a duration like 30, 30s or 2m, not '" + text + "'");
  }
}

const char* const kShapeUsage =
    R"(  --stage LIST            k6 stages instead of --duration: '30s:100,1m:1000,30s:0' (each
                          stage moves linearly to its target rate or users over its time)
  --spike                 a spike over --duration: 30% at the level, 20% at x10, the rest
                          back at the level; the result's recovery_s is the time after the
                          spike until p95 is back under its SLA for good
)";

const char* const kMetricsUsage =
    "  --metrics-listen H:P     serve Prometheus metrics at http://H:P/metrics while it runs (port 0: a free one)\n";

std::unique_ptr<MetricsEndpoint> ServeMetrics(const Flags& flags, const std::string& command) {
  if (!flags.Has("metrics-listen")) return nullptr;
  auto m = std::make_unique<MetricsEndpoint>();
  try {
    m->exporter = std::make_unique<metrics::Exporter>(m->registry, flags.Get("metrics-listen", ""));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--metrics-listen: ") + e.what());
  }
  m->exporter->Start();
  std::cerr << command << ": metrics on http://" << m->exporter->host() << ":" << m->exporter->port() << "/metrics\n";
  return m;
}

load::Shape ParseShape(const Flags& flags, double level) {
  const int shapes = flags.Has("stage") + flags.Has("spike") + flags.Has("ramp-up");
  if (shapes > 1) throw UsageError("--stage, --spike and --ramp-up are different shapes: give one");
  if (flags.Has("stage")) {
    if (flags.Has("duration")) throw UsageError("--stage sets the duration: drop --duration");
    try {
      return load::ParseStages(flags.Get("stage", ""));
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--stage: ") + e.what());
    }
  }
  const double duration = ParseDuration("duration", flags.Get("duration", "30s"));
  if (!(duration > 0)) throw UsageError("--duration must be > 0");
  if (flags.Has("spike")) return load::SpikeShape(level, duration);
  return load::ConstantShape(level, duration, ParseDuration("ramp-up", flags.Get("ramp-up", "0")));
}

nlohmann::json SeriesJson(const std::string& base, const load::LoadResult& r) {
  nlohmann::json out = nlohmann::json::array();
  const auto add = [&](const std::string& name, const load::KindResult& k) {
    out.push_back({{"run_name", name}, {"metric", "latency"}, {"log", nlohmann::json::parse(k.series.ToJson())}});
  };
  add(base, r.total);
  for (const auto& k : r.kinds) add(base + "/" + k.name, k);
  return out;
}

std::optional<double> RecoverySeconds(const load::Shape& shape, const load::KindResult& k, double limit_ns) {
  if (!shape.spike_end_s) return std::nullopt;
  const double step = k.series.interval_s();
  const auto from = static_cast<size_t>(std::ceil(*shape.spike_end_s / step - 1e-9));
  const auto at = stats::RecoveredAt(k.series, from, 95, limit_ns);
  if (!at) return std::nullopt;
  return std::max(0.0, static_cast<double>(*at) * step - *shape.spike_end_s);
}

std::vector<stats::Bar> ParseThresholds(const Flags& flags, std::string_view default_metric,
                                        const std::vector<std::string>& valid) {
  std::vector<stats::Bar> bars;
  try {
    for (const auto& t : flags.GetAll("threshold")) bars.push_back(stats::Bar::Parse(t, default_metric));
    stats::CheckBarMetrics(bars, valid);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--threshold: ") + e.what());
  }
  return bars;
}

std::vector<stats::BarResult> EvaluateThresholds(const std::vector<stats::Bar>& bars,
                                                 const std::map<std::string, stats::Observed>& observed) {
  const auto results = stats::EvaluateBars(bars, observed);
  for (const auto& r : results) {
    std::cerr << "  " << (r.pass ? "ok    " : "FAILED") << " " << r.metric << ":" << r.expression << "  (" << r.message
              << ")\n";
  }
  return results;
}

bool AllPass(const std::vector<stats::BarResult>& results) {
  for (const auto& r : results) {
    if (!r.pass) return false;
  }
  return true;
}

std::vector<std::pair<std::string, double>> KindCounters(const load::KindResult& k, double seconds,
                                                         std::optional<double> offered_per_s) {
  std::vector<std::pair<std::string, double>> c;
  for (const auto& [prefix, h] : {std::pair<std::string, const stats::LatencyHistogram*>{"", &k.latency},
                                  {"service_", &k.service}}) {
    c.emplace_back(prefix + "p50_ms", h->Percentile(50) / 1e6);
    c.emplace_back(prefix + "p95_ms", h->Percentile(95) / 1e6);
    c.emplace_back(prefix + "p99_ms", h->Percentile(99) / 1e6);
    c.emplace_back(prefix + "max_ms", static_cast<double>(h->max()) / 1e6);
    c.emplace_back(prefix + "mean_ms", h->mean() / 1e6);
  }
  c.emplace_back("ok", static_cast<double>(k.ok));
  c.emplace_back("failed", static_cast<double>(k.failed));
  c.emplace_back("dropped", static_cast<double>(k.dropped));
  c.emplace_back("unfinished", static_cast<double>(k.unfinished));
  if (const auto s = k.success_ratio()) c.emplace_back("success_ratio", *s);
  c.emplace_back("achieved_requests_per_s", seconds > 0 ? static_cast<double>(k.ok) / seconds : 0);
  if (offered_per_s) c.emplace_back("offered_requests_per_s", *offered_per_s);
  return c;
}

std::vector<std::string> LoadMetrics(const std::vector<load::RequestKind>& mix) {
  std::vector<std::string> m = {"latency", "service", "success", "requests", "dropped", "failed", "unfinished"};
  for (const auto& k : mix) m.push_back(k.name);
  return m;
}

std::map<std::string, stats::Observed> LoadObserved(const load::LoadResult& r) {
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


const char* const kShardUsage =
    R"(  --shard I/N             run part I (0-based) of a run spread over N processes: every
                          other option describes the whole run; results merge with
                          pmbench results merge (README "Beyond one machine"), whose
                          exit status is the run's verdict: a shard exits 0 when
                          only its own part fails a threshold
  --start-at TIME         start the schedule at TIME (UTC RFC 3339 or Unix seconds) so
                          shards start together; one already past exits 1
)";

namespace {

std::chrono::system_clock::time_point ParseInstant(const std::string& text) {
  const auto bad = [&] {
    return UsageError("--start-at takes UTC RFC 3339 (2026-12-03T20:30:00Z) or Unix seconds, not '" + text + "'");
  };
  if (const auto unix_s = ParseFinite(text)) {
    if (*unix_s < 0) throw bad();
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(*unix_s)));
  }
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &consumed) != 6) {
    throw bad();
  }
  std::string rest = text.substr(static_cast<size_t>(consumed));
  double fraction = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    if (digits == 1) throw bad();
    fraction = std::stod("0" + rest.substr(0, digits));
    rest = rest.substr(digits);
  }
  if (rest != "Z" || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    throw bad();
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t t = timegm(&tm);
  return std::chrono::system_clock::from_time_t(t) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(fraction));
}

}  // namespace

void ParseShard(const Flags& flags, load::LoadSpec& spec) {
  if (flags.Has("shard")) {
    const std::string text = flags.Get("shard", "");
    const auto slash = text.find('/');
    const auto i = slash == std::string::npos ? std::nullopt : ParseFinite(text.substr(0, slash));
    const auto n = slash == std::string::npos ? std::nullopt : ParseFinite(text.substr(slash + 1));
    if (!i || !n || *i != std::floor(*i) || *n != std::floor(*n) || *n < 1 || *n > 10'000 || *i < 0 || *i >= *n) {
      throw UsageError("--shard takes I/N with 0 <= I < N (e.g. 0/4 .. 3/4), not '" + text + "'");
    }
    spec.shard_index = static_cast<int>(*i);
    spec.shard_count = static_cast<int>(*n);
    if (spec.shard_count > spec.clients) {
      throw UsageError(std::to_string(spec.shard_count) + " shards need at least as many connections, not " +
                       std::to_string(spec.clients));
    }
  }
  if (flags.Has("start-at")) spec.start_at = ParseInstant(flags.Get("start-at", ""));
}

std::string ShardPlan(const std::string& command, const std::vector<std::string>& args) {
  // A shard's own: which one it is, where it writes, and how many threads its machine gives it.
  static const std::set<std::string> own = {"shard", "out", "metrics-listen", "threads"};
  std::string plan = command;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.starts_with("--")) {
      const std::string name = a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2);
      if (own.contains(name)) {
        // --name VALUE: skip the value too (these options all take one).
        if (a.find('=') == std::string::npos) ++i;
        continue;
      }
    }
    plan += " " + a;
  }
  return db::RedactSecrets(plan);
}

std::string PlanUsage() {
  return R"(  --rate R                open model: requests per second                       [1000]
  --vus N                 closed model: virtual users (at most the connections)
  --think S               closed model: seconds between a user's requests       [0]
  --duration D            how long to hold the rate or users: 30, 30s, 2m       [30s]
  --ramp-up D             reach the rate or users linearly over D first          [0]
)" + std::string(kShapeUsage) + R"(  --warmup D              run at the starting level for D first, unrecorded      [0]
  --max-in-flight N       open model: started + waiting requests before dropping [2 x connections]
  --threads N             engine threads                                        [cores]
)";
}

LoadPlan ParseLoadPlan(const Flags& flags, double default_rate, const std::string& clients_flag) {
  LoadPlan plan;
  plan.closed = flags.Has("vus");
  if (plan.closed && (flags.Has("rate") || flags.Has("max-in-flight"))) {
    throw UsageError("--vus (closed model) goes without --rate and --max-in-flight");
  }
  if (!plan.closed && flags.Has("think")) throw UsageError("--think goes with --vus");
  plan.level = plan.closed ? flags.GetDouble("vus", 0) : flags.GetDouble("rate", default_rate);
  if (!(plan.level > 0)) throw UsageError(plan.closed ? "--vus must be > 0" : "--rate must be > 0");
  plan.shape = ParseShape(flags, plan.level);
  const double clients = flags.GetDouble(clients_flag, plan.closed ? std::max(100.0, plan.shape.peak()) : 100);
  if (!(clients >= 1 && clients <= 100'000) || clients != std::floor(clients)) {
    throw UsageError("--" + clients_flag + " must be a whole number in 1..100000");
  }
  load::LoadSpec& spec = plan.spec;
  spec.model = plan.closed ? load::Model::kClosed : load::Model::kOpen;
  spec.clients = static_cast<int>(clients);
  spec.start = plan.shape.start;
  const double warmup = ParseDuration("warmup", flags.Get("warmup", "0"));
  if (warmup > 0) {  // at the starting level: zero users or requests warm nothing up
    if (plan.shape.start == 0) throw UsageError("--warmup goes with a shape that starts at its level (a ramp is its own warm-up)");
    spec.stages.push_back({warmup, plan.shape.start});
    spec.warmup_s = warmup;
  }
  spec.stages.insert(spec.stages.end(), plan.shape.stages.begin(), plan.shape.stages.end());
  spec.think_s = flags.GetDouble("think", 0);
  spec.max_in_flight = static_cast<int>(flags.GetUint("max-in-flight", 0));
  spec.threads = static_cast<int>(flags.GetUint("threads", 0));
  spec.seed = flags.GetUint("seed", 1);
  ParseShard(flags, spec);
  return plan;
}

void AddProgress(const LoadPlan& plan, load::LoadSpec& spec) {
  if (isatty(STDERR_FILENO)) {
    spec.progress = [](const load::Progress& p) {
      std::fprintf(stderr, "\r  %6.1fs  level %-8.0f %8.0f/s  done %-9lld failed %-6lld dropped %-6lld in flight %-5lld ",
                   p.elapsed_s, p.level, p.rate, static_cast<long long>(p.completed), static_cast<long long>(p.failed),
                   static_cast<long long>(p.dropped), static_cast<long long>(p.in_flight));
      std::fflush(stderr);
    };
  }
  std::cerr << "opening " << spec.clients << " connections; " << (plan.closed ? "closed model, " : "open model, ") << "up to "
            << plan.shape.peak() << (plan.closed ? " users" : " requests/s") << " over " << plan.shape.seconds() << " s"
            << (plan.shape.spike_end_s ? " (a x10 spike)" : "") << "\n";
}

uint64_t ShardArrivals(const LoadPlan& plan) {
  const auto& spec = plan.spec;
  const uint64_t after_warmup = load::ArrivalSchedule(spec.start, spec.stages).total();
  const uint64_t warmup = spec.warmup_s > 0 ? load::ArrivalSchedule(spec.start, {spec.stages.front()}).total() : 0;
  // Arrival i is shard (i % count)'s: how many of [0, n) are shard index's.
  const auto part = [&](uint64_t n) {
    const auto i = static_cast<uint64_t>(spec.shard_index), c = static_cast<uint64_t>(spec.shard_count);
    return n > i ? (n - i + c - 1) / c : 0;
  };
  return part(after_warmup) - part(warmup);
}

void PrintLoadSummary(const LoadPlan& plan, const load::LoadResult& r) {
  if (isatty(STDERR_FILENO)) std::cerr << "\n";
  for (const auto& k : r.kinds) {
    if (k.requests() == 0) continue;
    std::fprintf(stderr, "  %-14s %9lld ok %6lld failed %6lld dropped %6lld unfinished  p50 %8.2f  p95 %8.2f  p99 %8.2f ms  (service p99 %.2f ms)\n",
                 k.name.c_str(), static_cast<long long>(k.ok), static_cast<long long>(k.failed),
                 static_cast<long long>(k.dropped), static_cast<long long>(k.unfinished), k.latency.Percentile(50) / 1e6,
                 k.latency.Percentile(95) / 1e6, k.latency.Percentile(99) / 1e6, k.service.Percentile(99) / 1e6);
    for (const auto& [reason, n] : k.errors) std::fprintf(stderr, "      %lld x %s\n", static_cast<long long>(n), db::RedactSecrets(reason).c_str());
  }
  std::string offered = plan.closed ? "by the users" : std::to_string(static_cast<int64_t>(plan.level)) + "/s";
  if (!plan.closed && plan.spec.shard_count > 1) {
    offered = std::to_string(static_cast<int64_t>(std::llround(static_cast<double>(ShardArrivals(plan)) / plan.shape.seconds()))) +
              "/s, this shard's part of the run's " + offered;
  }
  std::fprintf(stderr, "  achieved %.0f requests/s (offered %s) over %.1f s; schedule lag p99 %.2f ms; busiest engine thread %.0f%% CPU\n",
               r.throughput(), offered.c_str(), r.seconds,
               r.lag.Percentile(99) / 1e6, r.generator_cpu * 100);
  if (r.generator_bound) {
    std::cerr << "  GENERATOR BOUND: " << r.generator_reason << " - latencies include the engine's own delay\n";
  }
}

int ReportLoad(const Flags& flags, const LoadPlan& plan, const load::LoadResult& r, const std::vector<stats::Bar>& thresholds,
               LoadReport report) {
  PrintLoadSummary(plan, r);
  const auto verdicts = EvaluateThresholds(thresholds, LoadObserved(r));
  // Open model: the engine's delay is inside the latency measured, so only a closed run, whose
  // load a bound engine lightens, fails for it.
  const bool failed = !AllPass(verdicts) || (r.generator_bound && plan.closed && !thresholds.empty());

  nlohmann::json errors = nlohmann::json::object();
  for (const auto& k : r.kinds) {
    for (const auto& [reason, n] : k.errors) errors[k.name][db::RedactSecrets(reason)] = n;
  }
  nlohmann::json context = std::move(report.context);
  context["date"] = Now();
  context["pmbench_model"] = plan.closed ? "closed" : "open";
  context["pmbench_generator_bound"] = r.generator_bound;
  context["pmbench_generator_reason"] = r.generator_reason;
  context["pmbench_errors"] = errors;
  double total_weight = 0;
  for (const auto& k : plan.spec.mix) total_weight += k.weight;
  // The mean rate the shape offered (for a constant shape, its rate), shared by weight;
  // a shard's: its part of the arrivals.
  const double mean = plan.closed ? 0 : static_cast<double>(ShardArrivals(plan)) / plan.shape.seconds();
  const auto offered = [&](std::optional<size_t> kind) -> std::optional<double> {
    if (plan.closed) return std::nullopt;
    return kind ? mean * plan.spec.mix[*kind].weight / total_weight : mean;
  };
  std::vector<results::RunEntry> entries;
  results::RunEntry whole{report.base, r.seconds, KindCounters(r.total, r.seconds, offered(std::nullopt))};
  whole.counters.insert(whole.counters.end(), {{"clients", static_cast<double>(r.clients)},
                                               {"threads_used", static_cast<double>(r.threads)},
                                               {"lag_p99_ms", r.lag.Percentile(99) / 1e6},
                                               {"lag_max_ms", static_cast<double>(r.lag.max()) / 1e6},
                                               {"generator_cpu", r.generator_cpu},
                                               {"generator_bound", r.generator_bound ? 1.0 : 0.0},
                                               {"connect_s", r.connect_s}});
  whole.counters.insert(whole.counters.end(), report.whole.begin(), report.whole.end());
  entries.push_back(std::move(whole));
  for (size_t i = 0; i < r.kinds.size(); ++i) {
    results::RunEntry e{report.base + "/" + r.kinds[i].name, r.seconds, KindCounters(r.kinds[i], r.seconds, offered(i))};
    if (report.per_kind) {
      const auto more = report.per_kind(i);
      e.counters.insert(e.counters.end(), more.begin(), more.end());
    }
    entries.push_back(std::move(e));
  }
  std::string text = results::WriteRunJson(context, entries, verdicts, SeriesJson(report.base, r));
  if (flags.Has("shard")) {
    const auto requests = static_cast<double>(r.total.requests());
    std::map<std::string, results::ShardMetric> observed = {
        {"latency", {.latency = &r.total.latency}},
        {"service", {.latency = &r.total.service}},
        {"success", {.ratio = std::pair{static_cast<double>(r.total.ok), requests}}},
        {"requests", {.count = static_cast<double>(r.total.ok), .count_per_second = true}},
        {"dropped", {.count = static_cast<double>(r.total.dropped)}},
        {"failed", {.count = static_cast<double>(r.total.failed)}},
        {"unfinished", {.count = static_cast<double>(r.total.unfinished)}}};
    for (const auto& k : r.kinds) observed[k.name] = {.latency = &k.latency};
    std::vector<results::ShardHistogram> hists = {{report.base, "latency", &r.total.latency},
                                                  {report.base, "service", &r.total.service},
                                                  {report.base, "lag", &r.lag}};
    for (const auto& k : r.kinds) {
      hists.push_back({report.base + "/" + k.name, "latency", &k.latency});
      hists.push_back({report.base + "/" + k.name, "service", &k.service});
    }
    text = WithShard(text, plan.spec, r, report, observed, hists);
  }
  WriteResult(flags, text);
  return VerdictStatus(flags, !failed);
}

std::string WithShard(const std::string& text, const load::LoadSpec& spec, const load::LoadResult& r, const LoadReport& report,
                      const std::map<std::string, results::ShardMetric>& observed,
                      const std::vector<results::ShardHistogram>& histograms) {
  nlohmann::json doc = nlohmann::json::parse(text);
  results::ShardRun run{.index = spec.shard_index, .count = spec.shard_count, .plan = report.plan,
                        .schedule_ns = stats::UnixNs(r.wall_t0), .started_ns = stats::UnixNs(r.wall_started),
                        .warmup_s = spec.warmup_s, .seconds = r.seconds};
  if (spec.start_at) run.start_at_ns = stats::UnixNs(*spec.start_at);
  if (report.clock_offset_ms) {
    run.clock_offset_ms = report.clock_offset_ms->first;
    run.clock_offset_error_ms = report.clock_offset_ms->second;
    run.clock_reference = report.clock_reference;
  } else {
    // A command without a database of its own reads staging's, which every shard of a run
    // is given (the Kubernetes Job's secret): the merge's clock skew needs one reference.
    try {
      setenv("PGCONNECT_TIMEOUT", "3", 0);  // a staging that is not there must not hold the result back
      db::PgSession session(db::ResolveStaging().pooled_url);
      const db::ClockOffset clock = db::MeasureClockOffset(session);
      run.clock_offset_ms = clock.offset_ms;
      run.clock_offset_error_ms = clock.error_ms;
      run.clock_reference = "staging's database clock_timestamp()";
    } catch (const std::exception& e) {
      std::cerr << "clock skew not measured: no staging database to read (" << db::RedactSecrets(e.what()) << ")\n";
    }
  }
  results::AddShard(doc, run, observed, histograms);
  return db::RedactSecrets(doc.dump(2)) + "\n";
}

int VerdictStatus(const Flags& flags, bool passed) {
  if (passed) return 0;
  if (!flags.Has("shard")) return 1;
  std::cerr << "this shard alone failed a threshold above; the run's verdict is pmbench results merge's, on every shard\n";
  return 0;
}

std::string Now() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void WriteResult(const Flags& flags, const std::string& text) {
  if (flags.Has("out")) {
    WriteFileAtomically(flags.Get("out", ""), text);
  } else {
    std::cout << text;
  }
}

}  // namespace pmbench::cli
