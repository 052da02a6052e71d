#include "lib/stats/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace pmbench::stats {
namespace {

// Seeded for reproducibility; PMBENCH_TEST_SEED overrides to explore other inputs.
uint64_t TestSeed() {
  const char* s = std::getenv("PMBENCH_TEST_SEED");
  return s ? std::strtoull(s, nullptr, 10) : 20261126;
}

// The reference: sort, then index by a rank computed from p as an exact fraction
// (p = num / den percent), never through floating point.
struct Fraction {
  uint64_t num, den;
  double percent() const { return static_cast<double>(num) / static_cast<double>(den); }
};
uint64_t ReferenceRank(uint64_t n, Fraction p) { return std::max<uint64_t>(1, (p.num * n + 100 * p.den - 1) / (100 * p.den)); }
int64_t SortAndIndex(std::vector<int64_t> v, Fraction p) {
  std::sort(v.begin(), v.end());
  return v[ReferenceRank(v.size(), p) - 1];
}

// What the histogram must answer for percentile p: the exact extremes at the first and last
// rank, otherwise the top of the exact value's bucket, within [min, max].
double Expected(const std::vector<int64_t>& v, Fraction p) {
  const int64_t min = *std::min_element(v.begin(), v.end());
  const int64_t max = *std::max_element(v.begin(), v.end());
  const uint64_t rank = ReferenceRank(v.size(), p);
  if (rank == 1) return static_cast<double>(min);
  if (rank == v.size()) return static_cast<double>(max);
  const int64_t exact = SortAndIndex(v, p);
  const int i = LatencyHistogram::IndexOf(exact);
  const int64_t top = LatencyHistogram::BucketLow(i) + LatencyHistogram::BucketWidth(i) - 1;
  return static_cast<double>(std::clamp(top, min, max));
}

constexpr Fraction kPercentiles[] = {{0, 1},     {1, 1},      {50, 1},      {90, 1},   {95, 1},
                                     {99, 1},    {999, 10},   {9999, 100},  {100, 1}};

void ExpectPercentilesMatch(const std::vector<int64_t>& values, const char* what) {
  LatencyHistogram h;
  for (int64_t v : values) h.Record(v);
  const int64_t min = *std::min_element(values.begin(), values.end());
  const int64_t max = *std::max_element(values.begin(), values.end());
  for (const Fraction p : kPercentiles) {
    const int64_t exact = SortAndIndex(values, p);
    const double got = h.Percentile(p.percent());
    EXPECT_EQ(got, Expected(values, p)) << what << " p" << p.percent() << ": exact " << exact;
    // The documented bound: never below the exact value, less than 1/128 above it.
    EXPECT_GE(got, static_cast<double>(exact)) << what << " p" << p.percent();
    EXPECT_LE(got, static_cast<double>(exact) * (1 + 1.0 / 128)) << what << " p" << p.percent();
  }
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), min);
  EXPECT_EQ(h.max(), max);
  long double sum = 0;
  for (int64_t v : values) sum += v;
  EXPECT_NEAR(h.mean(), static_cast<double>(sum / values.size()), 1e-6 * h.mean());
}

TEST(NearestRankTest, IsExactWhereFloatingPointRoundsUp) {
  // ceil(0.999 * 1000) is 1000 in double arithmetic; the rank is 999.
  EXPECT_EQ(NearestRank(99.9, 1'000), 999u);
  EXPECT_EQ(NearestRank(99.99, 10'000), 9'999u);
  EXPECT_EQ(NearestRank(99.9, 10'000), 9'990u);
  EXPECT_EQ(NearestRank(99.99, 1'000), 1'000u);
  EXPECT_EQ(NearestRank(50, 1), 1u);
  EXPECT_EQ(NearestRank(0, 7), 1u);
  EXPECT_EQ(NearestRank(100, 7), 7u);
  EXPECT_EQ(NearestRank(99, 0), 0u);
  for (uint64_t n = 1; n <= 20'000; ++n) {
    ASSERT_EQ(NearestRank(99.9, n), (999 * n + 999) / 1000) << n;
    ASSERT_EQ(NearestRank(99.99, n), (9999 * n + 9999) / 10000) << n;
    ASSERT_EQ(NearestRank(95, n), (95 * n + 99) / 100) << n;
  }
}

TEST(LatencyHistogramTest, P999OfOneToAThousandIsNineHundredNinetyNine) {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 1000; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(99.9), 999.0);
  EXPECT_EQ(h.Percentile(100), 1000.0);
  LatencyHistogram t;
  for (int64_t v = 1; v <= 10'000; ++v) t.Record(v * 1'000'000);  // 1 ms .. 10 s
  EXPECT_LT(t.Percentile(99.99), 10'000.0 * 1'000'000);  // rank 9,999, not the max
  EXPECT_GE(t.Percentile(99.99), 9'999.0 * 1'000'000);
}

TEST(LatencyHistogramTest, HighPercentilesMatchSortAndIndexAtRoundCounts) {
  // n a multiple of 1,000 is where floating-point ranks went wrong: p99.9 and p99.99 fell on
  // the maximum.
  std::mt19937_64 rng(TestSeed() + 5);
  std::lognormal_distribution<double> d(std::log(2e6), 1.2);
  for (const size_t n : {1'000u, 10'000u}) {
    std::vector<int64_t> v(n);
    for (auto& x : v) x = std::max<int64_t>(1, static_cast<int64_t>(d(rng)));
    LatencyHistogram h;
    for (int64_t x : v) h.Record(x);
    const int64_t max = *std::max_element(v.begin(), v.end());
    for (const Fraction p : {Fraction{999, 10}, Fraction{9999, 100}}) {
      EXPECT_EQ(h.Percentile(p.percent()), Expected(v, p)) << "n " << n << " p" << p.percent();
    }
    EXPECT_LT(h.Percentile(99.9), static_cast<double>(max)) << "n " << n;
  }
}

TEST(LatencyHistogramTest, EmptyReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(99), 0.0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(LatencyHistogramTest, BucketsTileTheRangeWithoutGaps) {
  for (int i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    const int64_t low = LatencyHistogram::BucketLow(i);
    const int64_t width = LatencyHistogram::BucketWidth(i);
    ASSERT_EQ(LatencyHistogram::IndexOf(low), i);
    ASSERT_EQ(LatencyHistogram::IndexOf(low + width - 1), i);
    if (i + 1 < LatencyHistogram::kBucketCount) {
      ASSERT_EQ(LatencyHistogram::BucketLow(i + 1), low + width) << "gap after bucket " << i;
      ASSERT_LE(static_cast<double>(width), std::max(1.0, static_cast<double>(low) / 128));
    }
  }
  EXPECT_EQ(LatencyHistogram::IndexOf(LatencyHistogram::kHighestTrackable),
            LatencyHistogram::kBucketCount - 1);
}

TEST(LatencyHistogramTest, UniformMatchesExactPercentiles) {
  std::mt19937_64 rng(TestSeed());
  std::uniform_int_distribution<int64_t> d(1'000, 100'000'000);
  std::vector<int64_t> v(100'000);
  for (auto& x : v) x = d(rng);
  ExpectPercentilesMatch(v, "uniform");
}

TEST(LatencyHistogramTest, LogNormalMatchesExactPercentiles) {
  std::mt19937_64 rng(TestSeed() + 1);
  std::lognormal_distribution<double> d(std::log(2e6), 1.0);  // median 2 ms, long tail
  std::vector<int64_t> v(100'000);
  for (auto& x : v) x = std::clamp<int64_t>(static_cast<int64_t>(d(rng)), 1'000, 3'600'000'000'000);
  ExpectPercentilesMatch(v, "log-normal");
}

TEST(LatencyHistogramTest, BimodalMatchesExactPercentiles) {
  std::mt19937_64 rng(TestSeed() + 2);
  std::normal_distribution<double> fast(200'000, 20'000);      // cache hits, ~200 us
  std::normal_distribution<double> slow(80'000'000, 5'000'000);  // disk, ~80 ms
  std::bernoulli_distribution is_slow(0.07);
  std::vector<int64_t> v(100'000);
  for (auto& x : v) {
    const double s = is_slow(rng) ? slow(rng) : fast(rng);
    x = std::max<int64_t>(1'000, static_cast<int64_t>(s));
  }
  ExpectPercentilesMatch(v, "bimodal");
}

TEST(LatencyHistogramTest, OneHugeOutlierIsKeptExactlyAsMax) {
  std::vector<int64_t> v(10'000, 1'500);  // 1.5 us
  v.push_back(3'600'000'000'000);         // one hour
  ExpectPercentilesMatch(v, "outlier");
  LatencyHistogram h;
  for (int64_t x : v) h.Record(x);
  EXPECT_EQ(h.Percentile(100), 3'600'000'000'000.0);
  EXPECT_EQ(h.Percentile(99.99), Expected(v, {9999, 100}));
  EXPECT_LT(h.Percentile(99.99), 1'500 * (1 + 1.0 / 128));
}

TEST(LatencyHistogramTest, ValuesBeyondRangeClampButKeepExactMax) {
  LatencyHistogram h;
  h.Record(-5);
  h.Record(LatencyHistogram::kHighestTrackable * 4);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), LatencyHistogram::kHighestTrackable * 4);
  EXPECT_EQ(h.Percentile(100), static_cast<double>(LatencyHistogram::kHighestTrackable * 4));
}

TEST(LatencyHistogramTest, MergeEqualsHistogramOfUnion) {
  std::mt19937_64 rng(TestSeed() + 3);
  std::lognormal_distribution<double> d(std::log(5e5), 1.5);
  LatencyHistogram a, b, all;
  for (int i = 0; i < 50'000; ++i) {
    const auto x = static_cast<int64_t>(d(rng));
    (i % 3 ? a : b).Record(x);
    all.Record(x);
  }
  LatencyHistogram merged = a;
  merged.Merge(b);
  EXPECT_EQ(merged, all);
  EXPECT_EQ(merged.Percentile(99.9), all.Percentile(99.9));
  LatencyHistogram empty;
  merged.Merge(empty);
  EXPECT_EQ(merged, all);
}

TEST(LatencyHistogramTest, JsonRoundTripsAndMergesAcrossProcesses) {
  std::mt19937_64 rng(TestSeed() + 4);
  std::uniform_int_distribution<int64_t> d(1, 10'000'000'000);
  LatencyHistogram a, b;
  for (int i = 0; i < 20'000; ++i) (i % 2 ? a : b).Record(d(rng));
  EXPECT_EQ(LatencyHistogram::FromJson(a.ToJson()), a);
  LatencyHistogram via_json = LatencyHistogram::FromJson(a.ToJson());
  via_json.Merge(LatencyHistogram::FromJson(b.ToJson()));
  LatencyHistogram direct = a;
  direct.Merge(b);
  EXPECT_EQ(via_json, direct);
  EXPECT_EQ(LatencyHistogram::FromJson(LatencyHistogram().ToJson()), LatencyHistogram());
}

TEST(LatencyHistogramTest, MalformedJsonIsRejected) {
  EXPECT_THROW(LatencyHistogram::FromJson("not json"), std::invalid_argument);
  EXPECT_THROW(LatencyHistogram::FromJson(R"({"format":"other"})"), std::invalid_argument);
  EXPECT_THROW(LatencyHistogram::FromJson(
                   R"({"format":"pmbench-histogram-v1","count":2,"min_ns":1,"max_ns":1,"sum_ns":"2","buckets":[[1,1]]})"),
               std::invalid_argument);
  EXPECT_THROW(LatencyHistogram::FromJson(
                   R"({"format":"pmbench-histogram-v1","count":1,"min_ns":1,"max_ns":1,"sum_ns":"1","buckets":[[99999,1]]})"),
               std::invalid_argument);
}

}  // namespace
}  // namespace pmbench::stats
