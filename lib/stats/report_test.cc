#include "lib/stats/report.h"

#include <map>

#include <gtest/gtest.h>

namespace pmbench::stats {
namespace {

TEST(ReportTest, LatencyCountersStateUnitAndHoldMilliseconds) {
  LatencyHistogram h;
  for (int i = 1; i <= 1000; ++i) h.Record(i * 1'000);  // 1 us .. 1 ms
  std::map<std::string, double> c;
  for (auto& [k, v] : LatencyCounters(h)) c[k] = v;
  EXPECT_NEAR(c.at("p50_ms"), 0.5, 0.5 / 256);
  EXPECT_NEAR(c.at("p99_ms"), 0.99, 0.99 / 256);
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
  EXPECT_EQ(FirstFailure(results), "");

  auto failing = EvaluateBars({Bar::Sla("latency", "p(95)<10ms")}, {{"latency", {.latency = &h}}});
  EXPECT_EQ(FirstFailure(failing), "threshold failed: latency p(95)=20ms, want <10ms");
}

TEST(ReportTest, BarOnUnknownMetricFails) {
  auto results = EvaluateBars({Bar::Sla("nothing", "count>0")}, {});
  EXPECT_FALSE(results[0].pass);
  EXPECT_NE(FirstFailure(results), "");
}

}  // namespace
}  // namespace pmbench::stats
