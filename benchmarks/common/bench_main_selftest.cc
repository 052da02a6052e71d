// A bench binary whose benchmarks must fail: the tests around it check that bench_main
// exits non-zero and records the verdicts (Google Benchmark alone would exit 0), also when
// only one repetition of three failed.
#include <benchmark/benchmark.h>

#include "benchmarks/common/report.h"

namespace {

void BM_ImpossibleThreshold(benchmark::State& state) {
  pmbench::stats::LatencyHistogram h;
  for (auto _ : state) h.Record(5'000'000);  // 5 ms, every time
  pmbench::bench::ReportLatency(state, h);
  pmbench::bench::CheckBars(state,
                            {pmbench::stats::Bar::Sla("latency", "p(95)<1ms"),
                             pmbench::stats::Bar::Goal("latency", "max<10ms")},
                            {{"latency", {.latency = &h}}});
}
BENCHMARK(BM_ImpossibleThreshold)->Iterations(10);

// Google Benchmark calls this several times while it settles the iteration count: only
// the reported runs' bars may land in the results (one per repetition of the profile).
void BM_SettlesIterations(benchmark::State& state) {
  int64_t n = 0;
  for (auto _ : state) benchmark::DoNotOptimize(++n);
  pmbench::bench::CheckBars(state, {pmbench::stats::Bar::Goal("runs", "count>=1")},
                            {{"runs", {.count = static_cast<double>(n)}}});
}
BENCHMARK(BM_SettlesIterations)->MinTime(0.05);

// Errors in its second repetition only: the aggregates of the other two look fine, and
// Google Benchmark would show nothing else.
void BM_FailsOnceInThree(benchmark::State& state) {
  static int calls = 0;
  const bool fail = ++calls == 2;
  for (auto _ : state) benchmark::DoNotOptimize(calls);
  if (fail) pmbench::bench::Fail(state, "the second repetition fails");
}
BENCHMARK(BM_FailsOnceInThree)->Iterations(1)->Repetitions(3);

}  // namespace
