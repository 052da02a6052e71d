// What latency recording costs the load engine: LatencyHistogram against the naive
// alternative (keep every sample, sort, pick ranks), side by side in one binary.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "benchmarks/common/report.h"
#include "lib/stats/histogram.h"

namespace pmbench::bench {
namespace {

using stats::LatencyHistogram;

// Log-normal latencies around 2 ms, like a database round trip; fixed seed.
const std::vector<int64_t>& Samples() {
  static const std::vector<int64_t> samples = [] {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> d(std::log(2e6), 1.0);
    std::vector<int64_t> v(1 << 16);
    for (auto& x : v) x = static_cast<int64_t>(d(rng));
    return v;
  }();
  return samples;
}

constexpr double kPercentiles[] = {50, 90, 95, 99, 99.9, 99.99};

void BM_HistogramRecord(benchmark::State& state) {
  const auto& samples = Samples();
  const size_t mask = samples.size() - 1;
  LatencyHistogram h;
  size_t i = 0;
  for (auto _ : state) {
    h.Record(samples[i++ & mask]);
  }
  state.SetItemsProcessed(state.iterations());
  Check(state, h.count() == static_cast<uint64_t>(state.iterations()),
                        "histogram count != iterations");
}
BENCHMARK(BM_HistogramRecord);

void BM_HistogramMerge(benchmark::State& state) {
  LatencyHistogram a, b;
  for (int64_t x : Samples()) (x & 1 ? a : b).Record(x);
  LatencyHistogram sum;
  for (auto _ : state) {
    sum = a;
    sum.Merge(b);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations());
  Check(state, sum.count() == Samples().size(), "merge lost samples");
}
BENCHMARK(BM_HistogramMerge);

// Record N samples, then read the six reported percentiles: the whole job of a run.
struct HistogramPercentiles {
  LatencyHistogram h;
  void Record(int64_t v) { h.Record(v); }
  std::vector<double> Percentiles() {
    std::vector<double> out;
    for (double p : kPercentiles) out.push_back(h.Percentile(p));
    return out;
  }
};

struct SortedVectorPercentiles {
  std::vector<int64_t> v;
  void Record(int64_t x) { v.push_back(x); }
  std::vector<double> Percentiles() {
    std::sort(v.begin(), v.end());
    std::vector<double> out;
    for (double p : kPercentiles) {
      out.push_back(static_cast<double>(v[pmbench::stats::NearestRank(p, v.size()) - 1]));
    }
    return out;
  }
};

template <typename Impl>
void BM_RecordThenPercentiles(benchmark::State& state) {
  const auto& samples = Samples();
  const auto n = static_cast<size_t>(state.range(0));
  std::vector<double> got;
  for (auto _ : state) {
    Impl impl;
    for (size_t i = 0; i < n; ++i) impl.Record(samples[i & (samples.size() - 1)]);
    got = impl.Percentiles();
    benchmark::DoNotOptimize(got.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
  // Both must agree with the exact answer within the histogram's documented error: never
  // below it, less than 1/128 above.
  SortedVectorPercentiles exact;
  for (size_t i = 0; i < n; ++i) exact.Record(samples[i & (samples.size() - 1)]);
  const auto want = exact.Percentiles();
  bool agree = true;
  for (size_t k = 0; k < want.size(); ++k) agree &= got[k] >= want[k] && got[k] <= want[k] * (1 + 1.0 / 128);
  Check(state, agree, "a percentile differs from the exact one");
}
BENCHMARK_TEMPLATE(BM_RecordThenPercentiles, HistogramPercentiles)->Arg(1'000)->Arg(100'000);
BENCHMARK_TEMPLATE(BM_RecordThenPercentiles, SortedVectorPercentiles)->Arg(1'000)->Arg(100'000);

}  // namespace
}  // namespace pmbench::bench
