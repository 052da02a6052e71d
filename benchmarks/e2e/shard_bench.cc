// A load test spread over four processes, each in its own network namespace (its own
// "host": tools/netlab), merged by `pmbench results merge`, side by side with the same test
// from one process: the merged percentiles against the single run's, and a threshold that
// only the whole run breaks.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "benchmarks/common/profile.h"
#include "benchmarks/common/report.h"
#include "benchmarks/common/staging.h"
#include "lib/db/database_url.h"
#include "lib/db/pg_session.h"
#include "lib/db/seed.h"
#include "lib/stats/report.h"

namespace pmbench::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using stats::Bar;

const Profile& P() { return CurrentProfile(); }

constexpr int kShards = 4;
constexpr int kConnections = 200;  // the whole run's: 50 a shard
// Far above what a steady run has in flight, in both set-ups: a shard's bound is a quarter
// of the run's, so with the default (2 x connections) a burst that one process absorbs
// would drop requests on a shard, and a dropped request counts until the deadline.
constexpr int kMaxInFlight = 4000;
constexpr double kHistogramError = 1.0 / 128;  // LatencyHistogram's bucket width, relative

class ShardStaging : public BenchSchema {
 public:
  static ShardStaging& Get() {
    static ShardStaging s;
    return s;
  }

 private:
  ShardStaging() : BenchSchema("shard") {
    Prepare([this] {
      db::Seed(direct(), schema(), {.scale = std::max(0.05, P().seed_scale), .seed = 19});
      db::PgSession s(direct());
      for (const char* t : {"markets", "bets", "users"}) s.Exec("VACUUM (ANALYZE) \"" + schema() + "\"." + t);
    });
  }
};

// Runs argv with its output in `log`; returns the pid.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The last line of a log: the one-line error of a command that failed.
std::string LastLine(const std::string& path) {
  std::string text = Slurp(path), line;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) line = l;
  }
  return line;
}

const json& Whole(const json& doc) { return doc.at("benchmarks").at(0); }

// The lab's namespaces and the relay to staging's pooler, removed when the benchmark ends.
struct Lab {
  std::string host;  // the host's address on the lab bridge
  std::string error;
  explicit Lab(const std::string& port) {
    const std::string cmd = std::string(PMBENCH_SOURCE_DIR) + "/tools/netlab up " + std::to_string(kShards) + " --forward " + port;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[128] = {};
    if (!p || !fgets(buf, sizeof buf, p)) buf[0] = 0;
    const int rc = p ? pclose(p) : -1;
    host = buf;
    while (!host.empty() && std::isspace(static_cast<unsigned char>(host.back()))) host.pop_back();
    if (rc != 0 || host.empty()) error = "tools/netlab up failed (its error is on stderr above)";
  }
  ~Lab() {
    if (std::system((std::string(PMBENCH_SOURCE_DIR) + "/tools/netlab down").c_str()) != 0) {
      std::cerr << "shard_bench: tools/netlab down failed\n";
    }
  }
};

// Four shards in four namespaces against the single process in one, the single run
// before and after the sharded one (their difference is the run-to-run noise); the same
// total rate, connections and schedule. Exact: the shards' requests are the schedule's
// and the merge's counts their sum. The threshold requests:count<60% of the run is under
// on each shard and over on the whole: the merged verdict must fail it.
void BM_ShardedLoad(benchmark::State& state) {
  if (geteuid() != 0) return state.SkipWithError("needs root: the shards run in network namespaces (ip netns)");
  ShardStaging& st = ShardStaging::Get();
  if (!st.error().empty()) return state.SkipWithError(st.error().c_str());
  const db::DatabaseTarget target = db::ParseDatabaseUrl(st.pooled());
  if (!target.IsLoopback() || target.has_password || target.host.empty() || target.host[0] == '/') {
    return state.SkipWithError("runs against the embedded staging (a loopback pooler without a password): the lab's namespaces reach this machine only");
  }
  Lab lab(target.port);
  if (!lab.error.empty()) return state.SkipWithError(lab.error.c_str());
  const std::string url = "postgresql://" + target.user + "@" + lab.host + ":" + target.port + "/" + target.dbname;

  const double rate = P().db_rate;
  const double seconds = std::max(4.0, P().db_seconds);
  const auto total = static_cast<int64_t>(std::llround(rate * seconds));
  const auto budget = static_cast<int64_t>(std::llround(0.6 * static_cast<double>(total)));
  const std::string dir = fs::temp_directory_path() / ("pmbench_shard_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto cleanup = [&] { fs::remove_all(dir); };

  const auto command = [&](int ns, std::vector<std::string> extra) {
    std::vector<std::string> argv = {"ip", "netns", "exec", "pmlab-" + std::to_string(ns), PMBENCH_CLI_PATH, "load", "db",
                                     "--scenario", "markets", "--schema", st.schema(), "--database", url,
                                     "--allow-remote-writes", "--rate", std::to_string(static_cast<int64_t>(rate)),
                                     "--duration", std::to_string(static_cast<int64_t>(seconds)), "--warmup", "1",
                                     "--clients", std::to_string(kConnections), "--max-in-flight", std::to_string(kMaxInFlight),
                                     "--threads", "1",
                                     "--threshold", "requests:count<" + std::to_string(budget)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  };
  std::vector<json> singles;
  json merged;
  std::vector<json> shards(kShards);
  std::vector<int> shard_rc(kShards);
  int merge_rc = -1;
  std::string failure;
  for (auto _ : state) {
    const auto single = [&](const std::string& name) {
      const std::string out = dir + "/" + name + ".json";
      const int rc = Wait(Spawn(command(0, {"--out", out}), dir + "/" + name + ".log"));
      // Exit 1 is the count threshold failing on a whole run, as it must.
      if (rc != 1 || !fs::exists(out)) {
        failure = name + " run exited " + std::to_string(rc) + ": " + LastLine(dir + "/" + name + ".log");
        return;
      }
      singles.push_back(json::parse(Slurp(out)));
    };
    single("single_before");
    if (!failure.empty()) break;
    // Every shard opens its connections, then starts at the same instant.
    const auto start_at = std::chrono::system_clock::now() + std::chrono::seconds(3);
    char at[64];
    std::snprintf(at, sizeof at, "%.3f",
                  std::chrono::duration<double>(start_at.time_since_epoch()).count());
    std::vector<pid_t> pids;
    std::vector<std::string> files;
    for (int i = 0; i < kShards; ++i) {
      files.push_back(dir + "/shard-" + std::to_string(i) + ".json");
      pids.push_back(Spawn(command(i, {"--shard", std::to_string(i) + "/" + std::to_string(kShards), "--start-at", at, "--out", files.back()}),
                           dir + "/shard-" + std::to_string(i) + ".log"));
    }
    for (int i = 0; i < kShards; ++i) shard_rc[i] = Wait(pids[i]);
    for (int i = 0; i < kShards; ++i) {
      if (shard_rc[i] != 0 || !fs::exists(files[i])) {
        failure = "shard " + std::to_string(i) + " exited " + std::to_string(shard_rc[i]) + ": " + LastLine(dir + "/shard-" + std::to_string(i) + ".log");
        break;
      }
      shards[i] = json::parse(Slurp(files[i]));
    }
    if (!failure.empty()) break;
    std::vector<std::string> merge = {PMBENCH_CLI_PATH, "results", "merge", "--out", dir + "/merged.json"};
    merge.insert(merge.end(), files.begin(), files.end());
    merge_rc = Wait(Spawn(merge, dir + "/merge.log"));
    if (!fs::exists(dir + "/merged.json")) {
      failure = "results merge exited " + std::to_string(merge_rc) + ": " + LastLine(dir + "/merge.log");
      break;
    }
    std::cerr << Slurp(dir + "/merge.log");
    merged = json::parse(Slurp(dir + "/merged.json"));
    single("single_after");
    if (!failure.empty()) break;
    state.SetIterationTime(merged["context"]["pmbench_merge"].value("window_s", 0.0));
  }
  cleanup();
  if (!failure.empty()) return state.SkipWithError(failure.c_str());

  const json& m = Whole(merged);
  const auto requests = [](const json& e) {
    return e.value("ok", 0.0) + e.value("failed", 0.0) + e.value("dropped", 0.0) + e.value("unfinished", 0.0);
  };
  double shard_ok = 0;
  bool alone_pass = true;
  for (const json& s : shards) {
    shard_ok += Whole(s).value("ok", 0.0);
    for (const json& b : s["pmbench_bars"]) alone_pass = alone_pass && b.value("pass", false);
  }
  bool whole_failed = false;
  for (const json& b : merged["pmbench_bars"]) {
    if (b.value("metric", "") == "requests") whole_failed = !b.value("pass", true) && b.value("measured", 0.0) == m.value("ok", -1.0);
  }
  Check(state, requests(m) == static_cast<double>(total),
        "the shards' requests are the schedule's " + std::to_string(total) + ", not " + std::to_string(requests(m)));
  Check(state, requests(Whole(singles[0])) == static_cast<double>(total), "the single run's requests are the schedule's");
  Check(state, m.value("ok", 0.0) == shard_ok, "the merged ok is the shards' sum");
  Check(state, alone_pass, "each shard alone is under requests:count<" + std::to_string(budget));
  Check(state, whole_failed && merge_rc == 1, "the merged run fails requests:count<" + std::to_string(budget) + " (merge exit 1)");

  const json& mc = merged["context"]["pmbench_merge"];
  state.counters["shards"] = kShards;
  state.counters["offered_requests_per_s"] = rate;
  state.counters["merged_achieved_requests_per_s"] = m.value("achieved_requests_per_s", 0.0);
  state.counters["start_spread_ms"] = mc.value("start_spread_ms", 0.0);
  if (!mc["clock_skew_ms"].is_null()) {
    state.counters["clock_skew_ms"] = mc["clock_skew_ms"].get<double>();
    state.counters["clock_skew_error_ms"] = mc["clock_skew_error_ms"].get<double>();
  }
  std::map<std::string, stats::Observed> observed;
  std::vector<Bar> bars;
  for (const char* p : {"p50", "p95", "p99"}) {
    const std::string key = std::string(p) + "_ms";
    const double a = Whole(singles[0]).value(key, 0.0), b = Whole(singles[1]).value(key, 0.0);
    const double single = (a + b) / 2, merged_p = m.value(key, 0.0);
    state.counters["merged_" + key] = merged_p;
    state.counters["single_" + key] = single;
    state.counters["single_noise_" + key] = std::abs(a - b);
    if (const auto r = stats::Ratio(merged_p, single)) state.counters["merged_vs_single_" + std::string(p)] = *r;
    // Agreement: the difference within the histogram's error plus the single runs' own
    // difference (what the machine's noise does to the same test twice).
    const bool agrees = std::abs(merged_p - single) <= kHistogramError * single + std::abs(a - b);
    const std::string name = std::string(p) + "_agrees";
    state.counters[name] = agrees ? 1 : 0;
    observed[name] = {.rate = agrees ? 1.0 : 0.0};
    bars.push_back(Bar::Goal(name, "rate>=1"));
  }
  CheckBars(state, bars, observed);
}
BENCHMARK(BM_ShardedLoad)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pmbench::bench
