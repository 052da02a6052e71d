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

double ExactPercentile(std::vector<int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::max<size_t>(rank, 1);
  return static_cast<double>(v[rank - 1]);
}

// The documented bound: half a bucket of 1/128 of a power of two.
constexpr double kMaxRelativeError = 1.0 / 256;

void ExpectPercentilesMatch(const std::vector<int64_t>& values, const char* what) {
  LatencyHistogram h;
  for (int64_t v : values) h.Record(v);
  for (double p : {0.0, 1.0, 50.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0}) {
    const double exact = ExactPercentile(values, p);
    const double got = h.Percentile(p);
    EXPECT_LE(std::fabs(got - exact), exact * kMaxRelativeError + 1e-9)
        << what << " p" << p << ": exact " << exact << " got " << got;
  }
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), *std::min_element(values.begin(), values.end()));
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
  long double sum = 0;
  for (int64_t v : values) sum += v;
  EXPECT_NEAR(h.mean(), static_cast<double>(sum / values.size()), 1e-6 * h.mean());
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
  EXPECT_EQ(h.Percentile(99.99), 1'500.0);
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
