#include "lib/stats/interval_series.h"

#include <random>
#include <stdexcept>

#include <gtest/gtest.h>

namespace pmbench::stats {
namespace {

TEST(IntervalSeriesTest, SamplesLandInTheIntervalOfTheirTime) {
  IntervalSeries s(0.5);
  s.Record(0.1, 1'000);
  s.Record(0.49, 2'000);
  s.Record(0.5, 3'000, /*ok=*/false);
  s.Record(2.2, 4'000);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s.count(0), 2u);
  EXPECT_EQ(s.count(1), 1u);
  EXPECT_EQ(s.errors(1), 1u);
  EXPECT_EQ(s.count(2), 0u);
  EXPECT_EQ(s.count(4), 1u);
  EXPECT_EQ(s.Histogram(0).max(), 2'000);
  EXPECT_EQ(s.Histogram(4).min(), 4'000);
}

// The point of an interval log: however samples are split (threads, processes), merging the
// parts gives exactly the series of the whole, and every interval equals the histogram of
// the samples recorded in it.
TEST(IntervalSeriesTest, MergingPartsIsExactlyTheWhole) {
  std::mt19937_64 rng(20261203);
  IntervalSeries whole, a, b;
  LatencyHistogram third;
  for (int i = 0; i < 20'000; ++i) {
    const double t = static_cast<double>(rng() % 10'000) / 1000;  // 0..10 s
    const int64_t ns = static_cast<int64_t>(rng() % 500'000'000);
    const bool ok = rng() % 10 != 0;
    whole.Record(t, ns, ok);
    (i % 3 ? a : b).Record(t, ns, ok);
    if (static_cast<size_t>(t) == 3) third.Record(ns);
  }
  a.Merge(b);
  EXPECT_EQ(a, whole);
  EXPECT_EQ(whole.Histogram(3), third);
  EXPECT_EQ(whole.Histogram(3).Percentile(99), third.Percentile(99));
}

TEST(IntervalSeriesTest, JsonRoundTripsAndRejectsTampering) {
  IntervalSeries s;
  s.Record(0.2, 5'000'000);
  s.Record(3.7, 90'000'000, false);
  const std::string json = s.ToJson();
  EXPECT_EQ(IntervalSeries::FromJson(json), s);
  EXPECT_NE(json.find("\"p95_ms\""), std::string::npos);
  std::string bad = json;
  bad.replace(bad.find("\"count\":1"), 9, "\"count\":7");
  EXPECT_THROW(IntervalSeries::FromJson(bad), std::invalid_argument);
  EXPECT_THROW(IntervalSeries::FromJson("{\"format\":\"other\"}"), std::invalid_argument);
  IntervalSeries other(2);
  EXPECT_THROW(s.Merge(other), std::invalid_argument);
}

TEST(IntervalSeriesTest, RecoveryIsWhenP95StaysBackUnderItsLimit) {
  IntervalSeries s;
  const auto second = [&](int t, int64_t ms) {
    for (int i = 0; i < 100; ++i) s.Record(t + 0.5, ms * 1'000'000);
  };
  for (int t = 0; t < 3; ++t) second(t, 10);  // before the spike
  for (int t = 3; t < 6; ++t) second(t, 500);  // the spike
  second(6, 300);                              // spike over: still slow
  second(7, 50);                               // back under...
  second(8, 150);                              // ...but not for good
  for (int t = 9; t < 12; ++t) second(t, 20);  // recovered
  EXPECT_EQ(RecoveredAt(s, 6, 95, 100e6), 9u);
  EXPECT_EQ(RecoveredAt(s, 0, 95, 1e6), std::nullopt);  // never under 1 ms
  EXPECT_EQ(RecoveredAt(s, 40, 95, 100e6), std::nullopt);  // nothing measured there
}

TEST(IntervalSeriesTest, SlopeIsTheLeastSquaresLine) {
  EXPECT_DOUBLE_EQ(Slope({0, 1, 2, 3}, {1, 3, 5, 7}), 2);
  EXPECT_DOUBLE_EQ(Slope({0, 1, 2, 3}, {4, 4, 4, 4}), 0);
  EXPECT_DOUBLE_EQ(Slope({1}, {1}), 0);
}

}  // namespace
}  // namespace pmbench::stats
