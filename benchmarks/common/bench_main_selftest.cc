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

}  // namespace
