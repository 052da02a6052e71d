// HTTP load: the engine (pmbench load http) beside wrk, Debian's, against the same nginx on
// loopback, so a user can see what the HTTP numbers of the other benchmarks are worth.
//  - BM_VsWrk/target:static,json: requests/s at saturation, wrk first, then the engine with
//    as many connections and threads: vs_wrk_ratio (goal >= 0.9).
//  - BM_FixedRate: both at the same fixed rate (wrk paced by a Lua delay, its only way):
//    latency as each reports it; wrk's from the actual send, the engine's from the intended.
#include <unistd.h>

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

std::string Path(int64_t target) { return target == 0 ? "/static.txt" : "/api.json"; }
std::string Body(int64_t target) { return target == 0 ? http::test::Nginx::kStatic : http::test::Nginx::kJson; }

http::Request RequestFor(const http::test::Nginx& nginx, int64_t target) {
  // Every answer checked: the whole body, as nginx serves it.
  return {.name = target == 0 ? "static" : "json", .url = nginx.url(Path(target)), .expect_status = 200, .expect_body = Body(target)};
}

int Seconds() { return std::max(2, static_cast<int>(P().db_seconds / 2)); }

// Saturation: the most requests per second each tool gets from the same nginx, wrk first.
// Arg: target (0: a 64-byte static file, 1: a small JSON document).
void BM_VsWrk(benchmark::State& state) {
  std::optional<http::test::Nginx> nginx;
  try {
    nginx.emplace();
  } catch (const std::exception& e) {
    return state.SkipWithError(e.what());
  }
  const int seconds = Seconds();
  auto w = http::HttpWorkload::Make({RequestFor(*nginx, state.range(0))});
  WrkRun wrk;
  load::LoadResult r;
  for (auto _ : state) {
    wrk = RunWrk(nginx->url(Path(state.range(0))), seconds);
    if (!wrk.error.empty()) return state.SkipWithError(wrk.error.c_str());
    r = load::RunLoad({.model = load::Model::kClosed, .start = kConnections, .stages = {{static_cast<double>(seconds), kConnections}},
                       .clients = kConnections, .mix = w->Mix(), .threads = Threads(), .drain_s = 5},
                      w->Clients());
    state.SetIterationTime(r.seconds);
  }
  std::vector<Bar> bars;
  // The engine here is the work measured (nginx answers a static file in microseconds).
  auto observed = ReportLoad(state, r, bars, /*generator_is_the_work=*/true);
  state.counters["wrk_requests_per_s"] = wrk.requests_per_s;
  state.counters["wrk_p50_ms"] = wrk.p50_ms;
  state.counters["wrk_p99_ms"] = wrk.p99_ms;
  state.counters["wrk_errors"] = static_cast<double>(wrk.errors);
  const auto ratio = stats::Ratio(r.throughput(), wrk.requests_per_s);
  if (ratio) state.counters["vs_wrk_ratio"] = *ratio;
  observed["vs_wrk_ratio"] = {.rate = ratio};
  observed["wrk_errors"] = {.count = static_cast<double>(wrk.errors)};
  bars.push_back(Bar::Goal("vs_wrk_ratio", "rate>=0.9"));
  // A peer that failed requests is no limit to compare with.
  bars.push_back(Bar::Sla("wrk_errors", "count<1"));
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

}  // namespace
}  // namespace pmbench::bench
