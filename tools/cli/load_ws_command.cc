// pmbench load ws: WebSocket subscribers of the fan-out server, and what they saw.
#include <arpa/inet.h>
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

#include "lib/load/engine.h"
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

const std::string kWsUsage = R"(Usage: pmbench load ws [options]

Opens N WebSocket connections to a pmbench realtime server from a few threads, subscribes
each to channels, holds them while updates flow (from bets placed by anyone), and reports
what the subscribers saw: connect + subscribe time, update latency (receipt - the update's
ts_ns: run it on the server's machine or with synchronised clocks), seq gaps (lost), resets.

With --protocol FILE it loads another WebSocket server instead (a team's own, Supabase
Realtime's phx_join, ...): the file gives the handshake's path, the subscribe message, how
its acknowledgement and an update are recognised, where an update's channel, sequence and
timestamp are (JSON pointers), and a heartbeat (README.md, "Other WebSocket servers").
Without a sequence losses are not measured; without a timestamp, latency is not.

Options:
  --url URL               ws://HOST:PORT, HOST an IP address (default ws://127.0.0.1:8090)
  --allow-remote          permit a host that is not on loopback (a shard on another
                          machine loading one fan-out server)
  --protocol FILE         the server's protocol (default: pmbench realtime serve's)
  --connections N         subscribers                                            [500]
  --channels LIST         comma-separated channels, spread over the connections  [markets]
  --per-connection N      channels each connection subscribes to                 [1]
  --duration D            how long to hold them: 30, 30s, 2m                     [30s]
  --ramp-up D             open them linearly over D first                        [0]
  --stage LIST            subscribers over time instead: '30s:100,1m:1000,30s:0' (up:
                          more connections open and subscribe; down: the last close)
  --spike                 30% of --duration at --connections, 20% at x10, then back
  --threads N             client threads                                         [2]
  --threshold EXPR        [METRIC:]EXPR with METRIC latency (default), connect, lost,
                          resets, success, e.g. 'p(95)<200ms', 'lost:count<1'; an unknown
                          one exits 2 before connecting; exit 1 when one fails
  --out FILE              the result JSON there instead of stdout
)" + std::string(kShardUsage) + R"(                          a shard opens its part of the subscribers (the run's
                          connections I, I + N, ...) on the channels one process would
                          give them
)" + std::string(kMetricsUsage) + R"(
Latency counts every update: received ones from their publish time, lost ones (seq gaps)
at the end of the run, so losing the slowest cannot pass a percentile; success_ratio is
received / (received + lost). delivered_frames_per_s counts the updates received per
second over all connections.
)";

// Where load ws connects and what it subscribes to, checked before anything connects.
struct WsTarget {
  std::string url, host;
  uint16_t port = 0;
  std::vector<std::string> channels;
  double connections = 0;
  std::shared_ptr<const realtime::WsProtocol> protocol;  // nullptr: our own server's
};

WsTarget ParseWsTarget(const Flags& flags) {
  WsTarget t;
  const std::string& url = t.url = flags.Get("url", "ws://127.0.0.1:8090");
  const auto colon = url.rfind(':');
  if (!url.starts_with("ws://") || colon < 5) throw UsageError("--url takes ws://HOST:PORT, not '" + url + "'");
  std::string host = url.substr(5, colon - 5);
  std::string port_text = url.substr(colon + 1);
  if (const auto slash = port_text.find('/'); slash != std::string::npos) port_text.resize(slash);
  t.port = ParsePort("url", port_text);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  in6_addr any;
  const bool v4 = inet_pton(AF_INET, host.c_str(), &any) == 1, v6 = inet_pton(AF_INET6, host.c_str(), &any) == 1;
  // Addresses, not names: N shards resolving a name could load N different machines.
  if (!v4 && !v6) throw UsageError("--url: the host must be an IP address (or localhost), not '" + host + "'");
  if (host != "127.0.0.1" && host != "::1" && !host.starts_with("127.") && !flags.Has("allow-remote")) {
    throw UsageError("--url: " + host + " is not on loopback: add --allow-remote to load it");
  }
  t.host = host;
  if (flags.Has("protocol")) {
    const std::string path = flags.Get("protocol", "");
    try {
      t.protocol = std::make_shared<const realtime::WsProtocol>(realtime::ParseWsProtocol(ReadFileOrFail(path), path));
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  {
    const std::string list = flags.Get("channels", "markets");
    size_t start = 0;
    while (start <= list.size()) {
      const size_t end = std::min(list.find(',', start), list.size());
      const std::string ch = list.substr(start, end - start);
      if (t.protocol ? ch.empty() : !realtime::IsValidChannel(ch)) {
        throw UsageError("--channels: '" + ch + "' is not " + (t.protocol ? "a channel" : "market:<id> or markets"));
      }
      t.channels.push_back(ch);
      start = end + 1;
    }
  }
  const double connections = t.connections = flags.GetDouble("connections", 500);
  if (!(connections >= 1 && connections <= 100'000) || connections != std::floor(connections)) {
    throw UsageError("--connections must be a whole number in 1..100000");
  }
  return t;
}

// The thresholds and the result JSON; the exit status.
int ReportWs(const Flags& flags, const WsTarget& t, double duration, const std::vector<stats::Bar>& thresholds,
             const realtime::WsLoadStats& st, const stats::LatencyHistogram& latency, const load::LoadSpec& shard,
             const load::LoadResult& timing, const std::string& plan) {
  const auto verdicts = EvaluateThresholds(thresholds, {{"latency", {.latency = &latency}},
                                                       {"connect", {.latency = &st.connect}},
                                                       {"lost", {.count = static_cast<double>(st.lost)}},
                                                       {"resets", {.count = static_cast<double>(st.resets)}},
                                                       {"success", {.rate = st.success_ratio()}}});
  results::RunEntry e{"load_ws", duration, {}};
  const bool timed = !t.protocol || !t.protocol->update.timestamp.empty();
  const bool sequenced = !t.protocol || !t.protocol->update.seq.empty();
  if (timed) {
    for (const auto& [name, v] : stats::LatencyCounters(latency)) e.counters.emplace_back(name, v);
  }
  for (const auto& [name, v] : stats::LatencyCounters(st.connect, "connect_")) e.counters.emplace_back(name, v);
  e.counters.insert(e.counters.end(), {{"connections", static_cast<double>(timing.clients)},  // --connections (a shard's part)
                                       {"updates_received", static_cast<double>(st.received)},
                                       {"delivered_frames_per_s", duration > 0 ? static_cast<double>(st.received) / duration : 0},
                                       {"resets", static_cast<double>(st.resets)},
                                       {"reconnects", static_cast<double>(st.reconnects)},
                                       {"errors", static_cast<double>(st.errors)}});
  if (sequenced) {
    e.counters.emplace_back("lost", static_cast<double>(st.lost));
    if (const auto s = st.success_ratio()) e.counters.emplace_back("success_ratio", *s);
  }
  std::string text =
      results::WriteRunJson({{"date", Now()}, {"executable", "pmbench load ws"}, {"pmbench_url", t.url}}, {e}, verdicts);
  if (flags.Has("shard")) {
    std::map<std::string, results::ShardMetric> observed = {
        {"connect", {.latency = &st.connect}},
        {"lost", {.count = static_cast<double>(st.lost)}},
        {"resets", {.count = static_cast<double>(st.resets)}}};
    std::vector<results::ShardHistogram> hists;
    if (timed) {
      observed["latency"] = {.latency = &latency};
      hists.push_back({"load_ws", "latency", &latency});
    }
    hists.push_back({"load_ws", "connect", &st.connect});
    if (st.received + st.lost > 0) {
      observed["success"] = {.ratio = std::pair{static_cast<double>(st.received), static_cast<double>(st.received + st.lost)}};
    }
    text = WithShard(text, shard, timing, {.base = "load_ws", .plan = plan}, observed, hists);
  }
  WriteResult(flags, text);
  return VerdictStatus(flags, AllPass(verdicts));
}

}  // namespace

int LoadWsCommand(const std::vector<std::string>& args) {
  const Flags flags(args, {"url", "protocol", "connections", "channels", "per-connection", "duration", "ramp-up", "stage", "threads",
                           "threshold", "out", "metrics-listen", "shard", "start-at"},
                    {"spike", "allow-remote", "help"});
  if (PrintedHelpOrRejectedArguments(flags, kWsUsage, "pmbench load ws")) return 0;
  const WsTarget t = ParseWsTarget(flags);
  // The shape's level is the number of subscribers.
  const load::Shape shape = ParseShape(flags, t.connections);
  const double duration = shape.seconds();
  const load::ArrivalSchedule levels(shape.start, shape.stages);
  load::LoadSpec shard;
  shard.clients = static_cast<int>(std::ceil(shape.peak()));
  ParseShard(flags, shard);
  const int n = shard.shard_count, index = shard.shard_index;
  // A shard's part of the run's subscribers: connections index, index + n, ... below the level.
  const auto part = [&](long level) { return level > index ? static_cast<int>((level - index + n - 1) / n) : 0; };
  const auto subscribers_at = [&](double s) { return part(std::lround(levels.LevelAt(s))); };
  // What the protocol cannot tell is not offered as a threshold: a bar on it could only pass.
  std::vector<std::string> metrics = {"connect", "resets"};
  if (!t.protocol || !t.protocol->update.timestamp.empty()) metrics.push_back("latency");
  if (!t.protocol || !t.protocol->update.seq.empty()) metrics.insert(metrics.end(), {"lost", "success"});
  const auto thresholds = ParseThresholds(flags, "latency", metrics);
  load::RaiseOpenFileLimit();

  const auto served = ServeMetrics(flags, "pmbench load ws");
  std::optional<realtime::WsMetrics> live;
  if (served) live.emplace(served->registry, "ws");
  realtime::WsLoad ws({.host = t.host,
                       .port = t.port,
                       .connections = std::max(1, part(static_cast<long>(std::ceil(shape.peak())))),
                       .threads = static_cast<int>(flags.GetUint("threads", 2)),
                       .channels = t.channels,
                       .channels_per_connection = static_cast<int>(flags.GetUint("per-connection", 1)),
                       .first_index = index,
                       .index_stride = n,
                       .update_latency = live ? live->latency() : nullptr,
                       .protocol = t.protocol});
  std::cerr << "opening " << subscribers_at(0) << " connections to " << t.url
            << (shape.peak() > shape.start ? " (up to " + std::to_string(static_cast<int>(shape.peak())) + " as the stages go)" : "")
            << "\n";
  load::LoadResult timing;  // when it started and ran, for a shard's result
  if (shard.start_at) {
    const auto ahead = *shard.start_at - std::chrono::system_clock::now();
    if (ahead < std::chrono::milliseconds(1)) {
      throw std::runtime_error("--start-at passed " + std::to_string(std::chrono::duration<double>(-ahead).count()).substr(0, 6) +
                               " s before this shard was ready: give every shard a later instant");
    }
    std::this_thread::sleep_until(std::chrono::steady_clock::now() + ahead);  // the run's shared instant, not a pause in work
  }
  timing.wall_t0 = shard.start_at.value_or(std::chrono::system_clock::now());
  timing.wall_started = std::chrono::system_clock::now();
  ws.Resize(subscribers_at(0));
  const bool tty = isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (elapsed >= duration) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(std::min(0.1, duration - elapsed) * 1000)));
    ws.Resize(subscribers_at(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
    if (live) live->Update(ws.Stats());
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
  if (live) live->Update(st);
  const stats::LatencyHistogram latency = realtime::UpdateLatencyWithLosses(st, stats::WallClockNs());
  ws.Close();
  std::fprintf(stderr, "  %lld updates received; latency p50 %.2f p95 %.2f p99 %.2f ms; connect p99 %.1f ms; lost %lld; resets %lld; reconnects %lld\n",
               static_cast<long long>(st.received), latency.Percentile(50) / 1e6, latency.Percentile(95) / 1e6,
               latency.Percentile(99) / 1e6, st.connect.Percentile(99) / 1e6, static_cast<long long>(st.lost),
               static_cast<long long>(st.resets), static_cast<long long>(st.reconnects));
  timing.seconds = duration;
  timing.clients = part(std::lround(t.connections));
  return ReportWs(flags, t, duration, thresholds, st, latency, shard, timing, ShardPlan("load ws", args));
}

}  // namespace pmbench::cli
