// pmbench load chain: transaction throughput against a Solana RPC (the local ledger by
// default), on the load engine the other load tests use.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "lib/chain/rpc.h"
#include "lib/db/staging.h"
#include "lib/events/chain_load.h"
#include "lib/events/notification.h"
#include "lib/load/engine.h"
#include "lib/results/gbench_json.h"
#include "lib/stats/report.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_common.h"

namespace pmbench::cli {
namespace {

const std::string kUsage = R"(Usage: pmbench load chain [options]

Sends the platform's transactions — bets, market creations, votes — to a Solana RPC at an
arrival rate, follows each to a commitment level, and reports per kind: sent, confirmed,
failed (by reason), success_ratio, time to processed/confirmed/finalized from the first
send, re-sends and re-signs, and per RPC method: calls, errors, latency; 429s absorbed.

Locally a bet is a transfer of the stake to the treasury plus a Memo carrying the Anchor
event (pmevt:<base64>), which `pmbench ingest --input ws://... --carrier memo` ingests.

Options:
  --rpc URL[,URL...]      endpoints, tried in order, failed over, throttled each
                          (default: staging's local ledger, all its ports)
  --rate R                arrivals: 100/min, 5/s or a bare number per second  [100/min]
  --duration D            30, 30s, 2m                                           [60s]
  --ramp-up D             reach the rate linearly over D first                  [0]
)" + std::string(kShapeUsage) + R"(  --mix LIST              kind:weight,... of bets, markets, votes  [bets:8,markets:1,votes:1]
  --commitment LEVEL      processed | confirmed | finalized: when a transaction is done
                                                                                [confirmed]
  --keypair FILE          pay from this wallet (Solana CLI JSON); default: fresh wallets
                          funded by requestAirdrop (works on the local ledger and devnet)
  --wallets N             fresh wallets to spread transactions over             [4]
  --rpc-limit R/S|none    per endpoint, requests / sendTransaction per 10 s     [100/40]
                          (public devnet's limits per IP)
  --confirm HOW           subscribe: signatureSubscribe on --ws, polling as the
                          fallback; poll: polling only                      [subscribe]
  --ws URL                the WebSocket for subscribe (ws:// or wss://)
                          [the first --rpc's host and port: ws:// for http://, wss:// for
                          https://, as public RPC providers serve it; solana-test-validator
                          serves it on the RPC port + 1]
  --poll D                status polling period (re-sends and expiry run on it) [200ms]
  --resend D              re-send an unconfirmed transaction this often         [2s]
  --max-in-flight N       transactions unconfirmed at once before arrivals wait  [2000]
  --treasury ADDRESS      the memo carrier's escrow stand-in (default: the default program id)
  --threshold EXPR        [METRIC:]EXPR, repeatable: confirm (default; time to --commitment),
                          latency (from the intended start), success ('rate>0.99'),
                          failed ('count<1'), dropped, unfinished, or a kind of --mix
                          (its confirm time). An unknown one exits 2 before anything is
                          sent; exit status 1 when one fails.
  --seed S                                                                      [1]
  --out FILE              the result JSON there instead of stdout
)" + std::string(kShardUsage) + R"(                          a shard takes its part of the arrivals and of --wallets,
                          its own wallets (seeded apart); --rpc-limit is per shard (a
                          provider limits each machine's address)
)" + std::string(kMetricsUsage) + R"(  --allow-remote          permit endpoints that are not on loopback (devnet, a validator)

Every transaction counts: confirm times run from the first accepted send; a transaction
that never reached --commitment (failed, dropped by the engine, still pending at the end)
is counted at the run's deadline, so a run cannot pass a percentile by losing its slowest.
success_ratio = confirmed / (sent + dropped).

The result is Google Benchmark JSON: one entry per kind and one for the run (thresholds in
pmbench_bars); tx_per_min is confirmed transactions per minute of the run, offered_tx_per_min
the arrival rate asked for.
)";

double ParseRate(const std::string& text) {
  double unit = 1;
  std::string number = text;
  if (text.ends_with("/min")) {
    unit = 1.0 / 60;
    number = text.substr(0, text.size() - 4);
  } else if (text.ends_with("/s")) {
    number = text.substr(0, text.size() - 2);
  }
  const auto v = ParseFinite(number);
  if (!v || !(*v > 0)) throw UsageError("--rate takes 100/min, 5/s or a number per second, not '" + text + "'");
  return *v * unit;
}

std::vector<std::string> SplitList(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    size_t start = 0;
    while (start <= v.size()) {
      const size_t end = std::min(v.find(',', start), v.size());
      if (end > start) out.push_back(v.substr(start, end - start));
      start = end + 1;
    }
  }
  return out;
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

nlohmann::json HistogramJson(const stats::LatencyHistogram& h) {  // per RPC method, in the context
  return {{"count", h.count()},
          {"mean_ms", h.mean() / 1e6},
          {"p50_ms", h.Percentile(50) / 1e6},
          {"p95_ms", h.Percentile(95) / 1e6},
          {"p99_ms", h.Percentile(99) / 1e6},
          {"max_ms", static_cast<double>(h.max()) / 1e6}};
}

// --rpc or --ws parsed by `parse`; a target off loopback needs --allow-remote.
chain::Endpoint ParseTarget(const Flags& flags, const std::string& flag, chain::Endpoint (*parse)(const std::string&),
                            const std::string& url) {
  chain::Endpoint ep;
  try {
    ep = parse(url);
  } catch (const std::invalid_argument& e) {
    throw UsageError("--" + flag + ": " + e.what());
  }
  if (!IsLoopbackHost(ep.host) && !flags.Has("allow-remote")) {
    throw UsageError("--" + flag + ": " + ep.host + ":" + ep.port + " is not on loopback; pass --allow-remote to send load there");
  }
  return ep;
}

// A load chain run as the flags ask for it, checked before anything is sent.
struct ChainRun {
  std::vector<std::string> endpoints;
  double rate = 0;  // transactions/s
  load::Shape shape;
  std::vector<std::pair<std::string, double>> mix;
  std::string commitment, confirm, subscribe_url, keypair;
  double limit_all = 100, limit_send = 40;  // RPC calls and sends per 10 s; 0: none
  events::Pubkey treasury{};
  std::vector<stats::Bar> thresholds;
  double poll = 0, resend = 0;
  int wallets = 4, max_in_flight = 2000;
  uint64_t seed = 1;
  load::LoadSpec shard;  // its shard_index, shard_count and start_at (ParseShard)
  std::string plan;      // ShardPlan
};

// What a run gave: the engine's result and the workload's per-kind reports.
struct ChainOutcome {
  std::unique_ptr<events::ChainWorkload> workload;
  load::LoadSpec spec;  // as run
  load::LoadResult r;
  std::vector<events::ChainKindReport> reports;
  chain::RpcStats rpc;
  chain::SenderStats sender;
};

// What the report reads: per kind, the times to the commitment with every transaction
// that never reached it; and the totals.
struct ChainTotals {
  std::vector<stats::LatencyHistogram> to_commitment;
  stats::LatencyHistogram confirm_all;
  int64_t submitted = 0, confirmed = 0, failed = 0;
  std::optional<double> success;  // nothing offered: not measured
};

ChainRun ParseChainRun(const Flags& flags) {
  ChainRun c;
  std::vector<std::string>& endpoints = c.endpoints;
  endpoints = SplitList(flags.GetAll("rpc"));
  if (endpoints.empty()) {
    const db::Staging staging = db::ResolveStaging();
    if (staging.ledger_url.empty()) {
      throw std::runtime_error("no local ledger in staging (" +
                               (staging.ledger_error.empty() ? std::string("tools/staging up did not start one")
                                                             : staging.ledger_error) +
                               "); pass --rpc URL");
    }
    endpoints = SplitList({staging.ledger_url});
  }
  for (const auto& e : endpoints) {
    ParseTarget(flags, "rpc", chain::ParseEndpoint, e);
  }
  c.rate = ParseRate(flags.Get("rate", "100/min"));
  if (!flags.Has("duration") && !flags.Has("stage")) {
    c.shape = load::ConstantShape(c.rate, 60, ParseDuration("ramp-up", flags.Get("ramp-up", "0")));
  } else {
    c.shape = ParseShape(flags, c.rate);
  }
  try {
    c.mix = events::ParseChainMix(flags.Get("mix", "bets:8,markets:1,votes:1"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--mix: ") + e.what());
  }
  c.commitment = flags.Get("commitment", "confirmed");
  if (chain::CommitmentRank(c.commitment) < 0) throw UsageError("--commitment is processed, confirmed or finalized");
  if (const std::string lim = flags.Get("rpc-limit", "100/40"); lim == "none") {
    c.limit_all = c.limit_send = 0;
  } else {
    const auto slash = lim.find('/');
    try {
      size_t a = 0, b = 0;
      c.limit_all = std::stod(lim.substr(0, slash), &a);
      c.limit_send = slash == std::string::npos ? c.limit_all : std::stod(lim.substr(slash + 1), &b);
      if (a != (slash == std::string::npos ? lim.size() : slash) || !(c.limit_all > 0) || !(c.limit_send > 0)) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw UsageError("--rpc-limit takes REQUESTS/SENDS per 10 s (e.g. 100/40) or none, not '" + lim + "'");
    }
  }
  if (flags.Has("treasury")) {
    const auto t = events::ParseProgramId(flags.Get("treasury", ""));
    if (!t) throw UsageError("--treasury is a base58 32-byte address");
    c.treasury = *t;
  }
  std::vector<std::string> metrics = {"confirm", "latency", "success", "failed", "dropped", "unfinished"};
  for (const auto& [kind, weight] : c.mix) metrics.push_back(kind);
  c.thresholds = ParseThresholds(flags, "confirm", metrics);
  c.poll = ParseDuration("poll", flags.Get("poll", "200ms"));
  c.resend = ParseDuration("resend", flags.Get("resend", "2s"));
  if (!(c.poll > 0) || !(c.resend > 0)) throw UsageError("--poll and --resend must be > 0");
  const chain::Endpoint first = chain::ParseEndpoint(endpoints[0]);
  c.confirm = flags.Get("confirm", "subscribe");
  if (c.confirm != "subscribe" && c.confirm != "poll") throw UsageError("--confirm is subscribe or poll");
  if (flags.Has("ws") && c.confirm != "subscribe") throw UsageError("--ws goes with --confirm subscribe");
  if (c.confirm == "subscribe") {
    c.subscribe_url = flags.Get("ws", first.tls ? "wss://" + endpoints[0].substr(8) : "ws://" + endpoints[0].substr(7));
    ParseTarget(flags, "ws", chain::ParseWsEndpoint, c.subscribe_url);
  }

  c.keypair = flags.Get("keypair", "");
  c.wallets = static_cast<int>(flags.GetUint("wallets", 4));
  c.seed = flags.GetUint("seed", 1);
  c.max_in_flight = static_cast<int>(flags.GetUint("max-in-flight", 2000));
  if (c.max_in_flight < 1) throw UsageError("--max-in-flight must be >= 1");
  c.shard.clients = c.max_in_flight;
  ParseShard(flags, c.shard);
  const int n = c.shard.shard_count, i = c.shard.shard_index;
  if (n > 1) {
    if (c.wallets < n) throw UsageError("--wallets " + std::to_string(c.wallets) + " cannot be shared by " + std::to_string(n) + " shards");
    // Wallet w is shard w % n's; each shard's are its own keys, so no two shards sign
    // with one wallet.
    c.wallets = (c.wallets - i + n - 1) / n;
  }
  return c;
}

ChainOutcome RunChainLoad(const ChainRun& c, metrics::Registry* metrics) {
  std::cerr << "preparing: " << c.endpoints.size() << " endpoint(s), " << c.commitment << " commitment, confirmed by "
            << (c.confirm == "subscribe" ? "signatureSubscribe (polling as fallback)" : "polling") << "\n";
  ChainOutcome o;
  // A shard's wallets and request seeds: apart from every other shard's.
  const uint64_t seed = c.shard.shard_count > 1 ? c.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(c.shard.shard_index) + 1
                                                : c.seed;
  o.workload = events::ChainWorkload::Prepare(
      {.rpc = {.endpoints = c.endpoints, .requests_per_10s = c.limit_all, .sends_per_10s = c.limit_send,
               .seed = seed},
       .sender = {.commitment = c.commitment, .poll_s = c.poll, .resend_s = c.resend, .subscribe_url = c.subscribe_url},
       .keypair_path = c.keypair,
       .wallets = c.wallets,
       .treasury = c.treasury,
       .seed = seed,
       .say = [](const std::string& s) { std::cerr << "  " << s << "\n"; }});

  load::LoadSpec spec;
  spec.model = load::Model::kOpen;
  spec.start = c.shape.start;
  spec.stages = c.shape.stages;
  spec.clients = c.max_in_flight;
  spec.max_in_flight = spec.clients;
  spec.threads = 1;  // clients only hand transactions to the sender's threads
  spec.seed = c.seed;
  spec.shard_index = c.shard.shard_index;
  spec.shard_count = c.shard.shard_count;
  spec.start_at = c.shard.start_at;
  spec.mix = o.workload->Mix(c.mix);
  spec.metrics = metrics;
  spec.role = "chain";
  spec.system = "chain";
  // Long enough for a dropped transaction to expire (150 slots: 60 s) and be re-signed.
  spec.drain_s = 120;
  spec.lag_limit_ms = 1000;  // sub-second lag is noise against second-long confirmations
  const bool tty = isatty(STDERR_FILENO);
  if (tty) {
    spec.progress = [](const load::Progress& p) {
      std::fprintf(stderr, "\r  %6.1fs  %6.2f tx/s  confirmed %-7lld failed %-5lld dropped %-5lld unconfirmed %-5lld ",
                   p.elapsed_s, p.level, static_cast<long long>(p.completed), static_cast<long long>(p.failed),
                   static_cast<long long>(p.dropped), static_cast<long long>(p.in_flight));
      std::fflush(stderr);
    };
  }
  std::cerr << "sending up to " << c.shape.peak() * 60 << " tx/min over " << c.shape.seconds() << " s\n";
  o.spec = spec;
  o.r = load::RunLoad(spec, o.workload->Clients());
  if (tty) std::cerr << "\n";
  o.workload->Drain(10);
  o.reports = o.workload->Reports();
  o.rpc = o.workload->RpcStats();
  o.sender = o.workload->SenderStats();
  return o;

}

// The per-kind and RPC summary on stderr; the totals the report reads.
ChainTotals SummarizeChain(const ChainRun& c, const ChainOutcome& o) {
  ChainTotals t;
  const auto& r = o.r;
  const auto& rs = o.rpc;
  for (size_t i = 0; i < o.reports.size(); ++i) {
    const auto& k = o.reports[i];
    t.to_commitment.push_back(events::ToCommitmentWithLosses(k, c.commitment, r.kinds[i], r.deadline));
    const stats::LatencyHistogram& at = t.to_commitment.back();
    t.confirm_all.Merge(at);
    t.submitted += k.submitted;
    t.confirmed += k.confirmed;
    t.failed += k.failed;
    if (k.submitted + r.kinds[i].dropped == 0) continue;
    std::fprintf(stderr, "  %-8s %6lld sent %6lld confirmed %5lld failed %5lld dropped  success %.4f  %s p50 %.0f  p95 %.0f  p99 %.0f ms  mean %.0f ms  re-sends %lld re-signs %lld\n",
                 k.name.c_str(), static_cast<long long>(k.submitted), static_cast<long long>(k.confirmed),
                 static_cast<long long>(k.failed), static_cast<long long>(r.kinds[i].dropped),
                 stats::Ratio(static_cast<double>(k.confirmed), static_cast<double>(k.submitted + r.kinds[i].dropped)).value_or(0),
                 c.commitment.c_str(), at.Percentile(50) / 1e6, at.Percentile(95) / 1e6, at.Percentile(99) / 1e6,
                 at.mean() / 1e6, static_cast<long long>(k.resends), static_cast<long long>(k.resigns));
    for (const auto& [reason, n] : k.reasons) std::fprintf(stderr, "      %lld x %s\n", static_cast<long long>(n), reason.c_str());
  }
  // Arrivals the engine dropped (too many unconfirmed) count against success too.
  t.success = stats::Ratio(static_cast<double>(t.confirmed), static_cast<double>(t.submitted + r.total.dropped));
  std::fprintf(stderr, "  RPC: 429s absorbed %llu, retries %llu, failovers %llu, transport errors %llu, throttled %llu calls (%.1f s)\n",
               static_cast<unsigned long long>(rs.http_429), static_cast<unsigned long long>(rs.retries),
               static_cast<unsigned long long>(rs.failovers), static_cast<unsigned long long>(rs.transport_errors),
               static_cast<unsigned long long>(rs.throttle_waits), rs.throttle_wait_s);
  for (const auto& [method, m] : rs.methods) {
    std::fprintf(stderr, "    %-24s %7llu calls %5llu errors  p50 %.1f  p99 %.1f ms\n", method.c_str(),
                 static_cast<unsigned long long>(m.calls), static_cast<unsigned long long>(m.errors),
                 m.latency.Percentile(50) / 1e6, m.latency.Percentile(99) / 1e6);
  }

  return t;
}

// The thresholds and the result JSON; the exit status.
int ReportChain(const Flags& flags, const ChainRun& c, const ChainOutcome& o, const ChainTotals& t, const load::LoadSpec& spec) {
  const auto& r = o.r;
  const auto& rs = o.rpc;
  const auto& reports = o.reports;
  std::map<std::string, stats::Observed> observed = {
      {"confirm", {.latency = &t.confirm_all}},
      {"latency", {.latency = &r.total.latency}},
      {"success", {.rate = t.success}},
      {"failed", {.count = static_cast<double>(t.failed + r.total.dropped)}},
      {"dropped", {.count = static_cast<double>(r.total.dropped)}},
      {"unfinished", {.count = static_cast<double>(r.total.unfinished)}}};
  for (size_t i = 0; i < reports.size(); ++i) observed[reports[i].name] = {.latency = &t.to_commitment[i]};
  const auto verdicts = EvaluateThresholds(c.thresholds, observed);

  nlohmann::json endpoints_shown = nlohmann::json::array();
  for (const auto& e : o.workload->rpc().endpoints()) endpoints_shown.push_back(e.Display());
  nlohmann::json methods = nlohmann::json::object();
  for (const auto& [method, m] : rs.methods) {
    methods[method] = HistogramJson(m.latency);
    methods[method]["calls"] = m.calls;
    methods[method]["errors"] = m.errors;
  }
  nlohmann::json reasons = nlohmann::json::object();
  for (const auto& k : reports) {
    if (!k.reasons.empty()) reasons[k.name] = k.reasons;
  }
  const nlohmann::json context = {{"date", Now()},
                                  {"executable", "pmbench load chain"},
                                  {"pmbench_rpc", endpoints_shown},
                                  {"pmbench_commitment", c.commitment},
                                  {"pmbench_confirm", c.confirm},
                                  {"pmbench_rpc_methods", methods},
                                  {"pmbench_errors", reasons}};
  std::vector<results::RunEntry> entries;
  results::RunEntry total{"load_chain", r.seconds, {}};
  for (const auto& [name, v] : stats::LatencyCounters(t.confirm_all, "confirm_")) total.counters.emplace_back(name, v);
  total.counters.insert(total.counters.end(),
                        {{"sent", static_cast<double>(t.submitted)},
                         {"confirmed", static_cast<double>(t.confirmed)},
                         {"failed", static_cast<double>(t.failed)},
                         {"dropped", static_cast<double>(r.total.dropped)},
                         {"unfinished", static_cast<double>(r.total.unfinished)},
                         {"tx_per_min", r.seconds > 0 ? static_cast<double>(t.confirmed) * 60 / r.seconds : 0},
                         // The shape's mean: for a constant one, --rate; a shard's part of it.
                         {"offered_tx_per_min", static_cast<double>(ShardArrivals({.shape = c.shape, .spec = spec})) * 60 /
                                                    c.shape.seconds()},
                         {"rpc_429s", static_cast<double>(rs.http_429)},
                         {"rpc_retries", static_cast<double>(rs.retries)},
                         {"rpc_failovers", static_cast<double>(rs.failovers)},
                         {"resends", static_cast<double>(o.sender.resends)},
                         {"resigns", static_cast<double>(o.sender.resigns)},
                         {"notified", static_cast<double>(o.sender.notified)}});
  if (t.success) total.counters.emplace_back("success_ratio", *t.success);
  // After a spike: until confirmation p95 is back under the story's 5 s for good.
  if (c.shape.spike_end_s) total.counters.emplace_back("recovery_s", RecoverySeconds(c.shape, r.total, 5e9).value_or(-1));
  for (size_t i = 0; i < reports.size(); ++i) {
    const auto& k = reports[i];
    results::RunEntry e{"load_chain/" + k.name, r.seconds, {}};
    e.counters = {{"sent", static_cast<double>(k.submitted)},   {"confirmed", static_cast<double>(k.confirmed)},
                  {"failed", static_cast<double>(k.failed)},    {"dropped", static_cast<double>(r.kinds[i].dropped)},
                  {"resends", static_cast<double>(k.resends)}, {"resigns", static_cast<double>(k.resigns)}};
    if (const auto s = stats::Ratio(static_cast<double>(k.confirmed), static_cast<double>(k.submitted + r.kinds[i].dropped))) {
      e.counters.emplace_back("success_ratio", *s);
    }
    for (const auto& [name, v] : stats::LatencyCounters(t.to_commitment[i], "confirm_")) e.counters.emplace_back(name, v);
    if (k.processed.count() > 0) {
      for (const auto& [name, v] : stats::LatencyCounters(k.processed, "processed_")) e.counters.emplace_back(name, v);
    }
    entries.push_back(std::move(e));
  }
  entries.insert(entries.begin(), std::move(total));
  std::string text = results::WriteRunJson(context, entries, verdicts, SeriesJson("load_chain", r));
  if (flags.Has("shard")) {
    std::map<std::string, results::ShardMetric> shard_observed = {
        {"confirm", {.latency = &t.confirm_all}},
        {"latency", {.latency = &r.total.latency}},
        {"success", {.ratio = std::pair{static_cast<double>(t.confirmed), static_cast<double>(t.submitted + r.total.dropped)}}},
        {"failed", {.count = static_cast<double>(t.failed + r.total.dropped)}},
        {"dropped", {.count = static_cast<double>(r.total.dropped)}},
        {"unfinished", {.count = static_cast<double>(r.total.unfinished)}}};
    std::vector<results::ShardHistogram> hists = {{"load_chain", "confirm", &t.confirm_all}};
    for (size_t i = 0; i < reports.size(); ++i) {
      shard_observed[reports[i].name] = {.latency = &t.to_commitment[i]};
      hists.push_back({"load_chain/" + reports[i].name, "confirm", &t.to_commitment[i]});
      if (reports[i].processed.count() > 0) hists.push_back({"load_chain/" + reports[i].name, "processed", &reports[i].processed});
    }
    text = WithShard(text, spec, r, {.base = "load_chain", .plan = c.plan}, shard_observed, hists);
  }
  WriteResult(flags, text);
  return VerdictStatus(flags, AllPass(verdicts));
}

}  // namespace

int LoadChainCommand(const std::vector<std::string>& args) {
  const Flags flags(args,
                    {"rpc", "rate", "duration", "ramp-up", "stage", "mix", "commitment", "keypair", "wallets", "rpc-limit", "poll",
                     "resend", "max-in-flight", "treasury", "threshold", "seed", "out", "confirm", "ws", "metrics-listen", "shard",
                     "start-at"},
                    {"spike", "allow-remote", "help"});
  if (PrintedHelpOrRejectedArguments(flags, kUsage, "pmbench load chain")) return 0;
  ChainRun run = ParseChainRun(flags);
  run.plan = ShardPlan("load chain", args);
  const auto served = ServeMetrics(flags, "pmbench load chain");
  const ChainOutcome outcome = RunChainLoad(run, served ? &served->registry : nullptr);
  return ReportChain(flags, run, outcome, SummarizeChain(run, outcome), outcome.spec);
}

}  // namespace pmbench::cli
