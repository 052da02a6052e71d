// pmbench load db: the database load test outside ctest, on the engine the benchmarks use.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "lib/db/database_url.h"
#include "lib/db/staging.h"
#include "lib/load/engine.h"
#include "lib/queries/db_load.h"
#include "lib/realtime/hub.h"
#include "lib/realtime/ws_load.h"
#include "lib/results/gbench_json.h"
#include "lib/stats/threshold.h"
#include "lib/stats/wall_clock.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_common.h"

namespace pmbench::cli {
namespace {

constexpr const char* kUsage = R"(Usage: pmbench load db|ws|chain [options]

  db     the database load test (below)
  ws     WebSocket subscribers of pmbench realtime serve (pmbench load ws --help)
  chain  Solana transaction throughput against an RPC (pmbench load chain --help)

Sends the platform's database requests through the pooler on many connections from a few
threads (libpq's asynchronous API) and reports latency from each request's intended start
(coordinated omission corrected) and from its actual send, per request kind.

Open model (default): requests arrive at --rate per second whatever the server does; those
finding every connection busy wait, and past --max-in-flight they are dropped and counted.
Closed model (--vus N): N users each send, wait for the answer, and think --think seconds.

Options:
  --scenario NAME         markets | detail | bets | dashboard | leaderboard | mix |
                          point_select (pgbench -S's select; needs pgbench -i)   [markets]
                          mix is the story's peak: 500 browsing, 300 betting, 150 voting,
                          50 creating markets
  --clients N             connections opened before the run                     [100]
  --rate R                open model: requests per second                       [1000]
  --vus N                 closed model: virtual users (at most --clients)
  --think S               closed model: seconds between a user's requests       [0]
  --duration D            how long to hold the rate or users: 30, 30s, 2m       [30s]
  --ramp-up D             reach the rate or users linearly over D first          [0]
  --warmup D              run at the starting level for D first, unrecorded      [0]
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
  --allow-remote-writes   permit a server that is not on loopback

Latency counts every request from its intended start (coordinated omission corrected):
failed ones until their answer (as k6 does), dropped and unfinished ones until the run's
deadline (the schedule's end + the drain time), so a run cannot pass a percentile by losing
its slowest requests; all of them count against success. `service` is the answered ones'
time from the actual send.

The result is Google Benchmark JSON (one entry for the run, one per request kind; the
thresholds in pmbench_bars), so pmbench results merge|summary and tools/compare take it.
Counters: achieved_requests_per_s (answers that passed their check, per second) and, in
the open model, offered_requests_per_s (the schedule's rate). A progress line is shown on
a terminal.
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

constexpr const char* kWsUsage = R"(Usage: pmbench load ws [options]

Opens N WebSocket connections to a pmbench realtime server from a few threads, subscribes
each to channels, holds them while updates flow (from bets placed by anyone), and reports
what the subscribers saw: connect + subscribe time, update latency (receipt - the update's
ts_ns: run it on the server's machine or with synchronised clocks), seq gaps (lost), resets.

Options:
  --url URL               ws://HOST:PORT (default ws://127.0.0.1:8090)
  --connections N         subscribers                                            [500]
  --channels LIST         comma-separated channels, spread over the connections  [markets]
  --per-connection N      channels each connection subscribes to                 [1]
  --duration D            how long to hold them: 30, 30s, 2m                     [30s]
  --threads N             client threads                                         [2]
  --threshold EXPR        [METRIC:]EXPR with METRIC latency (default), connect, lost,
                          resets, success, e.g. 'p(95)<200ms', 'lost:count<1'; an unknown
                          one exits 2 before connecting; exit 1 when one fails
  --out FILE              the result JSON there instead of stdout

Latency counts every update: received ones from their publish time, lost ones (seq gaps)
at the end of the run, so losing the slowest cannot pass a percentile; success_ratio is
received / (received + lost). delivered_frames_per_s counts the updates received per
second over all connections.
)";

int LoadWsCommand(const std::vector<std::string>& args) {
  const Flags flags(args, {"url", "connections", "channels", "per-connection", "duration", "threads", "threshold", "out"},
                    {"help"});
  if (flags.Has("help")) {
    std::cout << kWsUsage;
    return 0;
  }
  if (!flags.positional().empty()) throw UsageError("unexpected argument '" + flags.positional()[0] + "'");
  const std::string url = flags.Get("url", "ws://127.0.0.1:8090");
  const auto colon = url.rfind(':');
  if (!url.starts_with("ws://") || colon < 5) throw UsageError("--url takes ws://HOST:PORT, not '" + url + "'");
  const std::string host = url.substr(5, colon - 5);
  std::string port_text = url.substr(colon + 1);
  if (const auto slash = port_text.find('/'); slash != std::string::npos) port_text.resize(slash);
  const uint16_t port = ParsePort("url", port_text);
  if (host != "127.0.0.1" && host != "localhost") {
    throw UsageError("--url: load goes to loopback only (127.0.0.1), not '" + host + "'");
  }
  std::vector<std::string> channels;
  {
    const std::string list = flags.Get("channels", "markets");
    size_t start = 0;
    while (start <= list.size()) {
      const size_t end = std::min(list.find(',', start), list.size());
      const std::string ch = list.substr(start, end - start);
      if (!realtime::IsValidChannel(ch)) throw UsageError("--channels: '" + ch + "' is not market:<id> or markets");
      channels.push_back(ch);
      start = end + 1;
    }
  }
  const double connections = flags.GetDouble("connections", 500);
  if (!(connections >= 1 && connections <= 100'000) || connections != std::floor(connections)) {
    throw UsageError("--connections must be a whole number in 1..100000");
  }
  const double duration = ParseDuration("duration", flags.Get("duration", "30s"));
  const auto thresholds = ParseThresholds(flags, "latency", {"latency", "connect", "lost", "resets", "success"});
  load::RaiseOpenFileLimit();

  realtime::WsLoad ws({.host = "127.0.0.1",
                       .port = port,
                       .connections = static_cast<int>(connections),
                       .threads = static_cast<int>(flags.GetUint("threads", 2)),
                       .channels = channels,
                       .channels_per_connection = static_cast<int>(flags.GetUint("per-connection", 1))});
  std::cerr << "opening " << static_cast<int>(connections) << " connections to " << url << "\n";
  ws.Open();
  const bool tty = isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (elapsed >= duration) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(std::min(1.0, duration - elapsed) * 1000)));
    if (tty) {
      const auto st = ws.Stats();
      std::fprintf(stderr, "\r  %6.1fs  connected %-6lld received %-9lld lost %-5lld resets %-5lld p99 %.2f ms ",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                   static_cast<long long>(st.connected), static_cast<long long>(st.received), static_cast<long long>(st.lost),
                   static_cast<long long>(st.resets), st.update.Percentile(99) / 1e6);
    }
  }
  if (tty) std::cerr << "\n";
  const realtime::WsLoadStats st = ws.Stats();
  const stats::LatencyHistogram latency = realtime::UpdateLatencyWithLosses(st, stats::WallClockNs());
  ws.Close();
  std::fprintf(stderr, "  %lld updates received; latency p50 %.2f p95 %.2f p99 %.2f ms; connect p99 %.1f ms; lost %lld; resets %lld; reconnects %lld\n",
               static_cast<long long>(st.received), latency.Percentile(50) / 1e6, latency.Percentile(95) / 1e6,
               latency.Percentile(99) / 1e6, st.connect.Percentile(99) / 1e6, static_cast<long long>(st.lost),
               static_cast<long long>(st.resets), static_cast<long long>(st.reconnects));
  const auto verdicts = EvaluateThresholds(thresholds, {{"latency", {.latency = &latency}},
                                                       {"connect", {.latency = &st.connect}},
                                                       {"lost", {.count = static_cast<double>(st.lost)}},
                                                       {"resets", {.count = static_cast<double>(st.resets)}},
                                                       {"success", {.rate = st.success_ratio()}}});
  results::RunEntry e{"load_ws", duration, {}};
  for (const auto& [name, v] : stats::LatencyCounters(latency)) e.counters.emplace_back(name, v);
  for (const auto& [name, v] : stats::LatencyCounters(st.connect, "connect_")) e.counters.emplace_back(name, v);
  e.counters.insert(e.counters.end(), {{"connections", connections},
                                       {"updates_received", static_cast<double>(st.received)},
                                       {"delivered_frames_per_s", duration > 0 ? static_cast<double>(st.received) / duration : 0},
                                       {"lost", static_cast<double>(st.lost)},
                                       {"resets", static_cast<double>(st.resets)},
                                       {"reconnects", static_cast<double>(st.reconnects)},
                                       {"errors", static_cast<double>(st.errors)}});
  if (const auto s = st.success_ratio()) e.counters.emplace_back("success_ratio", *s);
  WriteResult(flags, results::WriteRunJson({{"date", Now()}, {"executable", "pmbench load ws"}, {"pmbench_url", url}}, {e},
                                           verdicts));
  return AllPass(verdicts) ? 0 : 1;
}

}  // namespace

int LoadCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, kUsage)) return *status;
  if (args[0] == "ws") return LoadWsCommand({args.begin() + 1, args.end()});
  if (args[0] == "chain") return LoadChainCommand({args.begin() + 1, args.end()});
  if (args[0] != "db") throw UsageError("unknown load target '" + args[0] + "' (see pmbench load --help)");
  const Flags flags({args.begin() + 1, args.end()},
                    {"scenario", "clients", "rate", "vus", "think", "duration", "ramp-up", "warmup", "max-in-flight", "threads",
                     "leaderboard", "threshold", "database", "schema", "seed", "out"},
                    {"cache", "allow-remote-writes", "help"});
  if (flags.Has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (!flags.positional().empty()) throw UsageError("unexpected argument '" + flags.positional()[0] + "'");
  const std::string scenario_name = flags.Get("scenario", "markets");
  const auto scenario = queries::ParseDbScenario(scenario_name);
  if (!scenario) throw UsageError("unknown scenario '" + scenario_name + "' (see pmbench load --help)");
  const bool closed = flags.Has("vus");
  if (closed && (flags.Has("rate") || flags.Has("max-in-flight"))) {
    throw UsageError("--vus (closed model) goes without --rate and --max-in-flight");
  }
  if (!closed && flags.Has("think")) throw UsageError("--think goes with --vus");
  const double level = closed ? flags.GetDouble("vus", 0) : flags.GetDouble("rate", 1000);
  if (!(level > 0)) throw UsageError(closed ? "--vus must be > 0" : "--rate must be > 0");
  const double clients_d = flags.GetDouble("clients", closed ? std::max(100.0, level) : 100);
  if (!(clients_d >= 1 && clients_d <= 100'000) || clients_d != std::floor(clients_d)) {
    throw UsageError("--clients must be a whole number in 1..100000");
  }
  const double duration = ParseDuration("duration", flags.Get("duration", "30s"));
  const double ramp = ParseDuration("ramp-up", flags.Get("ramp-up", "0"));
  if (!(duration > 0)) throw UsageError("--duration must be > 0");
  const std::string lb = flags.Get("leaderboard", "materialized");
  if (lb != "materialized" && lb != "live") throw UsageError("--leaderboard is materialized or live");
  const auto mix = queries::DbWorkload::Mix(*scenario);
  const auto thresholds = ParseThresholds(flags, "latency", DbMetrics(mix));

  const std::string url = flags.Has("database") ? flags.Get("database", "") : db::ResolveStaging().pooled_url;
  const db::DatabaseTarget target = db::ParseDatabaseUrl(url);
  // Load goes to loopback only, unless asked: it writes, and it is a lot of traffic.
  db::CheckWritable(target, flags.Has("allow-remote-writes"));
  const std::string schema = flags.Get("schema", "pmbench");
  db::CheckSchemaName(schema);

  load::LoadSpec spec;
  spec.model = closed ? load::Model::kClosed : load::Model::kOpen;
  spec.clients = static_cast<int>(clients_d);
  spec.start = ramp > 0 ? 0 : level;
  const double warmup = ParseDuration("warmup", flags.Get("warmup", "0"));
  if (warmup > 0) {  // at the starting level: zero users or requests warm nothing up
    if (ramp > 0) throw UsageError("--warmup goes without --ramp-up (a ramp is its own warm-up)");
    spec.stages.push_back({warmup, level});
    spec.warmup_s = warmup;
  }
  if (ramp > 0) spec.stages.push_back({ramp, level});
  spec.stages.push_back({duration, level});
  spec.think_s = flags.GetDouble("think", 0);
  spec.max_in_flight = static_cast<int>(flags.GetUint("max-in-flight", 0));
  spec.threads = static_cast<int>(flags.GetUint("threads", 0));
  spec.seed = flags.GetUint("seed", 1);

  std::cerr << "preparing " << scenario_name << " on " << target.Display() << " (schema " << schema << ")\n";
  auto workload = queries::DbWorkload::Prepare(
      url, schema,
      {.cache = flags.Has("cache"),
       .leaderboard = lb == "live" ? queries::LeaderboardSource::kLive : queries::LeaderboardSource::kMaterialized,
       .run_tag = "cli-" + std::to_string(getpid()) + "-" + std::to_string(std::time(nullptr)),
       .seed = spec.seed});
  spec.mix = mix;
  const bool tty = isatty(STDERR_FILENO);
  if (tty) {
    spec.progress = [](const load::Progress& p) {
      std::fprintf(stderr, "\r  %6.1fs  level %-8.0f %8.0f/s  done %-9lld failed %-6lld dropped %-6lld in flight %-5lld ",
                   p.elapsed_s, p.level, p.rate, static_cast<long long>(p.completed), static_cast<long long>(p.failed),
                   static_cast<long long>(p.dropped), static_cast<long long>(p.in_flight));
      std::fflush(stderr);
    };
  }
  std::cerr << "opening " << spec.clients << " connections; " << (closed ? "closed model, " : "open model, ")
            << level << (closed ? " users" : " requests/s") << " for " << duration << " s"
            << (ramp > 0 ? " after a " + std::to_string(ramp).substr(0, 5) + " s ramp" : "") << "\n";
  const load::LoadResult r = load::RunLoad(spec, workload->Clients(url, *scenario));
  if (tty) std::cerr << "\n";
  if (workload->counters().bets_placed > 0) workload->VerifyBets(url);

  // The summary, per kind, on stderr; thresholds after it.
  for (const auto& k : r.kinds) {
    if (k.requests() == 0) continue;
    std::fprintf(stderr, "  %-14s %9lld ok %6lld failed %6lld dropped %6lld unfinished  p50 %8.2f  p95 %8.2f  p99 %8.2f ms  (service p99 %.2f ms)\n",
                 k.name.c_str(), static_cast<long long>(k.ok), static_cast<long long>(k.failed),
                 static_cast<long long>(k.dropped), static_cast<long long>(k.unfinished), k.latency.Percentile(50) / 1e6,
                 k.latency.Percentile(95) / 1e6, k.latency.Percentile(99) / 1e6, k.service.Percentile(99) / 1e6);
    for (const auto& [reason, n] : k.errors) std::fprintf(stderr, "      %lld x %s\n", static_cast<long long>(n), db::RedactSecrets(reason).c_str());
  }
  std::fprintf(stderr, "  achieved %.0f requests/s (offered %s) over %.1f s; schedule lag p99 %.2f ms; busiest engine thread %.0f%% CPU\n",
               r.throughput(), closed ? "by the users" : (std::to_string(static_cast<int64_t>(level)) + "/s").c_str(), r.seconds,
               r.lag.Percentile(99) / 1e6, r.generator_cpu * 100);
  if (r.generator_bound) {
    std::cerr << "  GENERATOR BOUND: " << r.generator_reason << " - latencies include the engine's own delay\n";
  }
  const auto verdicts = EvaluateThresholds(thresholds, DbObserved(r));
  const bool failed = !AllPass(verdicts) || (r.generator_bound && !thresholds.empty());

  nlohmann::json errors = nlohmann::json::object();
  for (const auto& k : r.kinds) {
    for (const auto& [reason, n] : k.errors) errors[k.name][db::RedactSecrets(reason)] = n;
  }
  const nlohmann::json context = {{"date", Now()},
                                   {"executable", "pmbench load db"},
                                   {"pmbench_scenario", scenario_name},
                                   {"pmbench_model", closed ? "closed" : "open"},
                                   {"pmbench_database", target.Display()},
                                   {"pmbench_generator_bound", r.generator_bound},
                                   {"pmbench_generator_reason", r.generator_reason},
                                   {"pmbench_errors", errors}};
  const std::string base = "load_db/" + scenario_name;
  const auto offered = [&](const load::KindResult& k) -> std::optional<double> {
    if (closed) return std::nullopt;
    double weight = 0, total = 0;
    for (const auto& m : mix) {
      total += m.weight;
      if (m.name == k.name) weight = m.weight;
    }
    return &k == &r.total ? level : level * weight / total;
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
  entries.push_back(std::move(whole));
  for (const auto& k : r.kinds) entries.push_back({base + "/" + k.name, r.seconds, KindCounters(k, r.seconds, offered(k))});
  WriteResult(flags, results::WriteRunJson(context, entries, verdicts));
  return failed ? 1 : 0;
}

}  // namespace pmbench::cli
