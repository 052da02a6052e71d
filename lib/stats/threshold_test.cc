#include "lib/stats/threshold.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace pmbench::stats {
namespace {

LatencyHistogram Constant(int64_t ns, int n = 100) {
  LatencyHistogram h;
  for (int i = 0; i < n; ++i) h.Record(ns);
  return h;
}

TEST(ThresholdTest, ParsesK6SyntaxWithUnits) {
  EXPECT_DOUBLE_EQ(Threshold::Parse("p(95)<100ms").bound(), 100e6);
  EXPECT_DOUBLE_EQ(Threshold::Parse("p(99.9)<=250ms").bound(), 250e6);
  EXPECT_DOUBLE_EQ(Threshold::Parse("avg<50us").bound(), 50e3);
  EXPECT_DOUBLE_EQ(Threshold::Parse("max<1s").bound(), 1e9);
  EXPECT_DOUBLE_EQ(Threshold::Parse("min > 10ns").bound(), 10);
  EXPECT_DOUBLE_EQ(Threshold::Parse("med<200").bound(), 200e6);  // bare number: ms, as in k6
  EXPECT_DOUBLE_EQ(Threshold::Parse("rate>0.99").bound(), 0.99);
  EXPECT_DOUBLE_EQ(Threshold::Parse("count>=1000").bound(), 1000);
  EXPECT_FALSE(Threshold::Parse("rate>0.99").is_latency());
  EXPECT_TRUE(Threshold::Parse("p(50)<1ms").is_latency());
}

TEST(ThresholdTest, MalformedExpressionsNameTheProblem) {
  for (const char* bad : {"", "p95<100ms", "p(0)<1ms", "p(101)<1ms", "p(95)", "p(95)~1ms",
                          "p(95)<fast", "p(95)<100 parsecs", "rate>0.9ms", "latency<1s",
                          "avg<1ms extra"}) {
    try {
      Threshold::Parse(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("bad threshold '"), std::string::npos) << e.what();
    }
  }
}

TEST(ThresholdTest, EvaluatesPercentilesWithReadableMessage) {
  LatencyHistogram h;
  for (int i = 1; i <= 100; ++i) h.Record(i * 1'000'000);  // 1..100 ms
  auto r = Threshold::Parse("p(95)<90ms").Evaluate({.latency = &h});
  EXPECT_FALSE(r.pass);
  // The exact p95 is 95 ms; the histogram answers the top of its bucket (never below).
  EXPECT_EQ(r.message, "p(95)=95.42ms, want <90ms");
  EXPECT_TRUE(Threshold::Parse("p(95)<100ms").Evaluate({.latency = &h}).pass);
  EXPECT_FALSE(Threshold::Parse("p(95)<95ms").Evaluate({.latency = &h}).pass);
  EXPECT_TRUE(Threshold::Parse("p(95)<=95.5ms").Evaluate({.latency = &h}).pass);
}

TEST(ThresholdTest, ComparisonsAreStrictWhereWritten) {
  const auto h = Constant(2'000'000);  // exactly representable bucket is irrelevant: min/max exact
  EXPECT_FALSE(Threshold::Parse("max<2ms").Evaluate({.latency = &h}).pass);
  EXPECT_TRUE(Threshold::Parse("max<=2ms").Evaluate({.latency = &h}).pass);
  EXPECT_TRUE(Threshold::Parse("min>=2ms").Evaluate({.latency = &h}).pass);
  EXPECT_FALSE(Threshold::Parse("min>2ms").Evaluate({.latency = &h}).pass);
  EXPECT_TRUE(Threshold::Parse("avg==2ms").Evaluate({.latency = &h}).pass);
  EXPECT_FALSE(Threshold::Parse("avg!=2ms").Evaluate({.latency = &h}).pass);
}

TEST(ThresholdTest, CountAndRateReadTheirOwnObservations) {
  EXPECT_TRUE(Threshold::Parse("rate>0.99").Evaluate({.rate = 0.995}).pass);
  EXPECT_FALSE(Threshold::Parse("rate>0.99").Evaluate({.rate = 0.99}).pass);
  EXPECT_TRUE(Threshold::Parse("count>=1000").Evaluate({.count = 1000}).pass);
  EXPECT_EQ(Threshold::Parse("count>=1000").Evaluate({.count = 999}).message,
            "count=999, want >=1000");
}

TEST(ThresholdTest, MissingDataFails) {
  LatencyHistogram empty;
  auto r = Threshold::Parse("p(95)<100ms").Evaluate({.latency = &empty});
  EXPECT_FALSE(r.pass);
  EXPECT_NE(r.message.find("not measured"), std::string::npos);
  EXPECT_FALSE(Threshold::Parse("rate>0.5").Evaluate({}).pass);
}

TEST(ThresholdTest, FormatsDurationsInReadableUnits) {
  EXPECT_EQ(FormatDuration(950), "950ns");
  EXPECT_EQ(FormatDuration(1'500), "1.5us");
  EXPECT_EQ(FormatDuration(132'400'000), "132.4ms");
  EXPECT_EQ(FormatDuration(2.5e9), "2.5s");
}

}  // namespace
}  // namespace pmbench::stats
