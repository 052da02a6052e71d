#include "lib/metrics/registry.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

namespace pmbench::metrics {
namespace {

TEST(RegistryTest, CountersAndGaugesRenderWithTheirLabels) {
  Registry r;
  r.AddCounter("pmbench_x_total", "Things done.", {{"kind", "bet"}}).Inc(3);
  r.AddCounter("pmbench_x_total", "Things done.", {{"kind", "list"}}).Inc();
  r.AddCounter("pmbench_x_total", "Things done.", {{"kind", "bet"}}).Inc();  // the same series again
  r.AddGauge("pmbench_level", "Level.").Set(2.5);
  int reads = 0;
  r.AddGaugeFn("pmbench_slot", "Slot.", {}, [&] { return static_cast<double>(++reads * 100); });
  EXPECT_EQ(r.Text(),
            "# HELP pmbench_level Level.\n# TYPE pmbench_level gauge\npmbench_level 2.5\n"
            "# HELP pmbench_slot Slot.\n# TYPE pmbench_slot gauge\npmbench_slot 100\n"
            "# HELP pmbench_x_total Things done.\n# TYPE pmbench_x_total counter\n"
            "pmbench_x_total{kind=\"bet\"} 4\npmbench_x_total{kind=\"list\"} 1\n");
}

TEST(RegistryTest, HistogramBucketsAreCumulativeAndABoundIsInItsOwnBucket) {
  Registry r;
  Histogram& h = r.AddHistogram("pmbench_d_seconds", "D.", {{"kind", "a"}}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.1);  // le="0.1"
  h.Observe(0.5);
  h.Observe(7);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(r.Text(),
            "# HELP pmbench_d_seconds D.\n# TYPE pmbench_d_seconds histogram\n"
            "pmbench_d_seconds_bucket{kind=\"a\",le=\"0.1\"} 2\n"
            "pmbench_d_seconds_bucket{kind=\"a\",le=\"1\"} 3\n"
            "pmbench_d_seconds_bucket{kind=\"a\",le=\"+Inf\"} 4\n"
            "pmbench_d_seconds_sum{kind=\"a\"} 7.65\n"
            "pmbench_d_seconds_count{kind=\"a\"} 4\n");
}

TEST(RegistryTest, LabelValuesAreEscaped) {
  Registry r;
  r.AddCounter("pmbench_e_total", "Errors by class.", {{"class", "say \"no\"\\\n"}}).Inc();
  EXPECT_NE(r.Text().find("pmbench_e_total{class=\"say \\\"no\\\"\\\\\\n\"} 1\n"), std::string::npos) << r.Text();
}

TEST(RegistryTest, NamesPrometheusRejectsAreRefused) {
  Registry r;
  EXPECT_THROW(r.AddCounter("2fast", "x"), std::invalid_argument);
  EXPECT_THROW(r.AddCounter("a-b", "x"), std::invalid_argument);
  EXPECT_THROW(r.AddCounter("ok_total", "x", {{"le", "1"}}), std::invalid_argument);
  EXPECT_THROW(r.AddCounter("ok_total", "x", {{"__name", "1"}}), std::invalid_argument);
  r.AddCounter("pmbench_c_total", "x");
  EXPECT_THROW(r.AddGauge("pmbench_c_total", "x"), std::invalid_argument);
  EXPECT_THROW(Histogram({1, 0.5}), std::invalid_argument);
}

TEST(RegistryTest, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  Counter& c = r.AddCounter("pmbench_n_total", "N.");
  Histogram& h = r.AddHistogram("pmbench_h_seconds", "H.");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        c.Inc();
        h.Observe(0.003);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 400000);
  EXPECT_EQ(h.count(), 400000u);
  EXPECT_NEAR(h.sum(), 1200, 1e-6);
}

TEST(RegistryTest, ValuesAreSpelledAsPrometheusReadsThem) {
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(1e20), "1e+20");
}

}  // namespace
}  // namespace pmbench::metrics
