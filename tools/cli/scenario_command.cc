#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "lib/db/database_url.h"
#include "lib/db/staging.h"
#include "lib/monitoring/prometheus.h"
#include "lib/scenario/run.h"
#include "lib/scenario/scenario.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_common.h"

namespace pmbench::cli {
namespace {

const std::string kUsage = R"(Usage: pmbench scenario run NAME|FILE [options]
       pmbench scenario platform NAME|FILE --state FILE [--listen IP] [--profile P] [--seed S] [--keep-schema]
       pmbench scenario list

Runs one of the story's scenarios against the whole platform at once: a fresh schema on
staging (migrated and seeded, dropped after), the event listener live from the local
ledger and the WebSocket fan-out server as child processes, browsing users' WebSocket
subscriptions, then every role's users together. Browsing users read lists, market pages
and dashboards through pgbouncer; the others send bets, votes, market creations,
approvals, resolutions or claims as transactions to the ledger, each user signing with
its own wallet, which the listener writes to PostgreSQL and the fan-out sends to the
browsers.

NAME: peak (Scenario 1: 500 browsing, 300 betting, 150 voting, 50 creating), flood
(Scenario 2: 10,000 votes in 10 minutes, resolutions, 5,000 claims), creation (Scenario 3:
50 approvals at once, 50 markets in 5 minutes, new markets on "markets"), sustained
(Scenario 4: 100 users, 50 bets/min, 20 votes/min, 5 markets/hour). FILE: a JSON scenario
(README "Scenarios").

Measured: click to screen (bet sent -> every subscriber of its market holds odds that
include it), bet confirmed -> row written, each read kind, WebSocket delivery (lost),
confirmed vs stored per kind (sync), latency per interval (pmbench_series), CPU and memory
of every process (pmbench_processes). The story's SLAs are thresholds (exit 1 when one
fails): reads p95 < 100 ms, updates p95 < 200 ms, success > 99%, sync 100%, nothing lost;
click-to-screen p99 <= 1 s is our goal (reported).

Options:
  --profile P             smoke (seconds, a tenth of the users) | default (minutes) |
                          soak (the story's durations; fails on drift)      [default]
)" + std::string(kShapeUsage) +
                           R"(  --duration D            override the scenario's length (with --spike: its span)
  --stall AT:FOR          hold an exclusive lock on markets for FOR, AT into the run
                          (e.g. 30s:2s); recovery_s is measured from its end
  --interval D            the time series' interval                          [1s]
  --seed S                                                                    [1]
  --keep-schema           keep the run's schema (to inspect it)
  --out FILE              the result JSON there instead of stdout
)" + std::string(kMetricsUsage) + R"(  --allow-remote-writes   permit a staging that is not on loopback

Sharded (one run from several processes or machines, merged by pmbench results merge):
  --platform FILE         load the platform `scenario platform` prepared and serves
                          (its state FILE) instead of preparing one
)" + std::string(kShardUsage) + R"(                          (needs --platform) a shard runs every role's users, wallets,
                          arrivals and subscribers i with i % N = I; its summary
                          times its own bets on its own subscribers' screens, the
                          merge every bet on every shard's. Not with --stall, --spike or the soak profile (recovery and
                          drift are judged on one process's time series)

scenario platform prepares the platform once for sharded runs: the seeded schema, the
listener and the fan-out server, writes their state to --state FILE, and
serves until SIGINT or SIGTERM, then stops them, drops the schema and removes FILE.
--listen IP: the address the fan-out server listens on (a free port), which the shards
connect to: an address of this machine they can reach (default 127.0.0.1).

Progress goes to stderr (a status line each second on a terminal). The result is Google
Benchmark JSON (results merge|summary, compare and report read it); its context's
pmbench_window is the run's time span, for `tools/monitoring snapshot`. With staging's
monitoring up (tools/staging up --monitoring), Prometheus scrapes the run's listener,
fan-out server and load generator while it runs.
)";

std::vector<std::string> StripPlatform(std::vector<std::string> args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--platform") {
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(std::min(i + 2, args.size())));
      break;
    }
    if (args[i].starts_with("--platform=")) {
      args.erase(args.begin() + static_cast<long>(i));
      break;
    }
  }
  return args;
}

// Staging as a scenario writes to it (remote only with --allow-remote-writes), with its
// local ledger; ledger_url is the first of its RPC endpoints.
db::Staging ScenarioStaging(const Flags& flags) {
  db::Staging st = db::ResolveStaging();
  db::CheckWritable(db::ParseDatabaseUrl(st.direct_url), flags.Has("allow-remote-writes"));
  db::CheckWritable(db::ParseDatabaseUrl(st.pooled_url), flags.Has("allow-remote-writes"));
  if (st.ledger_url.empty()) {
    throw std::runtime_error("no local ledger in staging: " + (st.ledger_error.empty() ? std::string("tools/staging up starts one") : st.ledger_error));
  }
  st.ledger_url = st.ledger_url.substr(0, st.ledger_url.find(','));
  return st;
}

void PrintList() {
  for (const std::string& name : scenario::BuiltinNames()) {
    const scenario::ScenarioSpec s = scenario::Builtin(name, "default");
    std::cout << name << ": " << s.title << " (" << s.seconds << " s by default)\n";
    for (const scenario::Role& r : s.roles) {
      std::cout << "  " << r.name << ": " << r.action << ", ";
      if (r.rate_per_s > 0) std::cout << r.rate_per_s * 60 << "/min";
      else std::cout << r.users << " users thinking " << r.think_s << " s";
      if (r.start_s > 0 || r.seconds > 0) std::cout << " from " << r.start_s << " s" << (r.seconds > 0 ? " for " + std::to_string(static_cast<int>(r.seconds)) + " s" : "");
      std::cout << "\n";
    }
  }
}

scenario::ScenarioSpec ParseSpec(const std::string& what, const Flags& flags) {
  const std::string profile = flags.Get("profile", "default");
  scenario::ScenarioSpec s;
  try {
    if (what.ends_with(".json")) {
      s = scenario::ParseScenario(ReadFileOrFail(what));
    } else {
      s = scenario::Builtin(what, profile);
    }
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (flags.Has("duration") && !flags.Has("spike")) s.seconds = ParseDuration("duration", flags.Get("duration", ""));
  if (flags.Has("stage") || flags.Has("spike")) {
    if (std::any_of(s.roles.begin(), s.roles.end(), [](const auto& r) { return r.start_s > 0 || r.seconds > 0; })) {
      throw UsageError("scenario " + s.name + " has timed phases: --stage and --spike go with scenarios whose roles run throughout");
    }
    s.shape = ParseShape(flags, s.users());
    s.seconds = s.shape.seconds();
  }
  if (flags.Has("stall")) {
    const std::string v = flags.Get("stall", "");
    const auto colon = v.find(':');
    if (colon == std::string::npos) throw UsageError("--stall takes AT:FOR, e.g. 30s:2s");
    s.stall = scenario::Stall{ParseDuration("stall", v.substr(0, colon)), ParseDuration("stall", v.substr(colon + 1))};
  }
  s.interval_s = ParseDuration("interval", flags.Get("interval", "1s"));
  try {
    s.Validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  return s;
}

void PrintSummary(const scenario::ScenarioResult& r) {
  std::fprintf(stderr, "%s: %s\n", r.spec.title.c_str(), r.passed() ? "PASSED the story's SLAs" : "FAILED");
  const auto& c = r.click;
  if (c.latency.count() > 0) {
    std::fprintf(stderr, "  click to screen  p50 %.0f ms  p95 %.0f ms  p99 %.0f ms  (%lld bets on screen, %lld never)\n",
                 c.latency.Percentile(50) / 1e6, c.latency.Percentile(95) / 1e6, c.latency.Percentile(99) / 1e6,
                 static_cast<long long>(c.complete), static_cast<long long>(c.incomplete));
  }
  if (r.shard) {
    std::fprintf(stderr, "  (shard %d/%d: its own bets on its own subscribers' screens; results merge times every bet on "
                 "every shard's)\n", r.shard->index, r.shard->count);
  }
  const auto& n = r.new_markets;
  if (n.latency.count() > 0) {
    std::fprintf(stderr, "  new market to screen  p50 %.0f ms  p95 %.0f ms  p99 %.0f ms  (%lld on every screen, %lld not)\n",
                 n.latency.Percentile(50) / 1e6, n.latency.Percentile(95) / 1e6, n.latency.Percentile(99) / 1e6,
                 static_cast<long long>(n.complete), static_cast<long long>(n.incomplete));
  }
  std::fprintf(stderr, "  bet confirmed -> row written  p50 %.0f ms  p99 %.0f ms;  update p95 %.1f ms;  lost %lld\n",
               r.confirm_to_commit.Percentile(50) / 1e6, r.confirm_to_commit.Percentile(99) / 1e6, r.update.Percentile(95) / 1e6,
               static_cast<long long>(r.ws_lost + c.incomplete + r.new_markets.incomplete));
  for (const auto& role : r.roles) {
    std::fprintf(stderr, "  %-8s %7lld ok %5lld failed  p95 %8.1f ms  p99 %8.1f ms\n", role.name.c_str(),
                 static_cast<long long>(role.load.total.ok), static_cast<long long>(role.load.total.failed + role.load.total.dropped),
                 role.load.total.latency.Percentile(95) / 1e6, role.load.total.latency.Percentile(99) / 1e6);
  }
  for (const auto& s : r.sync) {
    std::fprintf(stderr, "  %-12s %lld confirmed, %lld in the database\n", s.kind.c_str(), static_cast<long long>(s.confirmed),
                 static_cast<long long>(s.stored));
  }
  if (r.disturbance_end_s) {
    if (r.recovery_s) std::fprintf(stderr, "  recovered %.1f s after the disturbance ended\n", *r.recovery_s);
    else std::fprintf(stderr, "  NOT recovered: read p95 never stayed under its SLA\n");
  }
  std::fprintf(stderr, "  CPU:");
  for (const auto& g : r.processes) std::fprintf(stderr, " %s %.1f s;", g.name.c_str(), g.cpu_s);
  std::fprintf(stderr, "\n");
  for (const auto& b : r.bars) {
    std::fprintf(stderr, "  %s %s %s: %s\n", b.pass ? "ok  " : (b.kind == stats::Bar::Kind::kThreshold ? "FAIL" : "miss"),
                 b.kind == stats::Bar::Kind::kThreshold ? "threshold" : "goal", b.metric.c_str(), b.message.c_str());
  }
  if (r.generator_bound) std::fprintf(stderr, "  GENERATOR BOUND: %s\n", r.generator_reason.c_str());
}

}  // namespace

// Prepares the platform and serves it until SIGINT or SIGTERM (or until a part of it dies).
int PlatformCommand(const std::vector<std::string>& args) {
  const Flags flags(args, {"profile", "seed", "state", "interval", "listen"}, {"keep-schema", "allow-remote-writes", "help"});
  if (flags.Has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (flags.positional().size() != 1) throw UsageError("scenario platform takes one NAME or FILE (see pmbench scenario --help)");
  if (!flags.Has("state")) throw UsageError("scenario platform needs --state FILE: where the shards read the platform from");
  const std::string state_path = flags.Get("state", "");
  if (std::ifstream in(state_path); in) {
    std::stringstream text;
    text << in.rdbuf();
    try {
      const scenario::PlatformState old = scenario::PlatformState::Parse(text.str());
      if (!old.Stale()) {
        throw std::runtime_error(state_path + " is a live platform's (process " + std::to_string(old.pid) + " on " + old.host +
                                 "): stop it first, or give another --state");
      }
    } catch (const std::invalid_argument&) {
      throw std::runtime_error(state_path + " exists and is not a platform's state: not overwriting it");
    }
  }
  const scenario::ScenarioSpec spec = ParseSpec(flags.positional()[0], flags);
  const std::string listen = flags.Get("listen", "127.0.0.1");
  in6_addr ip;
  if (inet_pton(AF_INET, listen.c_str(), &ip) != 1 && inet_pton(AF_INET6, listen.c_str(), &ip) != 1) {
    throw UsageError("--listen takes the IP address the shards connect to (no port: a free one is taken), not '" + listen + "'");
  }
  if (listen == "0.0.0.0" || listen == "::") throw UsageError("--listen " + listen + ": give the address the shards connect to");
  const db::Staging st = ScenarioStaging(flags);
  // Taken by sigwait below; the children block them too, each waiting for its own.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  scenario::PlatformHost host(spec, {.direct_url = st.direct_url, .pooled_url = st.pooled_url,
                                     .ledger_url = st.ledger_url,
                                     .keep_schema = flags.Has("keep-schema"), .seed = flags.GetUint("seed", 1),
                                     .say = [](const std::string& line) { std::cerr << line << "\n"; },
                                     .fanout_address = listen});
  WriteFileAtomically(state_path, host.state().ToJson());
  std::cerr << "platform for " << spec.name << " ready: schema " << host.state().schema << ", fan-out ws://"
            << host.state().fanout_host << ":" << host.state().fanout_port << "; state in " << state_path
            << " (SIGINT or SIGTERM stops it and drops the schema)\n";
  int status = 0;
  for (;;) {
    const timespec second{1, 0};
    if (sigtimedwait(&signals, nullptr, &second) > 0) break;
    if (!host.running()) {
      std::cerr << "pmbench scenario platform: the listener or the fan-out server exited: the platform is down\n";
      status = 1;
      break;
    }
  }
  std::remove(state_path.c_str());
  std::cerr << "stopping the platform" << (flags.Has("keep-schema") ? "" : " and dropping schema " + host.state().schema) << "\n";
  return status;
}

int ScenarioCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, kUsage.c_str())) return *status;
  if (args[0] == "list") {
    PrintList();
    return 0;
  }
  if (args[0] == "platform") return PlatformCommand({args.begin() + 1, args.end()});
  if (args[0] != "run") throw UsageError("unknown scenario command '" + args[0] + "' (see pmbench scenario --help)");
  const Flags flags({args.begin() + 1, args.end()},
                    {"profile", "stage", "duration", "stall", "interval", "seed", "out", "metrics-listen", "shard", "start-at", "platform"},
                    {"spike", "keep-schema", "allow-remote-writes", "help"});
  if (flags.Has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if ((flags.Has("shard") || flags.Has("start-at")) && !flags.Has("platform")) {
    // Said, not ignored: N copies of a run that starts its own platform would be N runs.
    throw UsageError("--shard and --start-at load one platform that another process serves: start it with pmbench scenario "
                     "platform NAME --state FILE, then give every shard --platform FILE");
  }
  if (flags.positional().size() != 1) throw UsageError("scenario run takes one NAME or FILE (see pmbench scenario --help)");
  const scenario::ScenarioSpec spec = ParseSpec(flags.positional()[0], flags);
  std::optional<scenario::PlatformState> platform;
  if (flags.Has("platform")) {
    const std::string path = flags.Get("platform", "");
    try {
      platform = scenario::PlatformState::Parse(ReadFileOrFail(path));
    } catch (const std::invalid_argument& e) {
      throw UsageError(path + ": " + e.what());
    }
  }
  load::LoadSpec shard;
  shard.clients = 10'000;  // each role's own users are checked against the shards below
  ParseShard(flags, shard);
  scenario::RunOptions options{
      .keep_schema = flags.Has("keep-schema"), .seed = flags.GetUint("seed", 1),
      .say = [](const std::string& line) { std::cerr << line << "\n"; }, .status_line = isatty(STDERR_FILENO) != 0,
      .platform = platform, .shard_index = shard.shard_index, .shard_count = flags.Has("shard") ? shard.shard_count : 0,
      .start_at = shard.start_at,
      // Shards of one run load one platform, wherever each reads its state from.
      .shard_plan = ShardPlan("scenario run", StripPlatform({args.begin() + 1, args.end()})) +
                    (platform ? " (platform schema " + platform->schema + ")" : "")};
  try {
    scenario::CheckRunOptions(spec, options);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const db::Staging st = ScenarioStaging(flags);
  options.direct_url = st.direct_url;
  options.pooled_url = st.pooled_url;
  options.ledger_url = st.ledger_url;
  // With monitoring in staging, the generator's metrics are always served (on a free port)
  // and the run tells Prometheus where its processes are.
  std::unique_ptr<MetricsEndpoint> served = ServeMetrics(flags, "pmbench scenario run");
  if (!served && !st.prometheus_targets.empty()) {
    served = std::make_unique<MetricsEndpoint>();
    served->exporter = std::make_unique<metrics::Exporter>(served->registry, "127.0.0.1:0");
    served->exporter->Start();
  }
  if (served) {
    options.metrics = &served->registry;
    options.generator_metrics_port = served->exporter->port();
  }
  if (!st.prometheus_targets.empty()) options.targets_file = st.prometheus_targets + "/scenario-" + std::to_string(getpid()) + ".json";
  const scenario::ScenarioResult r = scenario::RunScenario(spec, options);
  PrintSummary(r);
  const char* commit = std::getenv("PMBENCH_GIT_COMMIT");
  std::string result = r.ToJson(commit ? commit : "");
  // With monitoring, every dashboard query over the run goes into the result: the run can
  // be examined after Prometheus has forgotten it.
  if (!st.prometheus_url.empty() && !st.dashboard.empty()) {
    try {
      std::ifstream in(st.dashboard);
      std::stringstream text;
      text << in.rdbuf();
      nlohmann::json j = nlohmann::json::parse(result);
      j["pmbench_monitoring"] = monitoring::Snapshot(st.prometheus_url, monitoring::DashboardQueries(text.str()),
                                                     r.unix_start, r.unix_end + 2);
      result = j.dump(2) + "\n";
      std::cerr << "stored " << j["pmbench_monitoring"]["panels"].size() << " dashboard queries' range data from " << st.prometheus_url << "\n";
    } catch (const std::exception& e) {
      std::cerr << "pmbench scenario run: warning: no range data from Prometheus: " << e.what() << "\n";
    }
  }
  WriteResult(flags, result);
  return VerdictStatus(flags, r.passed());
}

}  // namespace pmbench::cli
