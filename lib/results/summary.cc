#include "lib/results/summary.h"

#include <cmath>
#include <cstdio>

#include "lib/results/metrics.h"
#include "lib/results/results_file.h"
#include "lib/results/scoreboard.h"
#include "lib/stats/threshold.h"

namespace pmbench::results {
namespace {

std::string Si(double v) {
  const char* suffix = "";
  const double a = std::fabs(v);
  if (a >= 1e9) {
    v /= 1e9, suffix = "G";
  } else if (a >= 1e6) {
    v /= 1e6, suffix = "M";
  } else if (a >= 1e4) {
    v /= 1e3, suffix = "k";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g%s", v, suffix);
  return buf;
}

std::string LoadText(const nlohmann::json& ctx, const char* key) {
  const auto it = ctx.find(key);
  if (it == ctx.end() || !it->is_array() || it->empty() || !(*it)[0].is_number()) return "?";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", (*it)[0].get<double>());
  return buf;
}

}  // namespace

Summary Summarize(const std::string& results_json, const SummaryOptions& options) {
  const ResultsFile r = ResultsFile::Parse(results_json, "the results file");
  Summary s;
  int passed = 0, met = 0, missed = 0, unmeasured = 0;
  for (const BarVerdict& b : r.bars()) {
    if (b.threshold) {
      (b.pass ? passed : s.thresholds_failed)++;
    } else {
      (!b.was_measured ? unmeasured : b.pass ? met : missed)++;
    }
  }
  for (const BenchmarkRuns& b : r.benchmarks()) {
    if (b.errored == 0) continue;
    ++s.errored_benchmarks;
    s.errored_repetitions += b.errored;
  }
  const auto& ctx = r.context();
  std::string& out = s.text;
  out += "\npmbench: " + std::string(s.ok() ? "PASS" : "FAIL") + " (" + r.profile() + " profile, commit " + r.commit();
  if (ctx.contains("pmbench_load_avg_before")) {
    out += "; load average " + LoadText(ctx, "pmbench_load_avg_before") + " before, " +
           LoadText(ctx, "pmbench_load_avg_after") + " after";
  }
  out += ")\n";

  const auto board = Scoreboard(r);
  bool any_ac = false;
  for (const auto& row : board) any_ac |= row.status != ScoreRow::Status::kNotRun;
  if (any_ac) {
    out += "\nThe story's SLAs\n";
    for (const auto& row : board) {
      char line[512];
      std::snprintf(line, sizeof line, "  %-7s %s  %s\n", StatusName(row.status), row.id.c_str(), row.title.c_str());
      out += line;
      if (!row.figures.empty()) {
        std::string f;
        for (const auto& x : row.figures) f += (f.empty() ? "" : "; ") + x;
        out += "              " + f + "\n";
      }
      for (const auto& x : row.failures) out += "              " + x + "\n";
    }
  }

  std::string others;
  for (const BarVerdict& b : r.bars()) {
    if (!b.threshold || b.pass || !AcceptanceCriterionOf(b.run_name).empty()) continue;
    others += "  FAIL    " + ShortName(b.run_name) + ": " + b.message +
              (b.runs > 1 ? " (failed in " + std::to_string(b.failures) + " of " + std::to_string(b.runs) + ")" : "") + "\n";
  }
  for (const BenchmarkRuns& b : r.benchmarks()) {
    if (b.errored == 0 || !AcceptanceCriterionOf(b.run_name).empty() || r.ErrorIsAFailedBar(b)) continue;
    others += "  ERROR   " + ShortName(b.run_name) + " in " + std::to_string(b.errored) + " of " + std::to_string(b.runs()) +
              " repetitions: " + b.error + "\n";
  }
  if (!others.empty()) out += "\nOther failures\n" + others;

  out += "\nGoals: " + std::to_string(met) + " met, " + std::to_string(missed) + " missed" +
         (unmeasured ? ", " + std::to_string(unmeasured) + " not measured" : "") + "\n";
  for (const BarVerdict& b : r.bars()) {
    if (b.threshold || (b.pass && b.was_measured && !options.verbose)) continue;
    const char* verdict = !b.was_measured ? "n/a" : b.pass ? "met" : "missed";
    out += "  " + std::string(verdict) + std::string(8 - std::string(verdict).size(), ' ') + ShortName(b.run_name) + ": " +
           b.message + (b.runs > 1 ? " (median of " + std::to_string(b.runs) + ")" : "") + "\n";
  }

  if (options.verbose) {
    out += "\nBenchmarks (medians of the repetitions)\n";
    for (const BenchmarkRuns& b : r.benchmarks()) {
      char line[512];
      const auto t = b.Median("real_time");
      std::snprintf(line, sizeof line, "  %-60s %10s", ShortName(b.run_name).c_str(),
                    t ? stats::FormatDuration(*t).c_str() : "-");
      out += line;
      if (b.errored) out += "  ERROR in " + std::to_string(b.errored) + " of " + std::to_string(b.runs()) + ": " + b.error;
      if (!b.repetitions.empty()) {
        for (const auto& [key, value] : b.repetitions.front().items()) {
          if (!value.is_number() || !IsMetricKey(key) || key == "real_time" || key == "cpu_time") continue;
          if (key == "thresholds_failed" || key == "goals_missed") continue;
          if (const auto m = b.Median(key)) out += "  " + key + "=" + Si(*m);
        }
      }
      out += "\n";
    }
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "\n%zu benchmarks, %d errored (%d repetitions); thresholds: %d passed, %d failed; goals: %d met, %d missed, "
                "%d not measured\n",
                r.benchmarks().size(), s.errored_benchmarks, s.errored_repetitions, passed, s.thresholds_failed, met, missed,
                unmeasured);
  out += line;
  return s;
}

}  // namespace pmbench::results
