#include "lib/stats/report.h"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pmbench::stats {
namespace {

TEST(ReportTest, LatencyCountersStateUnitAndHoldMilliseconds) {
  LatencyHistogram h;
  for (int i = 1; i <= 1000; ++i) h.Record(i * 1'000);  // 1 us .. 1 ms
  std::map<std::string, double> c;
  for (auto& [k, v] : LatencyCounters(h)) c[k] = v;
  EXPECT_NEAR(c.at("p50_ms"), 0.5, 0.5 / 128);
  EXPECT_NEAR(c.at("p99_ms"), 0.99, 0.99 / 128);
  EXPECT_DOUBLE_EQ(c.at("max_ms"), 1.0);
  EXPECT_DOUBLE_EQ(c.at("min_ms"), 0.001);
  EXPECT_DOUBLE_EQ(c.at("samples"), 1000);
  for (auto& [k, v] : c) {
    EXPECT_TRUE(k == "samples" || k.ends_with("_ms")) << k;
  }
}

TEST(ReportTest, FailedThresholdFailsButMissedGoalDoesNot) {
  LatencyHistogram h;
  for (int i = 0; i < 100; ++i) h.Record(20'000'000);  // 20 ms
  const std::vector<Bar> bars = {Bar::Sla("latency", "p(95)<100ms"),
                                 Bar::Goal("latency", "p(95)<5ms"),
                                 Bar::Sla("ok", "rate>0.99")};
  auto results = EvaluateBars(bars, {{"latency", {.latency = &h}}, {"ok", {.rate = 1.0}}});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].pass);
  EXPECT_FALSE(results[1].pass);
  EXPECT_EQ(results[1].kind, Bar::Kind::kGoal);
  EXPECT_TRUE(results[2].pass);
  EXPECT_EQ(Failures(results), "");

  auto failing = EvaluateBars({Bar::Sla("latency", "p(95)<10ms")}, {{"latency", {.latency = &h}}});
  EXPECT_EQ(Failures(failing), "threshold failed: latency p(95)=20ms, want <10ms");
}

TEST(ReportTest, BarOnUnknownMetricFails) {
  auto results = EvaluateBars({Bar::Sla("nothing", "count>0")}, {});
  EXPECT_FALSE(results[0].pass);
  EXPECT_FALSE(results[0].was_measured);
  EXPECT_NE(Failures(results), "");
}

TEST(ReportTest, EveryFailedThresholdIsNamed) {
  auto results = EvaluateBars({Bar::Sla("a", "count<1"), Bar::Goal("b", "count<1"), Bar::Sla("c", "rate>0.5")},
                              {{"a", {.count = 3}}, {"b", {.count = 3}}, {"c", {.rate = 0.1}}});
  EXPECT_EQ(Failures(results), "threshold failed: a count=3, want <1; c rate=0.1, want >0.5");
}

TEST(BarTest, ParsesMetricAndExpression) {
  const Bar b = Bar::Parse("place_bet:p(99)<50ms", "latency");
  EXPECT_EQ(b.metric, "place_bet");
  EXPECT_EQ(b.threshold.expression(), "p(99)<50ms");
  EXPECT_EQ(b.kind, Bar::Kind::kThreshold);
  EXPECT_EQ(Bar::Parse("p(95)<100ms", "confirm").metric, "confirm");
  EXPECT_THROW(Bar::Parse(":p(95)<1ms", "latency"), std::invalid_argument);
  EXPECT_THROW(Bar::Parse("latency:p(95)<", "latency"), std::invalid_argument);
}

TEST(BarTest, UnknownMetricIsRefusedWithTheValidOnesListed) {
  const std::vector<Bar> bars = {Bar::Parse("p(95)<1ms", "latency"), Bar::Parse("nosuch:p(95)<1ms", "latency")};
  try {
    CheckBarMetrics(bars, {"latency", "success"});
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "unknown metric 'nosuch' in threshold 'nosuch:p(95)<1ms' (valid: latency, success)");
  }
  EXPECT_NO_THROW(CheckBarMetrics({bars[0]}, {"latency"}));
}

TEST(RatioTest, NearZeroDenominatorIsNotMeasured) {
  EXPECT_EQ(Ratio(10, 2).value(), 5);
  EXPECT_FALSE(Ratio(10, 0).has_value());
  EXPECT_FALSE(Ratio(10, -1).has_value());
  // 7e12 "x faster" from a denominator measured on no sample at all: not a ratio.
  EXPECT_FALSE(Ratio(9000, 1.3e-9, /*den_samples=*/0, /*min_samples=*/10).has_value());
  EXPECT_EQ(Ratio(9000, 9, 12, 10).value(), 1000);
}

}  // namespace
}  // namespace pmbench::stats
