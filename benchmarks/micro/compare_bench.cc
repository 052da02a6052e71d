// The regression gate, measured on this machine's real noise at the repetition counts it
// is used with: the default profile's (tools/bench against the baseline) and tools/pr-check's.
// An A/A check (the same workload on both sides) must raise at most 5% false alarms, and a
// deliberate 10% slowdown (the same workload with 10% more work) must be flagged in at
// least 90% of the trials. Sides alternate A B B A ..., as tools/pr-check runs them, so
// drifts of the machine hit both alike.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "benchmarks/common/profile.h"
#include "benchmarks/common/report.h"
#include "lib/results/compare.h"
#include "lib/stats/histogram.h"

namespace pmbench::bench {
namespace {

using results::Verdict;
using stats::Bar;

// tools/pr-check's default --repetitions: the gate must decide at it.
constexpr int kPrCheckRepetitions = 25;

// Deterministic CPU work: `units` latency recordings of a pseudo-random sequence.
int64_t Work(int64_t units) {
  pmbench::stats::LatencyHistogram h;
  uint64_t x = 88172645463325252ULL;
  for (int64_t i = 0; i < units; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    h.Record(static_cast<int64_t>(x % 100'000'000));
  }
  return static_cast<int64_t>(h.Percentile(50)) ^ h.max();  // depends on every recording
}

// One repetition as Google Benchmark makes it: the mean over several iterations.
double TimeNs(int64_t units) {
  constexpr int kIterations = 20;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIterations; ++i) benchmark::DoNotOptimize(Work(units));
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / kIterations;
}

std::string AsBenchmarkJson(const std::vector<double>& times) {
  nlohmann::json runs = nlohmann::json::array();
  for (double t : times) {
    runs.push_back({{"name", "BM_Work"}, {"run_name", "BM_Work"}, {"run_type", "iteration"},
                    {"real_time", t}, {"cpu_time", t}, {"time_unit", "ns"}});
  }
  return nlohmann::json{{"context", nlohmann::json::object()}, {"benchmarks", runs}}.dump();
}

// One trial: `reps` runs of each side in the order A B B A A B B A ..., so each side runs
// first equally often and position effects (a warm cache, a frequency step) cancel. The
// verdict on real_time.
Verdict Trial(int64_t base_units, int64_t contender_units, int reps) {
  std::vector<double> a, b;
  for (int r = 0; r < reps; ++r) {
    if (r % 2 == 0) {
      a.push_back(TimeNs(base_units));
      b.push_back(TimeNs(contender_units));
    } else {
      b.push_back(TimeNs(contender_units));
      a.push_back(TimeNs(base_units));
    }
  }
  const auto c = pmbench::results::Compare(AsBenchmarkJson(a), AsBenchmarkJson(b), {});
  for (const auto& row : c.rows) {
    if (row.metric == "real_time") return row.verdict;
  }
  return Verdict::kErrored;
}

// At the repetitions a comparison has: the default profile's of a micro benchmark,
// pr-check's rounds, and the default profile's of an e2e benchmark (reported only: at 3 a
// side the gate cannot flag a 10% slowdown reliably on a noisy machine, which is why micro
// benchmarks and pr-check repeat more).
enum class Use { kMicroDefault, kPrCheck, kE2eDefault };

void BM_GateFalseAlarmsAndDetection(benchmark::State& state, Use use) {
  const auto* defaults = FindProfile("default");
  const int reps = use == Use::kMicroDefault ? defaults->micro_repetitions
                   : use == Use::kPrCheck    ? kPrCheckRepetitions
                                             : defaults->repetitions;
  const bool smoke = CurrentProfile().name == "smoke";
  // Enough trials that a true 1-2% false-alarm rate rarely shows as more than 5%.
  const int trials = smoke ? 10 : 60;
  const int64_t units = 50'000;  // ~4 ms a repetition: short ones drown in scheduler noise
  int false_alarms = 0, false_improvements = 0, flagged = 0;
  for (auto _ : state) {
    false_alarms = false_improvements = flagged = 0;
    for (int t = 0; t < trials; ++t) {
      const Verdict aa = Trial(units, units, reps);
      false_alarms += aa == Verdict::kRegressed;
      false_improvements += aa == Verdict::kImproved;
      flagged += Trial(units, units + units / 10, reps) == Verdict::kRegressed;
    }
  }
  state.counters["repetitions_a_side"] = reps;
  state.counters["trials"] = trials;
  state.counters["false_alarms"] = false_alarms;
  state.counters["false_improvements"] = false_improvements;
  state.counters["slowdowns_flagged"] = flagged;
  // Smoke runs in CI beside whatever else the machine does, with few trials: reported
  // there, held everywhere else (but for the e2e count, which is only reported).
  const auto bar = smoke || use == Use::kE2eDefault ? &Bar::Goal : &Bar::Sla;
  CheckBars(
      state,
      {bar("false_alarms", "rate<=0.05"),  // A/A: a pull request that changes nothing fails at most 5% of the time
       bar("flagged", "rate>=0.9")},       // a real 10% slowdown is caught
      {{"false_alarms", {.count = static_cast<double>(false_alarms), .rate = false_alarms / double(trials)}},
       {"flagged", {.count = static_cast<double>(flagged), .rate = flagged / double(trials)}}});
}
// Once: it is its own repetitions (the trials).
BENCHMARK_CAPTURE(BM_GateFalseAlarmsAndDetection, micro_default, Use::kMicroDefault)
    ->Iterations(1)->Repetitions(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_GateFalseAlarmsAndDetection, pr_check, Use::kPrCheck)
    ->Iterations(1)->Repetitions(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_GateFalseAlarmsAndDetection, e2e_default, Use::kE2eDefault)
    ->Iterations(1)->Repetitions(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pmbench::bench
