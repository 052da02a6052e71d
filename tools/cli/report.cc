// pmbench report: one self-contained HTML file (inline SVG and CSS, no scripts, fonts or
// network) from results/latest.json, optionally against a baseline.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "lib/stats/threshold.h"
#include "tools/cli/commands.h"
#include "tools/cli/compare.h"
#include "tools/cli/flags.h"
#include "tools/cli/results.h"

namespace pmbench::cli {
namespace {

using nlohmann::json;

constexpr const char* kUsage = R"(Usage: pmbench report LATEST.json [--baseline BASELINE.json] -o REPORT.html

Writes one self-contained HTML page (inline SVG, no scripts, fonts or network): the run's
context, thresholds and goals, latency percentiles per benchmark, the listener's
throughput by batch size per sink, vote tally times, and baseline vs latest.
)";

std::string Esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// One row per benchmark: the median when there are repetitions, else the single run.
std::vector<json> Representative(const json& doc) {
  std::map<std::string, json> chosen;
  std::vector<std::string> order;
  for (const json& b : doc.value("benchmarks", json::array())) {
    const std::string run = b.value("run_name", b.value("name", ""));
    const std::string agg = b.value("aggregate_name", "");
    if (!chosen.count(run)) order.push_back(run);
    if (agg == "median" || (!chosen.count(run) && agg.empty())) chosen[run] = b;
  }
  std::vector<json> out;
  for (const auto& run : order) out.push_back(chosen[run]);
  return out;
}

// Google Benchmark's run-name decorations say nothing a reader of a chart needs.
std::string Short(std::string name) {
  for (const char* noise : {"/iterations:1", "/manual_time", "/real_time"}) {
    for (size_t at; (at = name.find(noise)) != std::string::npos;) name.erase(at, std::string(noise).size());
  }
  return name;
}

// Horizontal bars, one per label, with the value printed at the end.
std::string Bars(const std::vector<std::pair<std::string, double>>& rows, const std::string& unit,
                 const std::vector<std::string>& colors = {}) {
  if (rows.empty()) return "";
  double max = 0;
  for (const auto& [l, v] : rows) max = std::max(max, v);
  if (max <= 0) max = 1;
  const int label_w = 360, bar_w = 420, row_h = 22;
  const int h = static_cast<int>(rows.size()) * row_h + 10;
  std::string s = "<svg xmlns='http://www.w3.org/2000/svg' width='" + std::to_string(label_w + bar_w + 120) +
                  "' height='" + std::to_string(h) + "' role='img'>";
  for (size_t i = 0; i < rows.size(); ++i) {
    const int y = static_cast<int>(i) * row_h + 5;
    const int w = std::max(1, static_cast<int>(rows[i].second / max * bar_w));
    const std::string color = i < colors.size() ? colors[i] : "#4c78a8";
    s += "<text x='" + std::to_string(label_w - 6) + "' y='" + std::to_string(y + 15) +
         "' text-anchor='end' font-size='12'>" + Esc(Short(rows[i].first).substr(0, 58)) + "</text>";
    s += "<rect x='" + std::to_string(label_w) + "' y='" + std::to_string(y + 3) + "' width='" + std::to_string(w) +
         "' height='16' fill='" + color + "'/>";
    s += "<text x='" + std::to_string(label_w + w + 6) + "' y='" + std::to_string(y + 15) + "' font-size='12'>" +
         Fmt(rows[i].second) + " " + Esc(unit) + "</text>";
  }
  return s + "</svg>";
}

// Lines over a log-scale x axis, one per series.
std::string LogLines(const std::map<std::string, std::vector<std::pair<double, double>>>& series,
                     const std::string& x_name, const std::string& y_name) {
  if (series.empty()) return "";
  double xmin = 1e300, xmax = 0, ymax = 0;
  for (const auto& [name, pts] : series) {
    for (const auto& [x, y] : pts) {
      xmin = std::min(xmin, x), xmax = std::max(xmax, x), ymax = std::max(ymax, y);
    }
  }
  if (xmax <= xmin) xmax = xmin * 10;
  if (ymax <= 0) ymax = 1;
  const int left = 70, top = 20, w = 560, h = 260;
  auto px = [&](double x) { return left + (std::log10(x) - std::log10(xmin)) / (std::log10(xmax) - std::log10(xmin)) * w; };
  auto py = [&](double y) { return top + h - y / ymax * h; };
  const char* colors[] = {"#e45756", "#f58518", "#4c78a8", "#54a24b", "#b279a2"};
  std::string s = "<svg xmlns='http://www.w3.org/2000/svg' width='" + std::to_string(left + w + 160) + "' height='" +
                  std::to_string(top + h + 50) + "' role='img'>";
  s += "<line x1='" + std::to_string(left) + "' y1='" + std::to_string(top + h) + "' x2='" + std::to_string(left + w) +
       "' y2='" + std::to_string(top + h) + "' stroke='#333'/><line x1='" + std::to_string(left) + "' y1='" +
       std::to_string(top) + "' x2='" + std::to_string(left) + "' y2='" + std::to_string(top + h) + "' stroke='#333'/>";
  for (int k = 0; k <= 4; ++k) {
    const double y = ymax * k / 4;
    s += "<text x='" + std::to_string(left - 6) + "' y='" + Fmt(py(y) + 4) + "' text-anchor='end' font-size='11'>" +
         Fmt(y) + "</text>";
  }
  for (double x = xmin; x <= xmax * 1.0001; x *= 10) {
    s += "<text x='" + Fmt(px(x)) + "' y='" + std::to_string(top + h + 16) + "' text-anchor='middle' font-size='11'>" +
         Fmt(x) + "</text>";
  }
  s += "<text x='" + std::to_string(left + w / 2) + "' y='" + std::to_string(top + h + 36) +
       "' text-anchor='middle' font-size='12'>" + Esc(x_name) + "</text>";
  s += "<text x='12' y='" + std::to_string(top + h / 2) + "' font-size='12' transform='rotate(-90 12 " +
       std::to_string(top + h / 2) + ")' text-anchor='middle'>" + Esc(y_name) + "</text>";
  int i = 0;
  for (const auto& [name, pts] : series) {
    const char* color = colors[i % 5];
    std::string path;
    for (const auto& [x, y] : pts) path += (path.empty() ? "M" : " L") + Fmt(px(x)) + " " + Fmt(py(y));
    s += "<path d='" + path + "' fill='none' stroke='" + color + "' stroke-width='2'/>";
    for (const auto& [x, y] : pts) s += "<circle cx='" + Fmt(px(x)) + "' cy='" + Fmt(py(y)) + "' r='3' fill='" + color + "'/>";
    s += "<text x='" + std::to_string(left + w + 12) + "' y='" + std::to_string(top + 14 + 18 * i) + "' fill='" + color +
         "' font-size='12'>" + Esc(name) + "</text>";
    ++i;
  }
  return s + "</svg>";
}

std::string Report(const json& latest, const std::string& latest_text, const std::string& baseline_text) {
  const json ctx = latest.value("context", json::object());
  const auto rows = Representative(latest);
  std::string h = R"(<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pmbench report</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}h1{margin-bottom:0}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}
th{background:#f3f3f3}.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.muted{color:#777}
section{margin-top:28px}</style></head><body><h1>pmbench report</h1>)";
  h += "<p class='muted'>commit " + Esc(ctx.value("git_commit", "?")) + " &middot; profile " +
       Esc(ctx.value("pmbench_profile", "?")) + " &middot; " + Esc(ctx.value("date", "")) + "</p>";

  // Context.
  h += "<section><h2>Run context</h2><table>";
  auto row = [&](const std::string& k, const std::string& v) { h += "<tr><th>" + Esc(k) + "</th><td>" + Esc(v) + "</td></tr>"; };
  row("host", ctx.value("host_name", "?"));
  row("CPUs", std::to_string(ctx.value("num_cpus", 0)) + " x " + std::to_string(ctx.value("mhz_per_cpu", 0)) + " MHz");
  row("build type", ctx.value("pmbench_build_type", "?"));
  const json staging = ctx.value("staging", json::object());
  if (staging.is_object()) {
    row("staging", staging.value("kind", "?") + " " + staging.value("host", "") + ":" +
                       (staging.contains("port") ? staging["port"].dump() : ""));
  }
  const json pg = ctx.value("postgres", json::object());
  if (pg.is_object()) row("PostgreSQL", pg.value("server_version", ""));
  h += "</table></section>";

  // Thresholds and goals.
  h += "<section><h2>Thresholds and goals</h2><table><tr><th>benchmark</th><th>kind</th><th>bar</th><th>verdict</th></tr>";
  std::map<std::string, json> bars;  // one per run + expression: the last repetition's
  for (const json& b : latest.value("pmbench_bars", json::array())) {
    bars[b.value("run_name", "") + "|" + b.value("kind", "") + "|" + b.value("expression", "")] = b;
  }
  for (const auto& [key, b] : bars) {
    const bool pass = b.value("pass", false);
    const bool threshold = b.value("kind", "") == "threshold";
    h += "<tr><td>" + Esc(b.value("run_name", "")) + "</td><td>" + (threshold ? "threshold (SLA)" : "goal") + "</td><td>" +
         Esc(b.value("message", "")) + "</td><td class='" + (pass ? "pass" : "fail") + "'>" +
         (threshold ? (pass ? "PASS" : "FAIL") : (pass ? "met" : "missed")) + "</td></tr>";
  }
  h += "</table></section>";

  // Latency percentiles, per area.
  std::map<std::string, std::vector<std::pair<std::string, double>>> latency;
  for (const json& b : rows) {
    for (const char* prefix : {"", "submit_", "tally_"}) {
      const std::string p99 = std::string(prefix) + "p99_ms";
      if (!b.contains(p99) || !b[p99].is_number()) continue;
      auto& area = latency[b.value("pmbench_bench", "?")];
      for (const char* p : {"p50_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"}) {
        const std::string key = std::string(prefix) + p;
        if (b.contains(key) && b[key].is_number()) {
          area.push_back({b.value("run_name", "") + " " + key, b[key].get<double>()});
        }
      }
    }
  }
  h += "<section><h2>Latency percentiles</h2>";
  for (const auto& [area, values] : latency) h += "<h3>" + Esc(area) + "</h3>" + Bars(values, "ms");
  h += "</section>";

  // The listener's sinks.
  std::map<std::string, std::vector<std::pair<double, double>>> sinks;
  const char* sink_names[] = {"insert", "multirow", "copy"};
  for (const json& b : rows) {
    const std::string run = b.value("run_name", "");
    int sink = -1, batch = 0;
    if (std::sscanf(run.c_str(), "BM_IngestSink/sink:%d/batch:%d", &sink, &batch) == 2 && sink >= 0 && sink < 3 &&
        b.contains("events_per_s") && b["events_per_s"].is_number()) {
      sinks[sink_names[sink]].push_back({static_cast<double>(batch), b["events_per_s"].get<double>()});
    }
  }
  if (!sinks.empty()) {
    h += "<section><h2>Event listener: throughput by batch size</h2>" + LogLines(sinks, "batch size", "events/s") + "</section>";
  }

  // Vote tallies.
  std::vector<std::pair<std::string, double>> tallies;
  for (const json& b : rows) {
    const std::string run = b.value("run_name", "");
    if (run.find("Tally") != std::string::npos && b["real_time"].is_number()) {
      tallies.push_back({run, b["real_time"].get<double>() * NsPerUnit(b.value("time_unit", "ns")) / 1e6});
    }
  }
  if (!tallies.empty()) h += "<section><h2>Vote tallies</h2>" + Bars(tallies, "ms") + "</section>";

  // Baseline vs latest.
  if (!baseline_text.empty()) {
    const Comparison c = Compare(baseline_text, latest_text, {});
    std::vector<std::pair<std::string, double>> ratios;
    std::vector<std::string> colors;
    for (const auto& m : c.rows) {
      if (m.metric != "real_time" || m.method.empty()) continue;
      ratios.push_back({m.benchmark, m.contender / m.base});
      colors.push_back(m.verdict == Verdict::kRegressed ? "#cf222e" : m.verdict == Verdict::kImproved ? "#1a7f37" : "#999");
    }
    h += "<section><h2>Baseline vs latest (time ratio; red regressed, green improved)</h2>";
    for (const auto& w : c.warnings) h += "<p class='fail'>warning: " + Esc(w) + "</p>";
    h += Bars(ratios, "x", colors) + "<p>" + std::to_string(c.counts[0]) + " regressed, " + std::to_string(c.counts[1]) +
         " improved; time geomean " + Fmt(c.time_geomean) + "x over " + std::to_string(c.matched) + " benchmarks.</p></section>";
  }

  // Everything.
  h += "<section><h2>All benchmarks</h2><table><tr><th>benchmark</th><th>time</th><th>counters</th></tr>";
  for (const json& b : rows) {
    std::string counters;
    for (const auto& [k, v] : b.items()) {
      if (v.is_number() && (k.ends_with("_per_s") || k.ends_with("_ratio") || k.ends_with("_accuracy") ||
                            k.find("_vs_") != std::string::npos || k == "p99_ms")) {
        counters += k + "=" + Fmt(v.get<double>()) + " ";
      }
    }
    const std::string time = b.value("error_occurred", false)
                                 ? "<span class='fail'>error: " + Esc(b.value("error_message", "")) + "</span>"
                                 : (b["real_time"].is_number() ? Esc(stats::FormatDuration(b["real_time"].get<double>() * NsPerUnit(b.value("time_unit", "ns")))) : "");
    h += "<tr><td>" + Esc(b.value("name", "")) + "</td><td>" + time + "</td><td>" + Esc(counters) + "</td></tr>";
  }
  return h + "</table></section></body></html>\n";
}

}  // namespace

int ReportCommand(const std::vector<std::string>& args) {
  std::vector<std::string> a = args;
  for (auto& x : a) {
    if (x == "-o") x = "--output";
  }
  const Flags flags(a, {"baseline", "output"}, {"help"});
  if (flags.Has("help") || (!args.empty() && args[0] == "-h")) {
    std::cout << kUsage;
    return 0;
  }
  if (flags.positional().size() != 1 || !flags.Has("output")) throw UsageError("report takes LATEST.json and -o REPORT.html");
  const std::string latest_text = ReadFileOrFail(flags.positional()[0]);
  json latest;
  try {
    latest = json::parse(WithoutNaN(latest_text));
  } catch (const json::exception& e) {
    throw UsageError(flags.positional()[0] + " is not JSON: " + e.what());
  }
  const std::string baseline = flags.Has("baseline") ? ReadFileOrFail(flags.Get("baseline", "")) : "";
  std::string html;
  try {
    html = Report(latest, latest_text, baseline);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  WriteFileAtomically(flags.Get("output", ""), html);
  return 0;
}

}  // namespace pmbench::cli
