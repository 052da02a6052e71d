// HTTP load: the engine (pmbench load http) beside wrk, Debian's, against the same nginx on
// loopback, so a user can see what the HTTP numbers of the other benchmarks are worth.
//  - BM_VsWrk/target:static,json: requests/s at saturation, in 1-second turns of wrk and the
//    engine with as many connections and threads: vs_wrk_ratio of the medians (goal >= 0.9).
//  - BM_FixedRate: both at the same fixed rate (wrk paced by a Lua delay, its only way):
//    latency as each reports it; wrk's from the actual send, the engine's from the intended.
//  - BM_ApiCache/cache:none,memory,redis/model:open,closed: pmbench api serve over HTTP at the
//    profile's clients (the story's 1,000), after 2 s of unrecorded warm-up: the story's rate
//    in the open model (SLA p95 < 100 ms with a cache; a goal without), and as many requests
//    as they get back to back in the closed one, beside the uncached server (cached_vs_none).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "benchmarks/common/load_report.h"
#include "benchmarks/common/profile.h"
#include "benchmarks/common/report.h"
#include "benchmarks/common/staging.h"
#include "lib/api/server.h"
#include "lib/db/pg_session.h"
#include "lib/db/seed.h"
#include "lib/http/http_load.h"
#include "lib/http/testing/nginx.h"
#include "lib/load/engine.h"
#include "lib/stats/report.h"

namespace pmbench::bench {
namespace {

using stats::Bar;

const Profile& P() { return CurrentProfile(); }
constexpr int kConnections = 64;  // both tools, at saturation and at the fixed rate
int Threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

// wrk's summary, from a done() hook that prints it as JSON.
struct WrkRun {
  double requests_per_s = 0;
  int64_t requests = 0, errors = 0;  // errors: connect, read, write, timeout and status >= 400
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::string error;
};

constexpr const char* kWrkScript = R"(
local rate = tonumber(os.getenv("PMBENCH_WRK_RATE") or "0")
local conns = tonumber(os.getenv("PMBENCH_WRK_CONNECTIONS") or "1")
if rate > 0 then
  -- per connection: one request every conns/rate seconds, after the last answer (wrk is
  -- closed-loop: a slow answer delays the next send, and that wait is not in its latency)
  delay = function() return conns * 1000 / rate end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('PMBENCH_WRK {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
)";

WrkRun RunWrk(const std::string& url, int seconds, double rate = 0) {
  char dir[] = "/tmp/pmbench-wrk-XXXXXX";
  if (!mkdtemp(dir)) return {.error = "cannot make a directory for wrk's script"};
  const std::string script = std::string(dir) + "/pmbench.lua";
  std::ofstream(script) << kWrkScript;
  const std::string cmd = "PMBENCH_WRK_RATE=" + std::to_string(rate) + " PMBENCH_WRK_CONNECTIONS=" + std::to_string(kConnections) +
                          " timeout " + std::to_string(seconds + 60) + " wrk -t" + std::to_string(Threads()) + " -c" +
                          std::to_string(kConnections) + " -d" + std::to_string(seconds) + "s -s " + script + " " + url + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {.error = "could not run wrk"};
  std::string out;
  char buf[4096];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int rc = pclose(p);
  std::filesystem::remove_all(dir);
  std::smatch m;
  static const std::regex kLine(R"(PMBENCH_WRK (\{.*\}))");
  if (rc != 0 || !std::regex_search(out, m, kLine)) return {.error = "wrk failed (apt-get install wrk): " + out.substr(0, 300)};
  const auto j = nlohmann::json::parse(m[1].str());
  WrkRun w;
  w.requests = j["requests"];
  w.errors = j["errors"];
  w.requests_per_s = static_cast<double>(w.requests) / (j["duration_us"].get<double>() / 1e6);
  w.p50_ms = j["p50_us"].get<double>() / 1e3;
  w.p99_ms = j["p99_us"].get<double>() / 1e3;
  w.max_ms = j["max_us"].get<double>() / 1e3;
  return w;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string Path(int64_t target) { return target == 0 ? "/static.txt" : "/api.json"; }
std::string Body(int64_t target) { return target == 0 ? http::test::Nginx::kStatic : http::test::Nginx::kJson; }

http::Request RequestFor(const http::test::Nginx& nginx, int64_t target) {
  // Every answer checked: the whole body, as nginx serves it.
  return {.name = target == 0 ? "static" : "json", .url = nginx.url(Path(target)), .expect_status = 200, .expect_body = Body(target)};
}

int Seconds() { return std::max(2, static_cast<int>(P().db_seconds / 2)); }

// Saturation: the most requests per second each tool gets from the same nginx, in 1-second
// turns (wrk, then the engine, as many times as the profile's seconds), so a burst of the
// machine's noise lands on both; the ratio is of the medians of the turns.
// Arg: target (0: a 64-byte static file, 1: a small JSON document).
void BM_VsWrk(benchmark::State& state) {
  std::optional<http::test::Nginx> nginx;
  try {
    nginx.emplace();
  } catch (const std::exception& e) {
    return state.SkipWithError(e.what());
  }
  const int turns = std::max(2, Seconds());
  auto w = http::HttpWorkload::Make({RequestFor(*nginx, state.range(0))});
  std::vector<double> wrk_rates, rates;
  WrkRun wrk;  // the last turn's, for its latency
  load::LoadResult r, all;
  for (auto _ : state) {
    double seconds = 0;
    for (int turn = 0; turn < turns; ++turn) {
      wrk = RunWrk(nginx->url(Path(state.range(0))), 1);
      if (!wrk.error.empty()) return state.SkipWithError(wrk.error.c_str());
      if (wrk.errors > 0) return state.SkipWithError(("wrk counted " + std::to_string(wrk.errors) + " errors: no limit to compare with").c_str());
      wrk_rates.push_back(wrk.requests_per_s);
      r = load::RunLoad({.model = load::Model::kClosed, .start = kConnections, .stages = {{1, kConnections}}, .clients = kConnections,
                         .mix = w->Mix(), .threads = Threads(), .drain_s = 5},
                        w->Clients());
      rates.push_back(r.throughput());
      seconds += r.seconds;
      if (turn == 0) {
        all = r;
      } else {
        all.total.latency.Merge(r.total.latency);
        all.total.service.Merge(r.total.service);
        all.total.ok += r.total.ok;
        all.total.failed += r.total.failed;
        all.generator_cpu = std::max(all.generator_cpu, r.generator_cpu);
        all.generator_bound = all.generator_bound || r.generator_bound;
      }
    }
    all.seconds = seconds;
    state.SetIterationTime(seconds);
  }
  std::vector<Bar> bars;
  // The engine here is the work measured (nginx answers a static file in microseconds).
  auto observed = ReportLoad(state, all, bars, /*generator_is_the_work=*/true);
  const double median_wrk = Median(wrk_rates), median = Median(rates);
  state.counters["achieved_requests_per_s"] = median;  // the median turn's, as wrk's
  state.counters["wrk_requests_per_s"] = median_wrk;
  state.counters["wrk_p50_ms"] = wrk.p50_ms;
  state.counters["wrk_p99_ms"] = wrk.p99_ms;
  const auto ratio = stats::Ratio(median, median_wrk);
  if (ratio) state.counters["vs_wrk_ratio"] = *ratio;
  observed["vs_wrk_ratio"] = {.rate = ratio};
  bars.push_back(Bar::Goal("vs_wrk_ratio", "rate>=0.9"));
  CheckBars(state, bars, observed);
}
BENCHMARK(BM_VsWrk)->ArgName("target")->Arg(0)->Arg(1)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// Both tools at one fixed rate on the JSON document, well under saturation: their latency as
// each reports it. wrk paces each connection (delay() after each answer), so it measures
// from the actual send; the engine from the intended start. On a quiet server they agree;
// a stall shows in the engine's numbers only.
void BM_FixedRate(benchmark::State& state) {
  std::optional<http::test::Nginx> nginx;
  try {
    nginx.emplace();
  } catch (const std::exception& e) {
    return state.SkipWithError(e.what());
  }
  const double rate = P().db_rate * 2;
  const int seconds = Seconds();
  auto w = http::HttpWorkload::Make({RequestFor(*nginx, 1)});
  WrkRun wrk;
  load::LoadResult r;
  for (auto _ : state) {
    wrk = RunWrk(nginx->url(Path(1)), seconds, rate);
    if (!wrk.error.empty()) return state.SkipWithError(wrk.error.c_str());
    r = load::RunLoad({.start = rate, .stages = {{static_cast<double>(seconds), rate}}, .clients = kConnections, .mix = w->Mix(),
                       .threads = Threads(), .drain_s = 5},
                      w->Clients());
    state.SetIterationTime(r.seconds);
  }
  std::vector<Bar> bars = {Bar::Goal("latency", "p(99)<=5ms")};
  auto observed = ReportLoad(state, r, bars, false, rate);
  state.counters["wrk_achieved_requests_per_s"] = wrk.requests_per_s;
  state.counters["wrk_p50_ms"] = wrk.p50_ms;
  state.counters["wrk_p99_ms"] = wrk.p99_ms;
  state.counters["wrk_max_ms"] = wrk.max_ms;
  state.counters["wrk_errors"] = static_cast<double>(wrk.errors);
  observed["wrk_errors"] = {.count = static_cast<double>(wrk.errors)};
  bars.push_back(Bar::Sla("wrk_errors", "count<1"));
  // The engine must hold the rate it was asked for; wrk's pacing is reported, not judged.
  observed["achieved_vs_offered"] = {.rate = stats::Ratio(r.throughput(), rate)};
  bars.push_back(Bar::Sla("achieved_vs_offered", "rate>0.95"));
  CheckBars(state, bars, observed);
}
BENCHMARK(BM_FixedRate)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// A seeded schema of the process's own for the API.
class ApiStaging : public BenchSchema {
 public:
  static ApiStaging& Get() {
    static ApiStaging s;
    return s;
  }

 private:
  ApiStaging() : BenchSchema("http") {
    Prepare([this] {
      db::Seed(direct(), schema(), {.scale = std::max(1.0, P().seed_scale), .seed = 17});
      db::PgSession s(direct());
      s.Exec("REFRESH MATERIALIZED VIEW \"" + schema() + "\".leaderboard_mv");
      for (const char* t : {"markets", "bets", "users", "leaderboard_mv"}) s.Exec("VACUUM (ANALYZE) \"" + schema() + "\"." + t);
    });
  }
};

// What browsers ask the API, every answer checked: market lists of each category (5), the
// pages of the 200 most traded open markets (4), the leaderboard (1).
std::vector<http::Request> BrowseRequests(const std::string& base, const std::string& schema, const std::string& direct) {
  db::PgSession s(direct);
  std::vector<http::Request> out;
  const auto categories = s.QueryRows("SELECT DISTINCT category FROM \"" + schema + "\".markets ORDER BY 1");
  for (const auto& c : categories) {
    out.push_back({.name = "list", .url = base + "/api/markets?limit=20&category=" + c[0], .weight = 5.0 / static_cast<double>(categories.size()),
                   .expect_status = 200, .expect_body = "{\"markets\":["});
  }
  for (const auto& m : s.QueryRows("SELECT id FROM \"" + schema + "\".markets WHERE status = 'open' ORDER BY volume DESC LIMIT 200")) {
    out.push_back({.name = "market", .url = base + "/api/markets/" + m[0], .weight = 4.0 / 200, .expect_status = 200,
                   .expect_body = "{\"last_bets\":["});
  }
  out.push_back({.name = "leaderboard", .url = base + "/api/leaderboard?limit=10", .weight = 1, .expect_status = 200,
                 .expect_body = "\"by_volume\":[{"});
  return out;
}

std::map<std::pair<int64_t, int64_t>, double>& ApiThroughput() {  // (cache, model) -> requests/s
  static std::map<std::pair<int64_t, int64_t>, double> runs;
  return runs;
}

// The API at the profile's clients. Args: cache (0 none, 1 memory, 2 Redis: staging's),
// model (0 open, at the story's rate; 1 closed, back to back).
void BM_ApiCache(benchmark::State& state) {
  ApiStaging& st = ApiStaging::Get();
  if (!st.error().empty()) return state.SkipWithError(st.error().c_str());
  const int64_t cache = state.range(0);
  const bool closed = state.range(1) == 1;
  const std::string redis = db::ResolveStaging().redis_url;
  if (cache == 2 && redis.empty()) return state.SkipWithError("staging has no Redis (tools/staging up starts one; apt-get install redis-server)");
  const int clients = P().db_clients;
  const double seconds = P().db_seconds;
  load::LoadResult r;
  api::ApiCounters counters;
  try {
    load::RaiseOpenFileLimit();
    api::ApiServer server({.database = st.pooled(),
                           .feed_url = cache == 0 ? "" : st.direct(),
                           .schema = st.schema(),
                           .cache = cache == 0 ? "none" : cache == 1 ? "memory" : redis,
                           .cache_options = {.ttl = std::chrono::seconds(1), .stale = std::chrono::seconds(5)},
                           .cache_namespace = st.schema() + "-" + std::to_string(state.range(1))});
    server.Start();
    auto w = http::HttpWorkload::Make(BrowseRequests("http://127.0.0.1:" + std::to_string(server.port()), st.schema(), st.direct()),
                                      {.timeout_s = 10});
    for (auto _ : state) {
      load::LoadSpec spec{.model = closed ? load::Model::kClosed : load::Model::kOpen,
                          .start = closed ? static_cast<double>(clients) : P().db_rate,
                          .stages = {{seconds, closed ? static_cast<double>(clients) : P().db_rate}},
                          .clients = clients,
                          .mix = w->Mix(),
                          .warmup_s = 2,  // a cold cache's first loads are a start-up cost, not the steady state
                          .drain_s = 10};
      spec.stages.insert(spec.stages.begin(), {2, spec.start});
      r = load::RunLoad(spec, w->Clients());
      state.SetIterationTime(r.seconds);
    }
    counters = server.counters();
    server.Stop();
  } catch (const std::exception& e) {
    return state.SkipWithError(db::RedactSecrets(e.what()).c_str());
  }
  std::vector<Bar> bars;
  // The story's SLA at its load holds the platform as deployed, with its cache; the
  // uncached server is the reference that shows what the cache buys (a goal).
  if (!closed) bars.push_back(cache == 0 ? Bar::Goal("latency", "p(95)<100ms") : Bar::Sla("latency", "p(95)<100ms"));
  bars.push_back(Bar::Goal("latency", "p(99)<=50ms"));
  auto observed = ReportLoad(state, r, bars, false, closed ? std::nullopt : std::optional<double>(P().db_rate), /*reference=*/cache == 0);
  const auto& c = counters.cache;
  if (cache != 0) {
    const auto looked = c.hits + c.stale + c.misses;
    if (const auto ratio = stats::Ratio(static_cast<double>(c.hits + c.stale), static_cast<double>(looked))) state.counters["cache_hit_ratio"] = *ratio;
    state.counters["cache_loads"] = static_cast<double>(c.loads);
    state.counters["cache_backend_errors"] = static_cast<double>(c.backend_errors);
    observed["cache_backend_errors"] = {.count = static_cast<double>(c.backend_errors)};
    bars.push_back(Bar::Sla("cache_backend_errors", "count<1"));
  }
  state.counters["api_5xx"] = static_cast<double>(counters.by_class[5]);
  ApiThroughput()[{cache, state.range(1)}] = r.throughput();
  if (cache != 0 && closed) {
    // Side by side with the uncached server that ran just before, same clients.
    const auto none = ApiThroughput().find({0, 1});
    const auto ratio = none == ApiThroughput().end() ? std::nullopt : stats::Ratio(r.throughput(), none->second);
    if (ratio) state.counters["cached_vs_none"] = *ratio;
    observed["cached_vs_none"] = {.rate = ratio};
    bars.push_back(Bar::Goal("cached_vs_none", "rate>=2"));
  }
  CheckBars(state, bars, observed);
}
BENCHMARK(BM_ApiCache)
    ->ArgNames({"cache", "model"})
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pmbench::bench
