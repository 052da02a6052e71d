#include "lib/results/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "lib/results/compare.h"
#include "lib/results/history.h"
#include "lib/results/internal/html.h"
#include "lib/results/metrics.h"
#include "lib/results/results_file.h"
#include "lib/results/scoreboard.h"
#include "lib/results/server_report.h"
#include "lib/results/time_series_report.h"
#include "lib/stats/threshold.h"

namespace pmbench::results {
namespace {

using internal::Esc;
using internal::Fmt;

// Horizontal bars, one per label, with the value printed at the end.
std::string Bars(const std::vector<std::pair<std::string, double>>& rows, const std::string& unit,
                 const std::vector<std::string>& colors = {}) {
  if (rows.empty()) return "";
  double max = 0;
  for (const auto& [l, v] : rows) max = std::max(max, v);
  if (max <= 0) max = 1;
  const int label_w = 360, bar_w = 420, row_h = 22;
  const int h = static_cast<int>(rows.size()) * row_h + 10;
  std::string s = "<svg xmlns='http://www.w3.org/2000/svg' width='" + std::to_string(label_w + bar_w + 120) + "' height='" +
                  std::to_string(h) + "' role='img'>";
  for (size_t i = 0; i < rows.size(); ++i) {
    const int y = static_cast<int>(i) * row_h + 5;
    const int w = std::max(1, static_cast<int>(rows[i].second / max * bar_w));
    const std::string color = i < colors.size() ? colors[i] : "#4c78a8";
    s += "<text x='" + std::to_string(label_w - 6) + "' y='" + std::to_string(y + 15) + "' text-anchor='end' font-size='12'>" +
         Esc(ShortName(rows[i].first).substr(0, 58)) + "</text>";
    s += "<rect x='" + std::to_string(label_w) + "' y='" + std::to_string(y + 3) + "' width='" + std::to_string(w) +
         "' height='16' fill='" + color + "'/>";
    s += "<text x='" + std::to_string(label_w + w + 6) + "' y='" + std::to_string(y + 15) + "' font-size='12'>" +
         Fmt(rows[i].second) + " " + Esc(unit) + "</text>";
  }
  return s + "</svg>";
}

// Lines over an x axis (log scale or not), one per series.
std::string Lines(const std::map<std::string, std::vector<std::pair<double, double>>>& series, const std::string& x_name,
                  const std::string& y_name, bool log_x, const std::vector<std::string>& x_labels = {}) {
  if (series.empty()) return "";
  double xmin = 1e300, xmax = -1e300, ymax = 0;
  for (const auto& [name, pts] : series) {
    for (const auto& [x, y] : pts) xmin = std::min(xmin, x), xmax = std::max(xmax, x), ymax = std::max(ymax, y);
  }
  auto tx = [&](double x) { return log_x ? std::log10(x) : x; };
  if (tx(xmax) <= tx(xmin)) xmax = log_x ? xmin * 10 : xmin + 1;
  if (ymax <= 0) ymax = 1;
  const int left = 70, top = 20, w = 560, h = 220;
  auto px = [&](double x) { return left + (tx(x) - tx(xmin)) / (tx(xmax) - tx(xmin)) * w; };
  auto py = [&](double y) { return top + h - y / ymax * h; };
  const char* colors[] = {"#e45756", "#f58518", "#4c78a8", "#54a24b", "#b279a2"};
  std::string s = "<svg xmlns='http://www.w3.org/2000/svg' width='" + std::to_string(left + w + 200) + "' height='" +
                  std::to_string(top + h + 50) + "' role='img'>";
  s += "<line x1='" + std::to_string(left) + "' y1='" + std::to_string(top + h) + "' x2='" + std::to_string(left + w) +
       "' y2='" + std::to_string(top + h) + "' stroke='#333'/><line x1='" + std::to_string(left) + "' y1='" +
       std::to_string(top) + "' x2='" + std::to_string(left) + "' y2='" + std::to_string(top + h) + "' stroke='#333'/>";
  for (int k = 0; k <= 4; ++k) {
    const double y = ymax * k / 4;
    s += "<text x='" + std::to_string(left - 6) + "' y='" + Fmt(py(y) + 4) + "' text-anchor='end' font-size='11'>" + Fmt(y) +
         "</text>";
  }
  if (log_x) {
    for (double x = xmin; x <= xmax * 1.0001; x *= 10) {
      s += "<text x='" + Fmt(px(x)) + "' y='" + std::to_string(top + h + 16) + "' text-anchor='middle' font-size='11'>" +
           Fmt(x) + "</text>";
    }
  } else {
    for (size_t i = 0; i < x_labels.size(); ++i) {
      s += "<text x='" + Fmt(px(static_cast<double>(i))) + "' y='" + std::to_string(top + h + 16) +
           "' text-anchor='middle' font-size='10'>" + Esc(x_labels[i].substr(0, 8)) + "</text>";
    }
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

std::string Scoreboard(const ResultsFile& r, bool ok) {
  std::string h = "<section><h2 class='" + std::string(ok ? "pass" : "fail") + "'>Verdict: " + (ok ? "PASS" : "FAIL") +
                  "</h2><table><tr><th></th><th>the story's SLA</th><th>key figures</th></tr>";
  for (const ScoreRow& row : results::Scoreboard(r)) {
    const char* cls = row.status == ScoreRow::Status::kPass ? "pass" : row.status == ScoreRow::Status::kFail ? "fail" : "muted";
    std::string figures;
    for (const auto& f : row.figures) figures += (figures.empty() ? "" : "; ") + Esc(f);
    for (const auto& f : row.failures) figures += "<br><span class='fail'>" + Esc(f) + "</span>";
    h += "<tr><td class='" + std::string(cls) + "'>" + StatusName(row.status) + "</td><td>" + Esc(row.id + " " + row.title) +
         "</td><td>" + figures + "</td></tr>";
  }
  h += "</table>";
  std::string other;
  for (const BarVerdict& b : r.bars()) {
    if (b.threshold && !b.pass && AcceptanceCriterionOf(b.run_name).empty()) {
      other += "<li class='fail'>" + Esc(ShortName(b.run_name) + ": " + b.message) + "</li>";
    }
  }
  for (const BenchmarkRuns& b : r.benchmarks()) {
    if (b.errored > 0 && AcceptanceCriterionOf(b.run_name).empty() && !r.ErrorIsAFailedBar(b)) {
      other += "<li class='fail'>" + Esc(ShortName(b.run_name) + " errored in " + std::to_string(b.errored) + " of " +
                                         std::to_string(b.runs()) + " repetitions: " + b.error) +
               "</li>";
    }
  }
  if (!other.empty()) h += "<p>Other failures:</p><ul>" + other + "</ul>";
  int met = 0, missed = 0, unmeasured = 0;
  std::string goals;
  for (const BarVerdict& b : r.bars()) {
    if (b.threshold) continue;
    (!b.was_measured ? unmeasured : b.pass ? met : missed)++;
    if (!b.pass || !b.was_measured) {
      goals += "<li>" + std::string(b.was_measured ? "missed" : "not measured") + ": " + Esc(ShortName(b.run_name) + " " + b.message) +
               "</li>";
    }
  }
  h += "<p>Our goals: " + std::to_string(met) + " met, " + std::to_string(missed) + " missed" +
       (unmeasured ? ", " + std::to_string(unmeasured) + " not measured" : "") + ".</p><ul>" + goals + "</ul></section>";
  return h;
}

// Which commit, profile, machine and load the run had.
std::string RunLine(const ResultsFile& r) {
  const auto& ctx = r.context();
  std::string load;
  if (ctx.contains("pmbench_load_avg_before") && ctx["pmbench_load_avg_before"].is_array() &&
      !ctx["pmbench_load_avg_before"].empty()) {
    load = " &middot; load average " + Fmt(ctx["pmbench_load_avg_before"][0].get<double>()) + " before";
    if (ctx.contains("pmbench_load_avg_after") && ctx["pmbench_load_avg_after"].is_array() && !ctx["pmbench_load_avg_after"].empty()) {
      load += ", " + Fmt(ctx["pmbench_load_avg_after"][0].get<double>()) + " after";
    }
  }
  return "<p class='muted'>commit " + Esc(r.commit()) + " &middot; profile " + Esc(r.profile()) + " &middot; " +
       Esc(ctx.value("date", "")) + " &middot; " + Esc(ctx.value("host_name", "?")) + ", " +
       std::to_string(ctx.value("num_cpus", 0)) + " CPUs" + load + "</p>";

}

// Baseline vs latest: the gate's summary, what broke, and the time ratios.
std::string BaselineSection(const std::string& latest_json, const std::string& baseline) {
  std::string h;
  const Comparison c = Compare(baseline, latest_json, {});
  std::vector<std::pair<std::string, double>> ratios;
  std::vector<std::string> colors;
  for (const auto& m : c.rows) {
    if (m.metric != "real_time" || !m.has_values() || m.base <= 0) continue;
    ratios.push_back({m.benchmark, m.contender / m.base});
    colors.push_back(m.verdict == Verdict::kRegressed ? "#cf222e" : m.verdict == Verdict::kImproved ? "#1a7f37" : "#999");
  }
  std::string broken;
  for (const auto& m : c.rows) {
    if (m.verdict == Verdict::kRegressed || m.verdict == Verdict::kErrored || m.verdict == Verdict::kRemoved ||
        m.verdict == Verdict::kMissing) {
      broken += "<li class='fail'>" + Esc(ShortName(m.benchmark) + (m.metric.empty() ? "" : " " + m.metric) + ": " +
                                          VerdictName(m.verdict) + (m.note.empty() ? "" : " (" + m.note + ")")) +
                "</li>";
    }
  }
  h += "<section><h2>Baseline vs latest</h2><p>" + Esc(SummaryLine(c)) + ".</p>";
  for (const auto& w : c.warnings) h += "<p class='fail'>warning: " + Esc(w) + "</p>";
  if (!broken.empty()) h += "<ul>" + broken + "</ul>";
  h += "<p class='muted'>Time ratio latest / baseline per benchmark (red regressed, green improved).</p>" +
       Bars(ratios, "x", colors) + "</section>";

  return h;
}

// The key figures over the commits of the history file.
std::string TrendsSection(const std::string& history) {
  std::string h;
  const auto points = ReadHistory(history);
  std::vector<std::string> commits;
  for (const auto& p : points) commits.push_back(p.commit);
  std::string charts;
  for (const KeyFigure& f : KeyFigures()) {
    std::map<std::string, std::vector<std::pair<double, double>>> series;
    for (size_t i = 0; i < points.size(); ++i) {
      for (const auto& [run, metrics] : points[i].metrics) {
        if (!HasPrefix(run, f.benchmark)) continue;
        const auto it = metrics.find(f.metric);
        if (it != metrics.end()) series[ShortName(run) + " " + f.metric].push_back({static_cast<double>(i), it->second});
        break;
      }
    }
    if (!series.empty()) charts += "<h3>" + Esc(f.benchmark + " " + f.metric) + "</h3>" + Lines(series, "commit", f.metric, false, commits);
  }
  h += "<section><h2>Trends (" + std::to_string(points.size()) + " commits)</h2>" + charts + "</section>";

  return h;
}

// Latency percentiles per area, the listener's throughput by batch size, the tallies.
std::string FigureSections(const ResultsFile& r) {
  std::string h;
  std::map<std::string, std::vector<std::pair<std::string, double>>> latency;
  for (const BenchmarkRuns& b : r.benchmarks()) {
    for (const char* prefix : {"", "submit_", "tally_", "confirm_", "fanout_"}) {
      if (!b.Median(std::string(prefix) + "p99_ms")) continue;
      auto& area = latency[b.bench.empty() ? "results" : b.bench];
      for (const char* p : {"p50_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"}) {
        const std::string key = std::string(prefix) + p;
        if (const auto v = b.Median(key)) area.push_back({b.run_name + " " + key, *v});
      }
    }
  }
  if (!latency.empty()) {
    h += "<section><h2>Latency percentiles (medians of the repetitions)</h2>";
    for (const auto& [area, values] : latency) h += "<h3>" + Esc(area) + "</h3>" + Bars(values, "ms");
    h += "</section>";
  }

  std::map<std::string, std::vector<std::pair<double, double>>> sinks;
  const char* sink_names[] = {"insert", "multirow", "copy"};
  for (const BenchmarkRuns& b : r.benchmarks()) {
    int sink = -1, batch = 0;
    const auto rate = b.Median("events_per_s");
    if (std::sscanf(b.run_name.c_str(), "BM_IngestSink/sink:%d/batch:%d", &sink, &batch) == 2 && sink >= 0 && sink < 3 && rate) {
      sinks[sink_names[sink]].push_back({static_cast<double>(batch), *rate});
    }
  }
  if (!sinks.empty()) {
    h += "<section><h2>Event listener: throughput by batch size</h2>" + Lines(sinks, "batch size", "events/s", true) + "</section>";
  }

  std::vector<std::pair<std::string, double>> tallies;
  for (const BenchmarkRuns& b : r.benchmarks()) {
    const auto t = b.Median("real_time");
    if (b.run_name.find("Tally") != std::string::npos && t) tallies.push_back({b.run_name, *t / 1e6});
  }
  if (!tallies.empty()) h += "<section><h2>Vote tallies</h2>" + Bars(tallies, "ms") + "</section>";

  return h;
}

// Every threshold and goal, then every benchmark's medians.
std::string Tables(const ResultsFile& r) {
  std::string h;
  h += "<section><h2>Every threshold and goal</h2><table><tr><th>benchmark</th><th>kind</th><th>bar</th><th>verdict</th></tr>";
  for (const BarVerdict& b : r.bars()) {
    const char* verdict = b.threshold ? (b.pass ? "PASS" : "FAIL") : !b.was_measured ? "not measured" : b.pass ? "met" : "missed";
    h += "<tr><td>" + Esc(ShortName(b.run_name)) + "</td><td>" + (b.threshold ? "threshold (SLA)" : "goal") + "</td><td>" +
         Esc(b.message) + (b.runs > 1 ? " <span class='muted'>(" + std::to_string(b.runs) + " runs)</span>" : "") +
         "</td><td class='" + (b.pass ? "pass" : "fail") + "'>" + verdict + "</td></tr>";
  }
  h += "</table></section>";

  h += "<section><h2>Every benchmark (medians of the repetitions)</h2><table><tr><th>benchmark</th><th>time</th><th>counters</th></tr>";
  for (const BenchmarkRuns& b : r.benchmarks()) {
    std::string counters;
    if (!b.repetitions.empty()) {
      for (const auto& [k, v] : b.repetitions.front().items()) {
        if (!v.is_number() || !IsMetricKey(k) || k == "real_time" || k == "cpu_time") continue;
        const Direction d = DirectionOf(k);
        if (d == Direction::kInfo || k == "thresholds_failed" || k == "goals_missed") continue;
        if (const auto m = b.Median(k)) counters += k + "=" + Fmt(*m) + " ";
      }
    }
    const auto t = b.Median("real_time");
    const std::string time = b.errored ? "<span class='fail'>errored in " + std::to_string(b.errored) + " of " +
                                             std::to_string(b.runs()) + ": " + Esc(b.error) + "</span>"
                                       : (t ? Esc(stats::FormatDuration(*t)) : "");
    h += "<tr><td>" + Esc(ShortName(b.run_name)) + "</td><td>" + time + "</td><td>" + Esc(counters) + "</td></tr>";
  }
  return h + "</table></section>";
}

}  // namespace

std::string HtmlReport(const std::string& latest_json, const ReportInputs& inputs) {
  const ResultsFile r = ResultsFile::Parse(latest_json, "the latest results");
  bool ok = true;
  for (const BarVerdict& b : r.bars()) ok &= !b.threshold || b.pass;
  for (const BenchmarkRuns& b : r.benchmarks()) ok &= b.errored == 0;

  std::string h = R"(<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pmbench report</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}h1{margin-bottom:0}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px;vertical-align:top}
th{background:#f3f3f3}.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.muted{color:#777}
section{margin-top:28px}</style></head><body><h1>pmbench report</h1>)";
  h += RunLine(r);
  // 1. The verdict.
  h += Scoreboard(r, ok);
  // 2. Charts.
  if (!inputs.baseline.empty()) h += BaselineSection(latest_json, inputs.baseline);
  if (!inputs.history.empty()) h += TrendsSection(inputs.history);
  h += FigureSections(r);
  h += TimeSeriesSection(latest_json);
  h += ServerSection(latest_json);
  // 3. The long tables.
  return h + Tables(r) + "</body></html>\n";
}

}  // namespace pmbench::results
