#include "tools/cli/results.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lib/db/database_url.h"
#include "lib/stats/threshold.h"

namespace pmbench::cli {
namespace {

using nlohmann::json;

// Counters that are bookkeeping, not results.
const std::set<std::string> kQuietCounters = {"thresholds_failed", "goals_missed"};

std::string Si(double v) {
  const char* suffix = "";
  double a = std::fabs(v);
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

}  // namespace

std::string WithoutNaN(const std::string& text) {
  static const std::regex kNonFinite(R"((:\s*)-?(NaN|nan|inf|Infinity)\b)");
  return std::regex_replace(text, kNonFinite, "$1null");
}

double NsPerUnit(const std::string& unit) {
  return unit == "s" ? 1e9 : unit == "ms" ? 1e6 : unit == "us" ? 1e3 : 1;
}

std::string MergeResults(const std::vector<BenchOutput>& outputs, const MergeContext& context) {
  json merged = {{"context", json::object()}, {"benchmarks", json::array()},
                 {"pmbench_bars", json::array()}};
  json executables = json::array();
  for (const BenchOutput& out : outputs) {
    json in;
    try {
      in = json::parse(WithoutNaN(out.json));
      if (!in.contains("benchmarks") || !in["benchmarks"].is_array() || !in.contains("context")) {
        throw std::invalid_argument("no context or benchmarks");
      }
    } catch (const std::exception& e) {
      throw std::invalid_argument("malformed results of " + out.name + ": " + e.what());
    }
    if (merged["context"].empty()) merged["context"] = in["context"];
    executables.push_back(in["context"].value("executable", out.name));
    for (auto& b : in["benchmarks"]) {
      b["pmbench_bench"] = out.name;
      merged["benchmarks"].push_back(b);
    }
    if (!out.bars_json.empty()) {
      try {
        for (auto& bar : json::parse(out.bars_json)) {
          bar["pmbench_bench"] = out.name;
          merged["pmbench_bars"].push_back(bar);
        }
      } catch (const json::exception& e) {
        throw std::invalid_argument("malformed thresholds of " + out.name + ": " + e.what());
      }
    }
  }
  json& ctx = merged["context"];
  ctx["json_schema_version"] = 1;
  ctx["executable"] = "pmbench (merged)";
  ctx["pmbench_executables"] = executables;
  ctx["git_commit"] = context.git_commit;
  ctx["pmbench_profile"] = context.profile;
  ctx["pmbench_build_type"] = context.build_type;
  ctx["staging"] = {{"kind", "none"}};
  if (!context.staging_info_json.empty()) {
    try {
      const json info = json::parse(context.staging_info_json);
      // Host and port only: the info file never holds a URL, but keep it that way here too.
      json staging = {{"kind", info.value("kind", "embedded")}};
      for (const char* key : {"host", "port", "pooler_port"}) {
        if (info.contains(key)) staging[key] = info[key];
      }
      ctx["staging"] = staging;
      ctx["postgres"] = {{"server_version", info.value("server_version", "")},
                         {"non_default_settings", info.value("settings", json::object())}};
    } catch (const json::exception& e) {
      throw std::invalid_argument(std::string("malformed staging info: ") + e.what());
    }
  }
  // The last line of defence: no libpq password survives into results.
  return db::RedactSecrets(merged.dump(2)) + "\n";
}

Summary Summarize(const std::string& merged_json) {
  json in;
  try {
    in = json::parse(merged_json);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("not a results file: ") + e.what());
  }
  if (!in.contains("benchmarks")) throw std::invalid_argument("not a results file: no benchmarks");

  // With repetitions, show the median and keep the individual runs out of the way.
  std::set<std::string> has_median;
  for (const auto& b : in["benchmarks"]) {
    if (b.value("aggregate_name", "") == "median") has_median.insert(b.value("run_name", ""));
  }
  // One verdict per bar: a threshold must hold in every repetition (the worst one is shown);
  // a goal is judged on the repetition with the median measurement.
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<json>> bars;
  for (const auto& bar : in.value("pmbench_bars", json::array())) {
    bars[{bar.value("run_name", ""), bar.value("kind", ""), bar.value("expression", "")}].push_back(bar);
  }
  Summary s;
  int shown = 0, passed = 0, met = 0, missed = 0;
  char line[512];
  s.text += "\nSummary (" + in["context"].value("pmbench_profile", "?") + " profile, commit " +
            in["context"].value("git_commit", "?") + ")\n";
  for (const auto& b : in["benchmarks"]) {
    const std::string run = b.value("run_name", b.value("name", "?"));
    const std::string aggregate = b.value("aggregate_name", "");
    if (has_median.count(run) ? aggregate != "median" : !aggregate.empty()) continue;
    ++shown;
    const double ns_per_unit = NsPerUnit(b.value("time_unit", "ns"));
    std::snprintf(line, sizeof line, "  %-60s %10s", b.value("name", "?").c_str(),
                  stats::FormatDuration(b["real_time"].is_number() ? b["real_time"].get<double>() * ns_per_unit : 0).c_str());
    s.text += line;
    if (b.value("error_occurred", false)) {
      ++s.errors;
      s.text += "  ERROR: " + b.value("error_message", "") + "\n";
      continue;
    }
    for (const auto& [key, value] : b.items()) {
      if (!value.is_number() || kQuietCounters.count(key)) continue;
      const bool counter = key.ends_with("_per_s") || key.ends_with("_ms") ||
                           key.ends_with("_ratio") || key.ends_with("_accuracy") ||
                           key.find("_vs_") != std::string::npos || key == "errors" || key == "lost" ||
                           key == "items_per_second" || key == "rows" || key == "retries";
      if (counter) s.text += "  " + key + "=" + Si(value.get<double>());
    }
    s.text += "\n";
  }
  for (auto& [key, list] : bars) {
    const auto& [run, kind, expression] = key;
    const bool threshold = kind == "threshold";
    std::sort(list.begin(), list.end(), [](const json& a, const json& b) {
      return a.value("measured", 0.0) < b.value("measured", 0.0);
    });
    const auto failures = std::count_if(list.begin(), list.end(),
                                        [](const json& b) { return !b.value("pass", false); });
    const auto first_failure = std::find_if(list.begin(), list.end(),
                                            [](const json& b) { return !b.value("pass", false); });
    const bool pass = threshold ? failures == 0 : list[list.size() / 2].value("pass", false);
    const json& shown_bar = threshold && !pass ? *first_failure : list[list.size() / 2];
    std::string note;
    if (list.size() > 1) {
      note = threshold && !pass ? " (failed in " + std::to_string(failures) + " of " : " (median of ";
      note += std::to_string(list.size()) + " runs)";
    }
    (threshold ? (pass ? passed : s.thresholds_failed) : (pass ? met : missed))++;
    std::snprintf(line, sizeof line, "  %-9s %-6s %s: %s%s\n", threshold ? "threshold" : "goal",
                  threshold ? (pass ? "PASS" : "FAIL") : (pass ? "met" : "missed"), run.c_str(),
                  shown_bar.value("message", "").c_str(), note.c_str());
    s.text += line;
  }
  std::snprintf(line, sizeof line,
                "%d benchmarks, %d errors; thresholds: %d passed, %d failed; goals: %d met, %d missed\n",
                shown, s.errors, passed, s.thresholds_failed, met, missed);
  s.text += line;
  return s;
}

}  // namespace pmbench::cli
