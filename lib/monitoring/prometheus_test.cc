#include "lib/monitoring/prometheus.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "lib/metrics/exporter.h"
#include "lib/metrics/registry.h"

namespace pmbench::monitoring {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DashboardTest, EveryPanelOfTheCommittedDashboardHasAQuery) {
  const auto queries = DashboardQueries(Read(PMBENCH_SOURCE_DIR "/monitoring/grafana/dashboards/pmbench.json"));
  std::set<std::string> panels;
  for (const auto& q : queries) panels.insert(q.panel);
  EXPECT_GE(panels.size(), 20u);
  EXPECT_TRUE(panels.contains("DB request p95 by kind (SLA 100 ms)"));
  EXPECT_TRUE(panels.contains("Longest client wait for a server connection"));
}

TEST(DashboardTest, WhatIsNotADashboardIsNamed) {
  EXPECT_THROW(DashboardQueries("{"), std::invalid_argument);
  EXPECT_THROW(DashboardQueries("{\"title\": \"x\"}"), std::invalid_argument);
  try {
    DashboardQueries(R"({"panels": [{"type": "timeseries", "title": "Lonely", "targets": []}]})");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("Lonely"), std::string::npos);
  }
  // Rows' nested panels count.
  EXPECT_EQ(DashboardQueries(R"({"panels": [{"type": "row", "panels": [{"title": "In", "targets": [{"expr": "up"}]}]}]})").size(), 1u);
}

TEST(HttpGetTest, BodiesStatusesAndSilence) {
  metrics::Registry r;
  r.AddCounter("pmbench_t_total", "T.").Inc(7);
  metrics::Exporter e(r, "127.0.0.1:0");
  e.Start();
  const std::string base = "http://127.0.0.1:" + std::to_string(e.port());
  EXPECT_NE(HttpGet(base + "/metrics").find("pmbench_t_total 7\n"), std::string::npos);
  try {
    HttpGet(base + "/nosuch");
    FAIL();
  } catch (const std::runtime_error& ex) {
    EXPECT_NE(std::string(ex.what()).find("HTTP 404"), std::string::npos) << ex.what();
  }
  e.Stop();
  try {
    HttpGet(base + "/metrics", 2);
    FAIL();
  } catch (const std::runtime_error& ex) {
    EXPECT_NE(std::string(ex.what()).find(base), std::string::npos) << ex.what();
  }
  EXPECT_THROW(HttpGet("https://127.0.0.1/"), std::runtime_error);
  EXPECT_EQ(UrlEncode("rate(x{a=\"b\"}[30s])"), "rate%28x%7Ba%3D%22b%22%7D%5B30s%5D%29");
}

}  // namespace
}  // namespace pmbench::monitoring
