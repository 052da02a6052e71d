#include "lib/results/markdown_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "lib/results/metrics.h"
#include "lib/results/results_file.h"
#include "lib/results/scoreboard.h"
#include "lib/stats/threshold.h"

namespace pmbench::results {
namespace {

std::string Num(double v) {
  char buf[32];
  const double a = std::fabs(v);
  if (a != 0 && (a >= 1e6 || a < 1e-3)) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  } else if (a >= 100 || v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  }
  return buf;
}

// "12.5 (11.9-13.1)" over the repetitions that did not error; the median alone when they agree.
std::string Figure(const BenchmarkRuns& b, const std::string& metric, bool time) {
  std::vector<double> v;
  for (const auto& r : b.repetitions) {
    if (r.value("error_occurred", false) || !r.contains(metric) || !r[metric].is_number()) continue;
    double x = r[metric].get<double>();
    if (time) {
      const std::string unit = r.value("time_unit", "ns");
      x *= unit == "s" ? 1e9 : unit == "ms" ? 1e6 : unit == "us" ? 1e3 : 1;
    }
    v.push_back(x);
  }
  const auto med = b.Median(metric);
  if (!med) return "";
  auto text = [&](double x) { return time ? stats::FormatDuration(x) : Num(x); };
  std::string s = text(*med);
  if (v.size() > 1) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    if (text(*lo) != text(*hi)) s += " (" + text(*lo) + "–" + text(*hi) + ")";
  }
  return s;
}

std::string Cell(std::string s) {
  for (size_t at = 0; (at = s.find('|', at)) != std::string::npos; at += 2) s.replace(at, 1, "\\|");
  return s;
}

}  // namespace

bool IsHeadlineMetric(const std::string& m) {
  const Direction d = DirectionOf(m);
  if (d == Direction::kInfo || d == Direction::kUnknown) return false;
  if (m == "real_time" || m == "cpu_time" || m == "thresholds_failed" || m == "goals_missed" || m == "generator_cpu") return false;
  if (m.starts_with("service_") || m.starts_with("lag_") || m.starts_with("processed_") || m.starts_with("connect_")) return false;
  for (const char* tail : {"p90_ms", "p999_ms", "p9999_ms", "min_ms", "max_ms", "p50_ms"}) {
    if (m.ends_with(tail) && m != "p50_ms") return false;
  }
  return true;
}

std::string BaselineMarkdown(const std::string& results_json, const std::string& source) {
  const ResultsFile r = ResultsFile::Parse(results_json, source);
  const auto& ctx = r.context();
  std::string md = "# Baseline figures\n\n";
  md += "<!-- Generated from " + source + " by `tools/report --markdown " + source +
        " -o results/BASELINE.md`; do not edit: a test regenerates it and fails on any difference. -->\n\n";
  md += "Commit `" + r.commit() + "`, profile `" + r.profile() + "`, " + ctx.value("date", "") + ", on " +
        ctx.value("host_name", "?") + " (" + std::to_string(ctx.value("num_cpus", 0)) + " CPUs";
  auto load = [&](const char* key) -> std::string {
    if (!ctx.contains(key) || !ctx[key].is_array() || ctx[key].size() < 3) return "";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f / %.2f / %.2f", ctx[key][0].get<double>(), ctx[key][1].get<double>(),
                  ctx[key][2].get<double>());
    return buf;
  };
  if (!load("pmbench_load_avg_before").empty()) {
    md += "; load average " + load("pmbench_load_avg_before") + " before the run, " + load("pmbench_load_avg_after") + " after";
  }
  md += "). Figures are the median over the repetitions, with their range in parentheses; times are per "
        "iteration, or the whole run for manual-time benchmarks. How each is measured: "
        "[benchmarks/README.md](../benchmarks/README.md).\n\n";

  md += "## The story's SLAs\n\n| | criterion | key figures |\n|---|---|---|\n";
  for (const ScoreRow& row : Scoreboard(r)) {
    std::string figures;
    for (const auto& f : row.figures) figures += (figures.empty() ? "" : "; ") + f;
    for (const auto& f : row.failures) figures += (figures.empty() ? "" : "; ") + std::string("**") + f + "**";
    md += "| " + std::string(StatusName(row.status)) + " | " + row.id + " " + Cell(row.title) + " | " + Cell(figures) + " |\n";
  }

  md += "\n## Thresholds and goals\n\n| benchmark | kind | bar | verdict |\n|---|---|---|---|\n";
  for (const BarVerdict& b : r.bars()) {
    const char* verdict = b.threshold ? (b.pass ? "PASS" : "**FAIL**") : !b.was_measured ? "not measured" : b.pass ? "met" : "missed";
    std::string runs;
    if (b.runs > 1) {
      runs = !b.threshold ? " (median of " + std::to_string(b.runs) + ")"
             : b.pass     ? " (held in all " + std::to_string(b.runs) + ")"
                          : " (failed in " + std::to_string(b.failures) + " of " + std::to_string(b.runs) + ")";
    }
    md += "| `" + ShortName(b.run_name) + "` | " + (b.threshold ? "threshold" : "goal") + " | " + Cell(b.message) + runs +
          " | " + verdict + " |\n";
  }

  std::string area;
  for (const BenchmarkRuns& b : r.benchmarks()) {
    if (b.bench != area) {
      area = b.bench;
      md += "\n## " + (area.empty() ? std::string("benchmarks") : "`" + area + "`") + "\n\n| benchmark | time | headline metrics |\n|---|---|---|\n";
    }
    std::string metrics;
    if (!b.repetitions.empty()) {
      std::set<std::string> seen;
      for (const auto& rep : b.repetitions) {
        for (const auto& [k, v] : rep.items()) {
          if (!v.is_number() || !IsMetricKey(k) || !IsHeadlineMetric(k) || !seen.insert(k).second) continue;
          const std::string f = Figure(b, k, false);
          if (!f.empty()) metrics += (metrics.empty() ? "" : ", ") + k + " " + f;
        }
      }
    }
    const std::string time = b.errored ? "**errored in " + std::to_string(b.errored) + " of " + std::to_string(b.runs()) + "**"
                                       : Figure(b, "real_time", true);
    md += "| `" + ShortName(b.run_name) + "` | " + Cell(time) + " | " + Cell(metrics) + " |\n";
  }
  return md;
}

}  // namespace pmbench::results
