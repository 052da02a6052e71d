// Vote aggregation against staging: signed ballots streamed from the votes table, verified
// and tallied, beside a plain SQL GROUP BY (no signature checked); and tallies repeated
// while ballots keep arriving through pgbouncer at 100/s and 1,000/s.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>


#include <benchmark/benchmark.h>

#include "benchmarks/common/profile.h"
#include "benchmarks/common/report.h"
#include "benchmarks/common/staging.h"
#include "lib/base/base58.h"
#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/votes/db_ballots.h"
#include "lib/votes/gen.h"
#include "lib/votes/tally.h"

namespace pmbench::bench {
namespace {

using stats::Bar;
using stats::LatencyHistogram;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kLoaded = 42;    // the proposal loaded up front
constexpr uint64_t kArriving = 43;  // the proposal whose ballots arrive during the run

int64_t Ns(Clock::duration d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

std::string Joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// A schema of this process's own on staging, with the profile's ballots loaded; dropped at exit.
class Staging : public BenchSchema {
 public:
  static Staging& Get() {
    static Staging s;
    return s;
  }
  const votes::TallyResult& expected() const { return expected_; }
  uint64_t distinct_voters() const { return distinct_voters_; }

 private:
  Staging() : BenchSchema("votes") {
    Prepare([this] { Load(direct(), schema()); });
  }

  void Load(const std::string& direct, const std::string& schema) {
    db::Migrate(direct, schema);
    const int n = CurrentProfile().ballots;
    const auto g = votes::GenerateBallots({.proposal = kLoaded, .voters = static_cast<uint64_t>(n / 10),
                                           .count = static_cast<uint64_t>(n), .seed = 3});
    const std::vector<std::string_view> lines(g.lines.begin(), g.lines.end());
    votes::LoadBallots(direct, schema, lines);
    expected_ = votes::TallyJsonLines(Joined(g.lines), {.proposal = kLoaded});
    db::PgSession s(direct);
    distinct_voters_ = std::stoull(s.QueryValue("SELECT count(DISTINCT voter) FROM \"" + schema +
                                                "\".votes WHERE proposal_id = " + std::to_string(kLoaded)));
    s.Exec("INSERT INTO \"" + schema + "\".proposals (id, title, proposer, kind, status, created_at, "
           "voting_ends_at, start_slot, end_slot) VALUES (" + std::to_string(kArriving) +
           ", 'arriving ballots', '11111111111111111111111111111111', 'parameter', 'active', now(), "
           "now() + interval '3 days', 0, 0)");
    s.Exec("ANALYZE \"" + schema + "\".votes");
  }

  votes::TallyResult expected_;
  uint64_t distinct_voters_ = 0;
};

void BM_TallyFromDatabase(benchmark::State& state) {
  Staging& st = Staging::Get();
  if (!st.error().empty()) return state.SkipWithError(st.error().c_str());
  LatencyHistogram runs;
  for (auto _ : state) {
    const auto start = Clock::now();
    votes::TallyResult r;
    try {
      r = votes::TallyFromDatabase(st.direct(), st.schema(), {.proposal = kLoaded});
    } catch (const std::exception& e) {
      return state.SkipWithError(db::RedactSecrets(e.what()).c_str());
    }
    runs.Record(Ns(Clock::now() - start));
    Check(state, r == st.expected(), "database tally differs from the file tally");
  }
  const double lines = static_cast<double>(st.expected().lines());
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(lines));
  state.counters["ballots_per_s"] = benchmark::Counter(lines * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  ReportLatency(state, runs);
  // The story: aggregate 10,000 votes in under 10 s (scaled to the profile's ballots).
  const double sla_s = 10.0 * lines / 10'000;
  CheckBars(state, {Bar::Sla("tally", "max<" + std::to_string(sla_s) + "s")},
                            {{"tally", {.latency = &runs}}});
}
BENCHMARK(BM_TallyFromDatabase)->Unit(benchmark::kMillisecond)->UseRealTime();

// For comparison only: what SQL alone does in one statement, with no signature checked
// and none of the rules applied but "latest nonce per voter".
void BM_SqlGroupBy(benchmark::State& state) {
  Staging& st = Staging::Get();
  if (!st.error().empty()) return state.SkipWithError(st.error().c_str());
  const std::string sql =
      "SELECT sum(n) FROM (SELECT choice, count(*) AS n FROM (SELECT DISTINCT ON (voter) voter, choice "
      "FROM \"" + st.schema() + "\".votes WHERE proposal_id = " + std::to_string(kLoaded) +
      " ORDER BY voter, nonce DESC) latest GROUP BY choice) per_choice";
  db::PgSession session(st.direct());
  uint64_t voters = 0;
  for (auto _ : state) voters = std::stoull(session.QueryValue(sql));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(st.expected().lines()));
  state.counters["ballots_per_s"] = benchmark::Counter(
      static_cast<double>(st.expected().lines() * static_cast<uint64_t>(state.iterations())), benchmark::Counter::kIsRate);
  Check(state, voters == st.distinct_voters(), "GROUP BY lost a voter");
}
BENCHMARK(BM_SqlGroupBy)->Unit(benchmark::kMillisecond)->UseRealTime();

// Ballots arrive open-loop at Arg(0) per second (each has its planned send time, and its
// latency counts from then, so a stalled server cannot hide its queue: no coordinated
// omission) through pgbouncer, while this thread tallies the proposal again and again.
void BM_TallyWhileArriving(benchmark::State& state) {
  Staging& st = Staging::Get();
  if (!st.error().empty()) return state.SkipWithError(st.error().c_str());
  const double rate = static_cast<double>(state.range(0));
  const double seconds = CurrentProfile().arrival_s;
  const auto count = static_cast<uint64_t>(rate * seconds);
  const auto g = votes::GenerateBallots({.proposal = kArriving, .voters = std::max<uint64_t>(1, count / 5),
                                         .count = count, .seed = static_cast<uint64_t>(state.range(0))});
  std::vector<votes::Ballot> ballots;
  votes::BallotParser parser;
  for (const auto& l : g.lines) {
    if (auto b = parser.Parse(l)) ballots.push_back(*b);
  }
  const std::string insert = "INSERT INTO \"" + st.schema() +
                             "\".votes (proposal_id, voter, choice, nonce, slot, signature) "
                             "VALUES ($1, $2, $3, $4, $5, $6)";
  LatencyHistogram submit, tallies;
  uint64_t failed = 0;
  double arrival_s = 0;
  votes::TallyResult final_tally, expected;
  for (auto _ : state) {
    {
      db::PgSession clear(st.direct());
      clear.Exec("DELETE FROM \"" + st.schema() + "\".votes WHERE proposal_id = " + std::to_string(kArriving));
    }
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> errors{0};
    std::vector<char> stored_ok(ballots.size(), 0);  // each ballot's insert succeeded
    std::mutex mu;
    const auto t0 = Clock::now() + std::chrono::milliseconds(50);
    auto planned = [&](size_t i) {
      return t0 + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(i) * 1e9 / rate));
    };
    {
      // Four connections share the schedule, as a pooled client fleet would.
      std::vector<std::jthread> submitters;
      for (int c = 0; c < 4; ++c) {
        submitters.emplace_back([&] {
          LatencyHistogram mine;
          try {
            db::PgSession conn(st.pooled());
            for (size_t i; (i = next.fetch_add(1)) < ballots.size();) {
              // Pacing, not work: wait for this ballot's planned send time.
              std::this_thread::sleep_until(planned(i));
              const auto& b = ballots[i];
              // Unnamed statement: transaction pooling keeps no prepared statements.
              try {
                conn.Query(insert, {std::to_string(b.proposal), pmbench::base::Base58Encode(b.voter),
                                    std::string(votes::ChoiceName(b.choice)), std::to_string(b.nonce),
                                    std::to_string(b.slot), pmbench::base::Base58Encode(b.sig)});
                stored_ok[i] = 1;
              } catch (const std::exception&) {
                ++errors;
              }
              mine.Record(Ns(Clock::now() - planned(i)));
            }
          } catch (const std::exception&) {  // no connection: the other submitters take the rest
            ++errors;
          }
          std::lock_guard lock(mu);
          submit.Merge(mine);
        });
      }
      // Meanwhile: tally, again and again, until the last ballot is sent.
      while (next.load() < ballots.size()) {
        const auto start = Clock::now();
        votes::TallyFromDatabase(st.direct(), st.schema(), {.proposal = kArriving});
        tallies.Record(Ns(Clock::now() - start));
      }
    }
    arrival_s += std::chrono::duration<double>(Clock::now() - t0).count();
    failed += errors.load();
    final_tally = votes::TallyFromDatabase(st.direct(), st.schema(), {.proposal = kArriving});
    // The tally must count exactly the ballots that were stored, failed inserts or not.
    std::string stored;
    for (size_t i = 0; i < ballots.size(); ++i) {
      if (stored_ok[i]) stored += votes::ToJsonLine(ballots[i]) + "\n";
    }
    expected = votes::TallyJsonLines(stored, {.proposal = kArriving});
    Check(state, final_tally == expected, "the final tally differs from the stored ballots' tally");
  }
  const double attempts = static_cast<double>(ballots.size() * static_cast<size_t>(state.iterations()));
  const double stored = attempts - static_cast<double>(failed);
  ReportLatency(state, submit, "submit_");
  ReportLatency(state, tallies, "tally_");
  state.counters["errors"] = static_cast<double>(failed);
  state.counters["success_ratio"] = attempts > 0 ? stored / attempts : 0;
  state.counters["offered_ballots_per_s"] = rate;  // the schedule's: the input
  if (arrival_s > 0) state.counters["stored_ballots_per_s"] = stored / arrival_s;  // what the database took
  CheckBars(
      state,
      {Bar::Sla("submitted", "rate>0.99"),  // the story: >99% success at 100+ votes/s while aggregating
       Bar::Sla("tally", "max<10s"),        // the story: a tally within 10 s, also while ballots arrive
       Bar::Goal("submit", "p(99)<50ms"),   // ours: submissions stay fast meanwhile
       Bar::Goal("tally", "p(50)<=200ms")}, // ours: a fresh count within 200 ms while they arrive
      {{"submitted", {.rate = attempts > 0 ? std::optional<double>(stored / attempts) : std::nullopt}},
       {"tally", {.latency = &tallies}},
       {"submit", {.latency = &submit}}});
}
BENCHMARK(BM_TallyWhileArriving)->Arg(100)->Arg(1000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace pmbench::bench
