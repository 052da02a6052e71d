// pmbench load db: the database load test outside ctest, on the engine the benchmarks use.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "lib/db/database_url.h"
#include "lib/db/staging.h"
#include "lib/load/engine.h"
#include "lib/queries/db_load.h"
#include "lib/realtime/hub.h"
#include "lib/realtime/ws_load.h"
#include "lib/stats/threshold.h"
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
                          METRIC: latency (default), service, a request kind, success,
                          requests, dropped, failed. Exit status 1 when one fails.
  --database URL          where requests go (default: staging's pooled URL)
  --schema NAME           the seeded schema (default: pmbench; pmbench db seed)
  --seed S                request arguments' random seed                        [1]
  --out FILE              write the result JSON there instead of stdout
  --allow-remote-writes   permit a server that is not on loopback

The result is Google Benchmark JSON (one entry for the run, one per request kind), so
pmbench results merge and tools/compare take it. A progress line is shown on a terminal.
)";

stats::Observed Observe(const std::string& metric, const load::LoadResult& r) {
  if (metric == "latency") return {.latency = &r.total.latency};
  if (metric == "service") return {.latency = &r.total.service};
  if (metric == "success") return {.rate = r.total.success_ratio()};
  if (metric == "requests") return {.count = static_cast<double>(r.total.ok), .rate = r.throughput()};
  if (metric == "dropped") return {.count = static_cast<double>(r.total.dropped)};
  if (metric == "failed") return {.count = static_cast<double>(r.total.failed)};
  for (const auto& k : r.kinds) {
    if (k.name == metric) return {.latency = &k.latency};
  }
  throw UsageError("--threshold: unknown metric '" + metric + "'");
}

void Counters(nlohmann::json& b, const load::KindResult& k, double seconds) {
  for (const auto& [prefix, h] : {std::pair<std::string, const stats::LatencyHistogram*>{"", &k.latency},
                                  {"service_", &k.service}}) {
    b[prefix + "p50_ms"] = h->Percentile(50) / 1e6;
    b[prefix + "p95_ms"] = h->Percentile(95) / 1e6;
    b[prefix + "p99_ms"] = h->Percentile(99) / 1e6;
    b[prefix + "max_ms"] = static_cast<double>(h->max()) / 1e6;
    b[prefix + "mean_ms"] = h->mean() / 1e6;
  }
  b["ok"] = k.ok;
  b["failed"] = k.failed;
  b["dropped"] = k.dropped;
  b["success_ratio"] = k.success_ratio();
  b["requests_per_s"] = seconds > 0 ? static_cast<double>(k.ok) / seconds : 0;
  if (!k.errors.empty()) {
    nlohmann::json e = nlohmann::json::object();
    for (const auto& [reason, n] : k.errors) e[db::RedactSecrets(reason)] = n;
    b["errors"] = e;
  }
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
                          resets, e.g. 'p(95)<200ms', 'lost:count<1'; exit 1 when one fails
  --out FILE              the result JSON there instead of stdout
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
  std::vector<NamedThreshold> thresholds;
  for (const auto& t : flags.GetAll("threshold")) thresholds.push_back(ParseThreshold(t));
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
  ws.Close();
  std::fprintf(stderr, "  %lld updates received; latency p50 %.2f p95 %.2f p99 %.2f ms; connect p99 %.1f ms; lost %lld; resets %lld; reconnects %lld\n",
               static_cast<long long>(st.received), st.update.Percentile(50) / 1e6, st.update.Percentile(95) / 1e6,
               st.update.Percentile(99) / 1e6, st.connect.Percentile(99) / 1e6, static_cast<long long>(st.lost),
               static_cast<long long>(st.resets), static_cast<long long>(st.reconnects));
  bool failed = false;
  nlohmann::json bars = nlohmann::json::array();
  for (const auto& t : thresholds) {
    stats::Observed o;
    if (t.metric == "latency") o = {.latency = &st.update};
    else if (t.metric == "connect") o = {.latency = &st.connect};
    else if (t.metric == "lost") o = {.count = static_cast<double>(st.lost)};
    else if (t.metric == "resets") o = {.count = static_cast<double>(st.resets)};
    else throw UsageError("--threshold: unknown metric '" + t.metric + "' (latency, connect, lost, resets)");
    const auto r = t.threshold.Evaluate(o);
    std::cerr << "  " << (r.pass ? "ok    " : "FAILED") << " " << t.text << "  (" << r.message << ")\n";
    failed |= !r.pass;
    bars.push_back({{"expression", t.text}, {"pass", r.pass}, {"message", r.message}});
  }
  nlohmann::json b = {{"name", "load_ws"}, {"run_name", "load_ws"}, {"run_type", "iteration"}, {"repetitions", 1},
                      {"repetition_index", 0}, {"threads", 1}, {"iterations", 1}, {"real_time", duration * 1e3},
                      {"cpu_time", duration * 1e3}, {"time_unit", "ms"}, {"connections", static_cast<int>(connections)},
                      {"updates_received", st.received}, {"lost", st.lost}, {"resets", st.resets},
                      {"reconnects", st.reconnects}, {"errors", st.errors}};
  for (const auto& [prefix, h] : {std::pair<std::string, const stats::LatencyHistogram*>{"", &st.update}, {"connect_", &st.connect}}) {
    for (const double p : {50.0, 95.0, 99.0}) b[prefix + "p" + std::to_string(static_cast<int>(p)) + "_ms"] = h->Percentile(p) / 1e6;
    b[prefix + "max_ms"] = static_cast<double>(h->max()) / 1e6;
  }
  const nlohmann::json out = {{"context", {{"date", Now()}, {"executable", "pmbench load ws"}, {"pmbench_thresholds", bars}}},
                              {"benchmarks", nlohmann::json::array({b})}};
  WriteResult(flags, out.dump(2) + "\n");
  return failed ? 1 : 0;
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
  std::vector<NamedThreshold> thresholds;
  for (const auto& t : flags.GetAll("threshold")) thresholds.push_back(ParseThreshold(t));

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
  spec.mix = workload->Mix(*scenario);
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
    if (k.ok + k.failed + k.dropped == 0) continue;
    std::fprintf(stderr, "  %-14s %9lld ok %6lld failed %6lld dropped  p50 %8.2f  p95 %8.2f  p99 %8.2f ms  (service p99 %.2f ms)\n",
                 k.name.c_str(), static_cast<long long>(k.ok), static_cast<long long>(k.failed),
                 static_cast<long long>(k.dropped), k.latency.Percentile(50) / 1e6, k.latency.Percentile(95) / 1e6,
                 k.latency.Percentile(99) / 1e6, k.service.Percentile(99) / 1e6);
    for (const auto& [reason, n] : k.errors) std::fprintf(stderr, "      %lld x %s\n", static_cast<long long>(n), db::RedactSecrets(reason).c_str());
  }
  std::fprintf(stderr, "  %.0f requests/s over %.1f s; schedule lag p99 %.2f ms; busiest engine thread %.0f%% CPU\n",
               r.throughput(), r.seconds, r.lag.Percentile(99) / 1e6, r.generator_cpu * 100);
  bool failed = false;
  nlohmann::json bars = nlohmann::json::array();
  if (r.generator_bound) {
    std::cerr << "  GENERATOR BOUND: " << r.generator_reason << " - latencies include the engine's own delay\n";
    failed = !thresholds.empty();
  }
  for (const auto& t : thresholds) {
    const auto result = t.threshold.Evaluate(Observe(t.metric, r));
    std::cerr << "  " << (result.pass ? "ok    " : "FAILED") << " " << t.text << "  (" << result.message << ")\n";
    failed |= !result.pass;
    bars.push_back({{"expression", t.text}, {"pass", result.pass}, {"message", result.message}});
  }

  nlohmann::json out;
  out["context"] = {{"date", Now()},
                    {"executable", "pmbench load db"},
                    {"pmbench_scenario", scenario_name},
                    {"pmbench_model", closed ? "closed" : "open"},
                    {"pmbench_database", target.Display()},
                    {"pmbench_generator_bound", r.generator_bound},
                    {"pmbench_generator_reason", r.generator_reason},
                    {"pmbench_thresholds", bars}};
  nlohmann::json benches = nlohmann::json::array();
  const std::string base = "load_db/" + scenario_name;
  for (const load::KindResult* k : [&] {
         std::vector<const load::KindResult*> all{&r.total};
         for (const auto& x : r.kinds) all.push_back(&x);
         return all;
       }()) {
    nlohmann::json b = {{"name", k == &r.total ? base : base + "/" + k->name},
                        {"run_name", k == &r.total ? base : base + "/" + k->name},
                        {"run_type", "iteration"},
                        {"repetitions", 1},
                        {"repetition_index", 0},
                        {"threads", 1},
                        {"iterations", 1},
                        {"real_time", r.seconds * 1e3},
                        {"cpu_time", r.seconds * 1e3},
                        {"time_unit", "ms"}};
    Counters(b, *k, r.seconds);
    if (k == &r.total) {
      b["clients"] = r.clients;
      b["threads_used"] = r.threads;
      b["lag_p99_ms"] = r.lag.Percentile(99) / 1e6;
      b["lag_max_ms"] = static_cast<double>(r.lag.max()) / 1e6;
      b["generator_cpu"] = r.generator_cpu;
      b["generator_bound"] = r.generator_bound ? 1 : 0;
      b["connect_s"] = r.connect_s;
      b["unfinished"] = r.unfinished;
    }
    benches.push_back(b);
  }
  out["benchmarks"] = benches;
  WriteResult(flags, out.dump(2) + "\n");
  return failed ? 1 : 0;
}

}  // namespace pmbench::cli
