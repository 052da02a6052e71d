// The report's "Over time" section: for every whole-platform run in the results'
// pmbench_series, latency percentiles, throughput and errors per interval with its spike
// or stall shaded, and where the CPU went.
#include "lib/results/time_series_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/results/internal/html.h"
#include "lib/stats/interval_series.h"

namespace pmbench::results {
namespace {

using nlohmann::json;
using Points = std::vector<std::pair<double, double>>;

using internal::Esc;

// Lines over time (seconds), with [from, to) windows shaded and labelled.
std::string TimeChart(const std::vector<std::pair<std::string, Points>>& lines, const std::string& y_name,
                      const std::vector<std::pair<std::string, std::pair<double, double>>>& shaded) {
  double xmax = 1, ymax = 0;
  for (const auto& [_, pts] : lines) {
    for (const auto& [x, y] : pts) xmax = std::max(xmax, x), ymax = std::max(ymax, y);
  }
  if (ymax <= 0) ymax = 1;
  const int left = 70, top = 20, w = 640, h = 200;
  const auto px = [&](double x) { return left + x / xmax * w; };
  const auto py = [&](double y) { return top + h - y / ymax * h; };
  const char* colors[] = {"#4c78a8", "#f58518", "#e45756", "#54a24b", "#b279a2", "#9d755d"};
  std::string s = "<svg xmlns='http://www.w3.org/2000/svg' width='" + std::to_string(left + w + 200) + "' height='" +
                  std::to_string(top + h + 50) + "' role='img'>";
  for (const auto& [label, range] : shaded) {
    s += "<rect x='" + internal::Fmt(px(range.first)) + "' y='" + std::to_string(top) + "' width='" +
         internal::Fmt(std::max(1.0, px(range.second) - px(range.first))) + "' height='" + std::to_string(h) +
         "' fill='#f2c14e' opacity='0.3'/><text x='" + internal::Fmt(px(range.first) + 3) + "' y='" + std::to_string(top + 12) +
         "' font-size='11'>" + Esc(label) + "</text>";
  }
  s += "<line x1='" + std::to_string(left) + "' y1='" + std::to_string(top + h) + "' x2='" + std::to_string(left + w) + "' y2='" +
       std::to_string(top + h) + "' stroke='#333'/><line x1='" + std::to_string(left) + "' y1='" + std::to_string(top) +
       "' x2='" + std::to_string(left) + "' y2='" + std::to_string(top + h) + "' stroke='#333'/>";
  for (int k = 0; k <= 4; ++k) {
    s += "<text x='" + std::to_string(left - 6) + "' y='" + internal::Fmt(py(ymax * k / 4) + 4) + "' text-anchor='end' font-size='11'>" +
         internal::Fmt(ymax * k / 4) + "</text>";
    s += "<text x='" + internal::Fmt(px(xmax * k / 4)) + "' y='" + std::to_string(top + h + 16) + "' text-anchor='middle' font-size='11'>" +
         internal::Fmt(xmax * k / 4) + "</text>";
  }
  s += "<text x='" + std::to_string(left + w / 2) + "' y='" + std::to_string(top + h + 36) +
       "' text-anchor='middle' font-size='12'>seconds into the run</text><text x='12' y='" + std::to_string(top + h / 2) +
       "' font-size='12' transform='rotate(-90 12 " + std::to_string(top + h / 2) + ")' text-anchor='middle'>" + Esc(y_name) +
       "</text>";
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string path;
    for (const auto& [x, y] : lines[i].second) path += (path.empty() ? "M" : " L") + internal::Fmt(px(x)) + " " + internal::Fmt(py(y));
    s += "<path d='" + path + "' fill='none' stroke='" + colors[i % 6] + "' stroke-width='1.5'/><text x='" +
         std::to_string(left + w + 12) + "' y='" + std::to_string(top + 14 + 18 * static_cast<int>(i)) + "' fill='" +
         colors[i % 6] + "' font-size='12'>" + Esc(lines[i].first) + "</text>";
  }
  return s + "</svg>";
}

struct Log {
  std::string name;
  double offset_s;
  stats::IntervalSeries series;
};

std::string RunSection(const json& meta, const std::vector<Log>& logs) {
  const json& sc = meta.at("scenario");
  std::vector<std::pair<std::string, std::pair<double, double>>> shaded;
  if (sc.contains("spike")) shaded.push_back({"spike x10", {sc["spike"][0].get<double>(), sc["spike"][1].get<double>()}});
  if (sc.contains("stall")) shaded.push_back({"stall", {sc["stall"][0].get<double>(), sc["stall"][1].get<double>()}});
  double t = 0;
  for (const auto& st : sc.value("stages", json::array())) {  // stage boundaries, as thin marks
    t += st.value("seconds", 0.0);
    shaded.push_back({"", {t, t}});
  }
  std::string h = "<h3>" + Esc(sc.value("title", sc.value("name", ""))) + "</h3>";
  std::vector<std::pair<std::string, Points>> pct, rate, errors;
  for (const Log& l : logs) {
    const std::string role = l.name.substr(l.name.rfind('/') + 1);
    Points p50, p95, p99, r, e;
    const double step = l.series.interval_s();
    for (size_t i = 0; i < l.series.size(); ++i) {
      const double x = l.offset_s + (static_cast<double>(i) + 0.5) * step;
      r.push_back({x, static_cast<double>(l.series.count(i)) / step});
      e.push_back({x, static_cast<double>(l.series.errors(i))});
      if (l.series.count(i) == 0) continue;
      const stats::LatencyHistogram hist = l.series.Histogram(i);
      p50.push_back({x, hist.Percentile(50) / 1e6});
      p95.push_back({x, hist.Percentile(95) / 1e6});
      p99.push_back({x, hist.Percentile(99) / 1e6});
    }
    // The reads (browsing users) are the SLA's subject: their three percentiles; the other
    // roles' p95.
    if (role == "browse") {
      pct.insert(pct.begin(), {{"reads p99", p99}, {"reads p95", p95}, {"reads p50", p50}});
    } else {
      pct.push_back({role + " p95", p95});
    }
    rate.push_back({role, r});
    errors.push_back({role, e});
  }
  h += "<p>Latency per interval (ms, from each request's intended start):</p>" + TimeChart(pct, "ms", shaded);
  h += "<p>Throughput (completions per second):</p>" + TimeChart(rate, "per s", shaded);
  h += "<p>Errors per interval (failed, dropped or never answered):</p>" + TimeChart(errors, "errors", shaded);
  const json& groups = meta.value("groups", json::array());
  double total = 0;
  for (const auto& g : groups) total += g.value("cpu_s", 0.0);
  h += "<p>Where the time went (CPU seconds during the run, from /proc):</p><table><tr><th>process</th><th>CPU s</th>"
       "<th>share</th><th>memory max (MB)</th><th>processes max</th></tr>";
  std::vector<std::pair<std::string, Points>> cpu;
  for (const auto& g : groups) {
    const auto rss = g.value("rss_mb", std::vector<double>{});
    const auto n = g.value("processes", std::vector<double>{});
    const auto ts = g.value("t_s", std::vector<double>{});
    const auto share = g.value("cpu_share", std::vector<double>{});
    h += "<tr><td>" + Esc(g.value("name", "")) + "</td><td>" + internal::Fmt(g.value("cpu_s", 0.0)) + "</td><td>" +
         internal::Fmt(total > 0 ? 100 * g.value("cpu_s", 0.0) / total : 0) + "%</td><td>" +
         internal::Fmt(rss.empty() ? 0 : *std::max_element(rss.begin(), rss.end())) + "</td><td>" +
         internal::Fmt(n.empty() ? 0 : *std::max_element(n.begin(), n.end())) + "</td></tr>";
    Points p;
    for (size_t i = 0; i < std::min(ts.size(), share.size()); ++i) p.push_back({ts[i], share[i]});
    cpu.push_back({g.value("name", ""), p});
  }
  h += "</table><p>CPU cores busy per process:</p>" + TimeChart(cpu, "cores", shaded);
  return h;
}

}  // namespace

std::string TimeSeriesSection(const std::string& latest_json) {
  const json doc = json::parse(latest_json, nullptr, false);
  if (doc.is_discarded() || !doc.contains("pmbench_series") || !doc["pmbench_series"].is_array()) return "";
  // Each run's processes entry names it; its roles' logs are the entries one level below.
  std::string h;
  for (const auto& meta : doc["pmbench_series"]) {
    if (meta.value("metric", "") != "processes" || !meta.contains("scenario")) continue;
    const std::string base = meta.value("run_name", "");
    std::vector<Log> logs;
    for (const auto& e : doc["pmbench_series"]) {
      const std::string name = e.value("run_name", "");
      if (e.value("metric", "") != "latency" || name.rfind(base + "/", 0) != 0) continue;
      if (name.find('/', base.size() + 1) != std::string::npos) continue;  // a read kind: the role's total stands for it
      try {
        logs.push_back({name, e.value("offset_s", 0.0), stats::IntervalSeries::FromJson(e.at("log").dump())});
      } catch (const std::exception&) {
        continue;  // a malformed log is left out of the chart, not fatal to the report
      }
    }
    h += RunSection(meta, logs);
  }
  return h.empty() ? "" : "<section><h2>Over time</h2>" + h + "</section>";
}

}  // namespace pmbench::results
