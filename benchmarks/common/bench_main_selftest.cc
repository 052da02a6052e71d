// A bench binary whose threshold must fail: the test around it checks that bench_main
// exits non-zero and records the verdict (Google Benchmark alone would exit 0).
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

}  // namespace
