// File: prometheus.h
//
// Reading a live Prometheus and Alertmanager over their HTTP APIs: range queries, the
// dashboard's queries, a snapshot of every panel over a run's window, and the alerts
// Alertmanager holds. Plain http:// (both run on loopback in staging).
//
//   auto queries = DashboardQueries(ReadFile("monitoring/grafana/dashboards/pmbench.json"));
//   nlohmann::json snap = Snapshot("http://127.0.0.1:9090", queries, from, to);
#ifndef PMBENCH_MONITORING_PROMETHEUS_H_
#define PMBENCH_MONITORING_PROMETHEUS_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pmbench::monitoring {

// GET an http:// URL; the body of a 2xx answer. Throws std::runtime_error naming the URL
// (unreachable, timed out, another status with its body's first line).
std::string HttpGet(const std::string& url, double timeout_s = 10);
std::string UrlEncode(const std::string& s);

struct PanelQuery {
  std::string panel, expr, legend;
};
// Every target of every panel of a Grafana dashboard (rows' nested panels included).
// Throws std::invalid_argument for a file that is not one, or a panel without a query.
std::vector<PanelQuery> DashboardQueries(const std::string& dashboard_json);

// /api/v1/query_range: the result's series ([{metric, values: [[t, "v"], ...]}]).
nlohmann::json QueryRange(const std::string& prometheus, const std::string& expr, double from, double to, double step);

// Every query over [from, to] (Unix seconds) at `step` (0: the window / 240, at least 1 s):
// {"from", "to", "step", "panels": [{"panel", "expr", "legend", "series": [...]}]}.
nlohmann::json Snapshot(const std::string& prometheus, const std::vector<PanelQuery>& queries, double from, double to,
                        double step = 0);

// Alertmanager's /api/v2/alerts (active ones, silenced and inhibited included).
nlohmann::json Alerts(const std::string& alertmanager);

}  // namespace pmbench::monitoring

#endif  // PMBENCH_MONITORING_PROMETHEUS_H_
