// Transaction throughput on the local Solana ledger (fixtures/localnet: litesvm, the real
// runtime, started by tools/staging): the story's 100 bets/min with the listener writing
// them to PostgreSQL, 1,000 tx/min with injected 429s and dropped transactions, the highest
// rate sustained, concurrent market creations and vote submissions. Every transaction is
// built, signed, sent and confirmed by lib/chain as it would be against devnet.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "benchmarks/common/profile.h"
#include "benchmarks/common/report.h"
#include "benchmarks/common/staging.h"
#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/events/chain_load.h"
#include "lib/listener/ingest.h"
#include "lib/chain/logs_source.h"
#include "lib/load/engine.h"

namespace pmbench::bench {
namespace {

using stats::Bar;
using stats::LatencyHistogram;
using Clock = std::chrono::steady_clock;

const Profile& P() { return CurrentProfile(); }

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  for (size_t p = 0; p < list.size();) {
    const size_t c = std::min(list.find(',', p), list.size());
    out.push_back(list.substr(p, c - p));
    p = c + 1;
  }
  return out;
}

struct Ledger {
  std::string error, direct;
  std::vector<std::string> urls;
  // The local ledger's own methods (pmbench_stats, pmbench_configure) are used only on the
  // local ledger, and not even there with PMBENCH_LEDGER_PRIVATE=off: every check they serve
  // has a plain-RPC equivalent, so the benchmarks run against devnet or any validator.
  bool private_methods = false;
  static Ledger& Get() {
    static Ledger l;
    return l;
  }

 private:
  Ledger() {
    try {
      const auto s = WritableStaging();
      direct = s.direct_url;
      urls = Split(s.ledger_url);
      const char* off = std::getenv("PMBENCH_LEDGER_PRIVATE");
      private_methods = s.kind == "embedded" && !(off && std::string(off) == "off");
      if (urls.empty()) {
        error = "no local ledger in staging: " +
                (s.ledger_error.empty() ? std::string("tools/staging up did not start one") : s.ledger_error);
      }
    } catch (const std::exception& e) {
      error = db::RedactSecrets(e.what());
    }
  }
};

// Faults for one benchmark, cleared on the way out whatever happens. Only the local ledger
// injects them; any other endpoint's faults are its own.
class Faults {
 public:
  Faults(pmbench::chain::RpcClient& rpc, const std::string& json) : rpc_(rpc) {
    if (Ledger::Get().private_methods) rpc_.Call("pmbench_configure", "[" + json + "]");
  }
  ~Faults() {
    try {
      if (Ledger::Get().private_methods) rpc_.Call("pmbench_configure", R"([{"fault429":0,"drop":0,"latencyMs":0,"jitterMs":0}])");
    } catch (const std::exception&) {
    }
  }

 private:
  pmbench::chain::RpcClient& rpc_;
};

struct ChainRun {
  std::unique_ptr<events::ChainWorkload> workload;
  load::LoadResult result;
  std::vector<events::ChainKindReport> kinds;
  events::ChainKindReport total;
  // Every transaction's time to `confirmed`: those that never got there (failed, dropped,
  // unfinished) at the run's deadline. What the latency bars read.
  LatencyHistogram confirm;
  double offered_per_s = 0;
  double seconds = 0;
};

struct RunSpec {
  std::vector<std::string> endpoints;
  double per_s = 1;
  double seconds = 10;
  std::string mix = "bets:1";
  double limit_all = 0, limit_send = 0;  // per endpoint per 10 s; 0: none
  std::function<void(events::ChainWorkload&)> before;  // after funding, before sending
};

ChainRun RunChain(const RunSpec& spec) {
  ChainRun run;
  run.workload = events::ChainWorkload::Prepare(
      {.rpc = {.endpoints = spec.endpoints, .requests_per_10s = spec.limit_all, .sends_per_10s = spec.limit_send},
       // Confirmed as signatureSubscribe reports it; polling re-sends and expires.
       .sender = {.commitment = "confirmed", .poll_s = 0.4, .resend_s = 2, .subscribe_url = "ws://" + spec.endpoints[0].substr(7)}});
  if (spec.before) spec.before(*run.workload);
  load::LoadSpec ls;
  ls.start = spec.per_s;
  ls.stages = {{spec.seconds, spec.per_s}};
  ls.clients = 5000;  // transactions unconfirmed at once; a client holds no connection
  ls.max_in_flight = 5000;
  ls.threads = 1;
  ls.mix = run.workload->Mix(events::ParseChainMix(spec.mix));
  ls.drain_s = 120;  // a transaction dropped for good expires after 150 slots (60 s), then is re-signed
  ls.lag_limit_ms = 1000;
  const auto t0 = Clock::now();
  run.result = load::RunLoad(ls, run.workload->Clients());
  run.workload->Drain(10);
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  run.kinds = run.workload->Reports();
  run.total.name = "total";
  run.offered_per_s = spec.per_s;
  for (size_t i = 0; i < run.kinds.size(); ++i) {
    run.confirm.Merge(events::ToCommitmentWithLosses(run.kinds[i], "confirmed", run.result.kinds[i], run.result.deadline));
  }
  for (const auto& k : run.kinds) {
    run.total.submitted += k.submitted;
    run.total.confirmed += k.confirmed;
    run.total.failed += k.failed;
    run.total.resends += k.resends;
    run.total.resigns += k.resigns;
    run.total.processed.Merge(k.processed);
    run.total.confirmed_at.Merge(k.confirmed_at);
    for (const auto& [r, n] : k.reasons) run.total.reasons[r] += n;
  }
  run.total.submitted += run.result.total.dropped;  // arrivals never sent count as failures
  for (const auto& [reason, n] : run.total.reasons) std::fprintf(stderr, "chain: %lld x %s\n", static_cast<long long>(n), reason.c_str());
  return run;
}

void Report(benchmark::State& state, const ChainRun& run) {
  const auto& t = run.total;
  ReportLatency(state, run.confirm, "confirm_");
  ReportLatency(state, t.processed, "processed_");
  state.counters["sent"] = static_cast<double>(t.submitted);
  state.counters["confirmed"] = static_cast<double>(t.confirmed);
  state.counters["failed"] = static_cast<double>(t.submitted - t.confirmed);
  if (const auto s = t.success_ratio()) state.counters["success_ratio"] = *s;
  state.counters["resends"] = static_cast<double>(t.resends);
  state.counters["resigns"] = static_cast<double>(t.resigns);
  state.counters["notified"] = static_cast<double>(run.workload->SenderStats().notified);
  const auto rpc = run.workload->RpcStats();
  state.counters["rpc_429s"] = static_cast<double>(rpc.http_429);
  state.counters["rpc_retries"] = static_cast<double>(rpc.retries);
  if (const auto it = rpc.methods.find("sendTransaction"); it != rpc.methods.end()) {
    state.counters["send_p99_ms"] = it->second.latency.Percentile(99) / 1e6;
  }
  state.counters["tx_per_min"] = run.result.seconds > 0 ? static_cast<double>(t.confirmed) * 60 / run.result.seconds : 0;
  state.counters["offered_tx_per_min"] = run.offered_per_s * 60;
  state.SetItemsProcessed(t.confirmed);
}

// Transactions that landed since Start(), which the client's confirmations must match: the
// local ledger's own count (pmbench_stats), or by plain RPC the treasury's history
// (getSignaturesForAddress at `confirmed`, paged back to the newest signature before the run):
// every transaction of the workload pays the treasury.
class Landed {
 public:
  Landed(pmbench::chain::RpcClient& rpc, const events::Pubkey& treasury) : rpc_(rpc), treasury_(pmbench::chain::ToBase58(treasury)) {}
  void Start() {
    if (Ledger::Get().private_methods) {
      before_ = Stats();
      return;
    }
    const auto newest = History("");
    until_ = newest.empty() ? "" : newest[0].at("signature").get<std::string>();
  }
  int64_t Count() {
    if (Ledger::Get().private_methods) return Stats() - before_;
    int64_t n = 0;
    std::string before;
    while (true) {
      const auto page = History(before, 1000);
      n += static_cast<int64_t>(page.size());
      if (page.size() < 1000) return n;
      before = page.back().at("signature").get<std::string>();
    }
  }

 private:
  int64_t Stats() { return nlohmann::json::parse(rpc_.Call("pmbench_stats", "[]")).at("landed").get<int64_t>(); }
  nlohmann::json History(const std::string& before, int limit = 1) {
    nlohmann::json cfg = {{"limit", limit}, {"commitment", "confirmed"}};
    if (!until_.empty() && limit > 1) cfg["until"] = until_;
    if (!before.empty()) cfg["before"] = before;
    auto page = nlohmann::json::parse(rpc_.Call("getSignaturesForAddress", nlohmann::json::array({treasury_, cfg}).dump()));
    if (!page.is_array()) throw std::runtime_error("getSignaturesForAddress did not answer a list");
    return page;
  }
  pmbench::chain::RpcClient& rpc_;
  std::string treasury_, until_;
  int64_t before_ = 0;
};

// The story: 100 bets a minute on devnet's public limits (one endpoint, 100 requests and
// 40 sendTransaction per 10 s), with the event listener subscribed and writing to staging:
// every confirmed bet must reach the database.
void BM_ChainStory(benchmark::State& state) {
  Ledger& l = Ledger::Get();
  if (!l.error.empty()) return state.SkipWithError(l.error.c_str());
  ChainRun run;
  size_t stored = 0, wanted = 0;
  int64_t landed = 0;
  std::unique_ptr<Landed> counter;
  try {
    const RunSchema run_schema(l.direct, "bench_chain_" + std::to_string(getpid()));
    const std::string& schema = run_schema.name();
    for (auto _ : state) {
      std::unique_ptr<pmbench::chain::LogsSource> source;
      std::thread listener;
      pmbench::listener::IngestSummary summary;
      RunSpec spec{.endpoints = {l.urls[0]}, .per_s = 100.0 / 60, .seconds = P().chain_seconds, .mix = "bets:1",
                   .limit_all = 100, .limit_send = 40};
      spec.before = [&](events::ChainWorkload& w) {
        counter = std::make_unique<Landed>(w.rpc(), w.treasury());
        counter->Start();
        source = std::make_unique<pmbench::chain::LogsSource>(pmbench::chain::LogsSourceOptions{.url = "ws://" + l.urls[0].substr(7), .mentions = w.treasury()});
        listener = std::thread([&, treasury = w.treasury()] {
          summary = pmbench::listener::Ingest([&](std::string& line, Clock::time_point& at) { return source->Next(line, at); },
                               {.url = l.direct, .schema = schema, .source = "chain_bench", .linger_ms = 20,
                                .continue_numbering = true, .program = treasury, .carrier = events::Carrier::kMemo});
        });
      };
      run = RunChain(spec);
      landed = counter->Count();
      // The listener sees a bet one slot after it confirmed: wait (untimed) until the database
      // holds every bet this run confirmed, matched by signature (a stray row cannot stand in).
      const auto sigs = run.workload->ConfirmedBetSignatures();
      wanted = sigs.size();
      std::string list = "{";  // base58: no quoting needed inside an array literal
      for (const auto& sig : sigs) list += (list.size() > 1 ? "," : "") + sig;
      list += "}";
      db::PgSession session(l.direct);
      for (int i = 0; i < 100; ++i) {
        stored = std::stoul(session.QueryValue("SELECT count(DISTINCT tx_signature) FROM \"" + schema +
                                               "\".bets WHERE tx_signature = ANY($1::text[])", {list}));
        if (stored >= wanted) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      source->Stop();
      listener.join();
      state.SetIterationTime(run.seconds);
    }
  } catch (const std::exception& e) {
    return state.SkipWithError(db::RedactSecrets(e.what()).c_str());
  }
  Report(state, run);
  state.counters["bets_in_database"] = static_cast<double>(stored);
  Check(state, landed == run.total.confirmed,
                        "the ledger landed " + std::to_string(landed) + " transactions, the client confirmed " +
                            std::to_string(run.total.confirmed));
  CheckBars(
      state,
      {Bar::Sla("success", "rate>0.99"), Bar::Sla("confirm", "avg<5s"), Bar::Sla("lost", "count<1"),
       Bar::Goal("confirm", "p(95)<1s")},
      {{"success", {.rate = run.total.success_ratio()}},
       {"confirm", {.latency = &run.confirm}},
       {"lost", {.count = static_cast<double>(wanted - std::min(wanted, stored))}}});
}
BENCHMARK(BM_ChainStory)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// 1,000 transactions a minute (bets, market creations, votes) while the ledger answers 5% of
// requests 429 (Retry-After: 1) and drops 2% of submitted transactions; three endpoints.
void BM_ChainFaults(benchmark::State& state) {
  Ledger& l = Ledger::Get();
  if (!l.error.empty()) return state.SkipWithError(l.error.c_str());
  ChainRun run;
  int64_t landed = 0;
  std::unique_ptr<Landed> counter;
  std::unique_ptr<Faults> faults;
  try {
    for (auto _ : state) {
      RunSpec spec{.endpoints = l.urls, .per_s = 1000.0 / 60, .seconds = P().chain_seconds, .mix = "bets:8,markets:1,votes:1"};
      spec.before = [&](events::ChainWorkload& w) {
        counter = std::make_unique<Landed>(w.rpc(), w.treasury());
        counter->Start();
        faults = std::make_unique<Faults>(w.rpc(), R"({"fault429":0.05,"drop":0.02,"retryAfter":1})");
      };
      run = RunChain(spec);
      faults.reset();
      landed = counter->Count();
      state.SetIterationTime(run.seconds);
    }
  } catch (const std::exception& e) {
    faults.reset();
    return state.SkipWithError(db::RedactSecrets(e.what()).c_str());
  }
  Report(state, run);
  if (l.private_methods) {  // elsewhere the endpoint's own faults, if any, are what it endured
    Check(state, run.total.resends > 0 && run.workload->RpcStats().http_429 > 0, "no fault was injected: nothing was re-sent or retried");
  }
  state.counters["faults_injected"] = l.private_methods ? 1 : 0;
  Check(state, landed == run.total.confirmed,
                        "the ledger landed " + std::to_string(landed) + " transactions, the client confirmed " +
                            std::to_string(run.total.confirmed));
  CheckBars(state,
                            {Bar::Sla("success", "rate>0.99"), Bar::Goal("success", "rate>=0.999"),
                             Bar::Goal("confirm", "avg<5s")},
                            {{"success", {.rate = run.total.success_ratio()}}, {"confirm", {.latency = &run.confirm}}});
}
BENCHMARK(BM_ChainFaults)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// The highest rate sustained: doubling steps until one misses (success < 99%, confirmation
// p95 > 2 s, or arrivals dropped); no faults, no client-side limits, three endpoints.
void BM_ChainMaxRate(benchmark::State& state) {
  Ledger& l = Ledger::Get();
  if (!l.error.empty()) return state.SkipWithError(l.error.c_str());
  const bool smoke = P().name == "smoke";
  const double step_s = smoke ? 4 : std::max(10.0, P().chain_seconds / 4);
  double best = 0, first_miss = 0, total_s = 0;
  ChainRun last_ok;
  try {
    for (auto _ : state) {
      for (double per_s = smoke ? 10 : 20; per_s <= (smoke ? 40 : 20480); per_s *= 2) {
        ChainRun run = RunChain({.endpoints = l.urls, .per_s = per_s, .seconds = step_s, .mix = "bets:1"});
        total_s += run.seconds;
        const bool ok = run.total.success_ratio().value_or(0) >= 0.99 && run.confirm.Percentile(95) <= 2e9 &&
                        run.result.total.dropped == 0 && !run.result.generator_bound;
        std::fprintf(stderr, "chain: %.0f tx/s offered: %.1f confirmed/s, success %.4f, confirm p95 %.0f ms -> %s\n", per_s,
                     static_cast<double>(run.total.confirmed) / step_s, run.total.success_ratio().value_or(0),
                     run.confirm.Percentile(95) / 1e6, ok ? "sustained" : "missed");
        if (!ok) {
          first_miss = per_s;
          break;
        }
        best = per_s;
        last_ok = std::move(run);
      }
      state.SetIterationTime(total_s);
    }
  } catch (const std::exception& e) {
    return state.SkipWithError(db::RedactSecrets(e.what()).c_str());
  }
  if (Check(state, best > 0, "not even the first step was sustained")) Report(state, last_ok);
  state.counters["max_sustained_tx_per_min"] = best * 60;
  state.counters["first_missed_tx_per_min"] = first_miss * 60;
  CheckBars(state, {Bar::Goal("max_rate", "count>=1000")}, {{"max_rate", {.count = best * 60}}});
}
BENCHMARK(BM_ChainMaxRate)->Iterations(1)->Repetitions(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// Arg 0: market creations — the story's 50 in 5 minutes, compressed into 10 s. Arg 1: 100
// vote submissions in 10 s. Both on devnet's public limits, spread over three endpoints.
void BM_ChainActions(benchmark::State& state) {
  Ledger& l = Ledger::Get();
  if (!l.error.empty()) return state.SkipWithError(l.error.c_str());
  const bool markets = state.range(0) == 0;
  const double count = markets ? 50 : 100, seconds = 10;
  ChainRun run;
  try {
    for (auto _ : state) {
      run = RunChain({.endpoints = l.urls, .per_s = count / seconds, .seconds = seconds,
                      .mix = markets ? "markets:1" : "votes:1", .limit_all = 100, .limit_send = 40});
      state.SetIterationTime(run.seconds);
    }
  } catch (const std::exception& e) {
    return state.SkipWithError(db::RedactSecrets(e.what()).c_str());
  }
  Report(state, run);
  state.counters[markets ? "markets_per_s" : "votes_per_s"] =
      run.result.seconds > 0 ? static_cast<double>(run.total.confirmed) / run.result.seconds : 0;
  CheckBars(
      state, {Bar::Sla("confirmed", "count>=" + std::to_string(static_cast<int>(count * 0.99))), Bar::Goal("confirm", "p(95)<5s")},
      {{"confirmed", {.count = static_cast<double>(run.total.confirmed)}}, {"confirm", {.latency = &run.confirm}}});
}
BENCHMARK(BM_ChainActions)->ArgName("votes")->Arg(0)->Arg(1)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pmbench::bench
