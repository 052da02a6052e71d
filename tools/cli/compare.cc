#include "tools/cli/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lib/stats/significance.h"
#include "tools/cli/results.h"

namespace pmbench::cli {
namespace {

using nlohmann::json;

// Keys of a Google Benchmark run that are not metrics.
const std::set<std::string> kNotMetrics = {
    "name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "iterations",
    "real_time", "cpu_time", "time_unit", "family_index", "per_family_instance_index",
    "aggregate_name", "aggregate_unit", "error_occurred", "error_message", "label", "pmbench_bench",
    "big_o", "rms", "complexity_n", "skipped"};

// One benchmark's data in one file.
struct Samples {
  std::map<std::string, std::vector<double>> values;  // metric -> one value per repetition
  std::map<std::string, stats::Summary> aggregates;   // metric -> mean, stddev, n
  bool errored = false;
  std::string error;
};

std::string RunNameOf(const json& b) {
  if (b.contains("run_name") && b["run_name"].is_string()) return b["run_name"];
  std::string name = b.value("name", "");
  const std::string agg = b.value("aggregate_name", "");
  if (!agg.empty() && name.ends_with("_" + agg)) name.resize(name.size() - agg.size() - 1);
  return name;
}

std::pair<std::map<std::string, Samples>, json> Load(const std::string& text, const char* which) {
  json doc;
  try {
    doc = json::parse(WithoutNaN(text));
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string(which) + " is not JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
    throw std::invalid_argument(std::string(which) + " is not Google Benchmark JSON (no \"benchmarks\" array)");
  }
  std::map<std::string, Samples> out;
  std::map<std::string, std::map<std::string, double>> means, stddevs, ns;
  for (const json& b : doc["benchmarks"]) {
    if (!b.is_object()) continue;
    const std::string run = RunNameOf(b);
    Samples& s = out[run];
    if (b.value("error_occurred", false) || (b.contains("skipped") && b["skipped"].is_boolean() && b["skipped"])) {
      s.errored = true;
      s.error = b.value("error_message", "");
      continue;
    }
    const double scale = NsPerUnit(b.value("time_unit", "ns"));
    std::map<std::string, double> metrics;
    for (const auto& [key, value] : b.items()) {
      if (!value.is_number()) continue;
      if (key == "real_time" || key == "cpu_time") {
        metrics[key] = value.get<double>() * scale;
      } else if (!kNotMetrics.count(key)) {
        metrics[key] = value.get<double>();
      }
    }
    const std::string agg = b.value("aggregate_name", "");
    if (agg.empty()) {
      for (const auto& [k, v] : metrics) s.values[k].push_back(v);
    } else if (agg == "mean" || agg == "stddev") {
      for (const auto& [k, v] : metrics) (agg == "mean" ? means : stddevs)[run][k] = v;
      for (const auto& [k, v] : metrics) ns[run][k] = b.value("repetitions", 0.0);
    }
  }
  for (const auto& [run, m] : means) {
    for (const auto& [k, mean] : m) {
      const auto sd = stddevs[run].find(k);
      out[run].aggregates[k] = {mean, sd == stddevs[run].end() ? 0.0 : sd->second, ns[run][k]};
    }
  }
  return {out, doc.value("context", json::object())};
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The coefficient of variation, estimated robustly (1.4826 x MAD / median, which equals
// stddev / mean for normal noise): one stalled run on a shared machine must not widen the
// tolerance until a real regression hides inside it.
double Cv(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double med = Median(v);
  if (med == 0) return 0;
  std::vector<double> dev;
  for (double x : v) dev.push_back(std::fabs(x - med));
  return 1.4826 * Median(dev) / std::fabs(med);
}

struct Rule {
  std::regex benchmark, metric;
  std::optional<int> direction;
  std::optional<double> tolerance;
  bool ignore = false;
};

std::vector<Rule> ParsePolicy(const std::string& text) {
  std::vector<Rule> rules;
  if (text.empty()) return rules;
  try {
    const json p = json::parse(text);
    for (const json& r : p.at("rules")) {
      Rule rule{std::regex(r.value("benchmark", ".*")), std::regex(r.value("metric", ".*")), {}, {}, r.value("ignore", false)};
      if (r.contains("direction")) {
        const std::string d = r["direction"];
        if (d != "lower" && d != "higher" && d != "none") throw std::invalid_argument("direction is lower, higher or none");
        rule.direction = d == "lower" ? -1 : d == "higher" ? 1 : 0;
      }
      if (r.contains("tolerance")) rule.tolerance = r["tolerance"].get<double>();
      rules.push_back(std::move(rule));
    }
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("bad policy: ") + e.what());
  }
  return rules;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string TimeText(double ns) {
  char buf[32];
  const double a = std::fabs(ns);
  if (a >= 1e9) std::snprintf(buf, sizeof buf, "%.4g s", ns / 1e9);
  else if (a >= 1e6) std::snprintf(buf, sizeof buf, "%.4g ms", ns / 1e6);
  else if (a >= 1e3) std::snprintf(buf, sizeof buf, "%.4g us", ns / 1e3);
  else std::snprintf(buf, sizeof buf, "%.4g ns", ns);
  return buf;
}

std::string Value(const MetricComparison& m, double v) {
  return m.metric == "real_time" || m.metric == "cpu_time" ? TimeText(v) : Num(v);
}

std::string Percent(double change) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", change * 100);
  return buf;
}

std::string SummaryLine(const Comparison& c) {
  char line[256];
  std::snprintf(line, sizeof line,
                "%d regressed, %d improved, %d unchanged, %d inconclusive, %d added, %d removed, %d errored; "
                "time geomean %.3fx over %zu matched benchmarks",
                c.counts[0], c.counts[1], c.counts[2], c.counts[3], c.counts[5], c.counts[6], c.counts[7],
                c.time_geomean, c.matched);
  return line;
}

}  // namespace

const char* VerdictName(Verdict v) {
  static const char* kNames[] = {"regressed", "improved", "unchanged", "inconclusive", "info", "added", "removed", "errored"};
  return kNames[static_cast<int>(v)];
}

int DirectionOf(const std::string& m) {
  if (m == "real_time" || m == "cpu_time" || m == "errors" || m == "lost" || m == "rejected" ||
      m == "thresholds_failed" || m == "goals_missed" || m.ends_with("_floor_ratio")) {
    return -1;
  }
  if (m.ends_with("_per_s") || m == "items_per_second" || m == "bytes_per_second" || m.ends_with("_ratio") ||
      m.ends_with("_accuracy") || m.find("_vs_") != std::string::npos) {
    return 1;
  }
  if (m.ends_with("_ns") || m.ends_with("_us") || m.ends_with("_ms") || m.ends_with("_s")) return -1;
  return 0;
}

Comparison Compare(const std::string& base_json, const std::string& contender_json, const CompareOptions& options) {
  const auto [base, base_ctx] = Load(base_json, "baseline");
  const auto [contender, new_ctx] = Load(contender_json, "contender");
  const auto rules = ParsePolicy(options.policy_json);
  Comparison c;

  auto warn_if_differs = [&](const std::string& key, const std::string& what) {
    const json a = base_ctx.value(key, json()), b = new_ctx.value(key, json());
    if (a != b) c.warnings.push_back(what + " differs: " + a.dump() + " vs " + b.dump());
  };
  warn_if_differs("host_name", "host");
  warn_if_differs("num_cpus", "CPU count");
  warn_if_differs("mhz_per_cpu", "CPU MHz");
  warn_if_differs("cpu_scaling_enabled", "CPU scaling");
  warn_if_differs("pmbench_profile", "profile");
  warn_if_differs("pmbench_build_type", "build type");
  auto staging_kind = [](const json& ctx) {
    const json s = ctx.value("staging", json::object());
    return s.is_object() ? s.value("kind", "") : "";
  };
  if (staging_kind(base_ctx) != staging_kind(new_ctx)) {
    c.warnings.push_back("staging kind differs");
  }
  for (const json* ctx : {&base_ctx, &new_ctx}) {
    const std::string type = ctx->value("pmbench_build_type", "");
    if (type == "Debug" || type == "debug") c.warnings.push_back("DEBUG BUILD: its times say nothing about release performance");
  }

  double log_sum = 0;
  for (const auto& [run, b] : base) {
    const auto it = contender.find(run);
    if (it == contender.end()) {
      c.rows.push_back({run, "", 0, 0, 0, 0, 1, 0, "", 0, 0, Verdict::kRemoved});
      continue;
    }
    const Samples& n = it->second;
    if (b.errored || n.errored) {
      c.rows.push_back({run, b.errored ? b.error : n.error, 0, 0, 0, 0, 1, 0, "", 0, 0, Verdict::kErrored});
      continue;
    }
    ++c.matched;
    std::set<std::string> metrics;
    for (const auto& [k, v] : b.values) metrics.insert(k);
    for (const auto& [k, v] : b.aggregates) metrics.insert(k);
    for (const std::string& metric : metrics) {
      MetricComparison m;
      m.benchmark = run;
      m.metric = metric;
      m.direction = DirectionOf(metric);
      double tolerance = options.threshold;
      bool ignore = false;
      for (const Rule& r : rules) {
        if (std::regex_search(run, r.benchmark) && std::regex_search(metric, r.metric)) {
          if (r.direction) m.direction = *r.direction;
          if (r.tolerance) tolerance = *r.tolerance;
          ignore = r.ignore;
          break;
        }
      }
      if (ignore) continue;
      const auto bv = b.values.find(metric);
      const auto nv = n.values.find(metric);
      const auto ba = b.aggregates.find(metric);
      const auto na = n.aggregates.find(metric);
      const bool have_samples = bv != b.values.end() && nv != n.values.end();
      if (have_samples && bv->second.size() >= 2 && nv->second.size() >= 2) {
        const auto r = stats::MannWhitneyU(bv->second, nv->second);
        m.p_value = r.p_value;
        m.method = r.exact ? "u-exact" : "u-normal";
        m.base = Median(bv->second);
        m.contender = Median(nv->second);
        m.tolerance = std::max(tolerance, 2 * Cv(bv->second));
        m.base_n = bv->second.size();
        m.contender_n = nv->second.size();
      } else if (ba != b.aggregates.end() && na != n.aggregates.end() && ba->second.n >= 2 && na->second.n >= 2) {
        m.p_value = stats::WelchT(ba->second, na->second).p_value;
        m.method = "welch";
        m.base = ba->second.mean;
        m.contender = na->second.mean;
        const double cv = ba->second.mean != 0 ? ba->second.stddev / std::fabs(ba->second.mean) : 0;
        m.tolerance = std::max(tolerance, 2 * cv);
        m.base_n = static_cast<size_t>(ba->second.n);
        m.contender_n = static_cast<size_t>(na->second.n);
      } else if (have_samples) {
        m.method = "tolerance-only";
        m.base = Median(bv->second);
        m.contender = Median(nv->second);
        m.tolerance = tolerance;
        m.p_value = 0;  // one sample a side: the tolerance alone decides
        m.base_n = bv->second.size();
        m.contender_n = nv->second.size();
      } else {
        continue;  // the contender lacks this metric
      }
      m.change = m.base != 0 ? m.contender / m.base - 1 : (m.contender == 0 ? 0 : INFINITY);
      const double signed_change = m.direction * m.change;  // > 0: better
      const bool significant = m.p_value < options.alpha;
      if (m.direction == 0) {
        m.verdict = Verdict::kInfo;
      } else if (significant && signed_change < -m.tolerance) {
        m.verdict = Verdict::kRegressed;
      } else if (significant && signed_change > m.tolerance) {
        m.verdict = Verdict::kImproved;
      } else if (!significant && std::fabs(m.change) > m.tolerance) {
        m.verdict = Verdict::kInconclusive;
      } else {
        m.verdict = Verdict::kUnchanged;
      }
      if (metric == "real_time" && m.base > 0 && m.contender > 0) log_sum += std::log(m.contender / m.base);
      c.rows.push_back(m);
    }
  }
  for (const auto& [run, n] : contender) {
    if (!base.count(run)) c.rows.push_back({run, "", 0, 0, 0, 0, 1, 0, "", 0, 0, n.errored ? Verdict::kErrored : Verdict::kAdded});
  }
  for (const auto& m : c.rows) ++c.counts[static_cast<int>(m.verdict)];
  c.time_geomean = c.matched ? std::exp(log_sum / static_cast<double>(c.matched)) : 1;
  return c;
}

std::string FormatText(const Comparison& c, bool color) {
  std::string out;
  for (const auto& w : c.warnings) out += "warning: " + w + "\n";
  size_t width = 9;
  for (const auto& m : c.rows) width = std::max(width, m.benchmark.size());
  width = std::min<size_t>(width, 70);
  char line[512];
  std::snprintf(line, sizeof line, "%-*s %-18s %12s %12s %8s %8s  %s\n", static_cast<int>(width), "benchmark",
                "metric", "old", "new", "change", "p", "verdict");
  out += line;
  for (const auto& m : c.rows) {
    const char* paint = "";
    if (color && m.verdict == Verdict::kRegressed) paint = "\033[31m";
    if (color && m.verdict == Verdict::kImproved) paint = "\033[32m";
    const bool has_values = !m.method.empty();
    std::string verdict = VerdictName(m.verdict);
    if (m.method == "tolerance-only" && m.direction != 0) verdict += " (1 sample a side: tolerance only)";
    std::snprintf(line, sizeof line, "%s%-*s %-18s %12s %12s %8s %8s  %s%s\n", paint, static_cast<int>(width),
                  m.benchmark.substr(0, width).c_str(), m.metric.substr(0, 18).c_str(),
                  has_values ? Value(m, m.base).c_str() : "", has_values ? Value(m, m.contender).c_str() : "",
                  has_values ? Percent(m.change).c_str() : "",
                  has_values && m.method != "tolerance-only" ? Num(m.p_value).c_str() : "", verdict.c_str(),
                  *paint ? "\033[0m" : "");
    out += line;
  }
  return out + SummaryLine(c) + "\n";
}

std::string FormatMarkdown(const Comparison& c) {
  std::string out = c.regressed() ? "### :x: Benchmarks regressed\n\n" : "### :white_check_mark: No benchmark regressed\n\n";
  for (const auto& w : c.warnings) out += "> **warning:** " + w + "\n";
  if (!c.warnings.empty()) out += "\n";
  out += "| benchmark | metric | old | new | change | p | verdict |\n|---|---|---:|---:|---:|---:|---|\n";
  for (const auto& m : c.rows) {
    if (m.verdict == Verdict::kUnchanged || m.verdict == Verdict::kInfo) continue;  // the table shows what moved
    const bool has_values = !m.method.empty();
    out += "| `" + m.benchmark + "` | " + m.metric + " | " + (has_values ? Value(m, m.base) : "") + " | " +
           (has_values ? Value(m, m.contender) : "") + " | " + (has_values ? Percent(m.change) : "") + " | " +
           (has_values && m.method != "tolerance-only" ? Num(m.p_value) : "") + " | " + VerdictName(m.verdict) + " |\n";
  }
  return out + "\n" + SummaryLine(c) + ".\n";
}

std::string FormatJson(const Comparison& c) {
  json rows = json::array();
  for (const auto& m : c.rows) {
    rows.push_back({{"benchmark", m.benchmark}, {"metric", m.metric}, {"direction", m.direction},
                    {"old", m.base}, {"new", m.contender}, {"change", std::isfinite(m.change) ? json(m.change) : json()},
                    {"p_value", m.p_value}, {"tolerance", m.tolerance}, {"method", m.method},
                    {"old_n", m.base_n}, {"new_n", m.contender_n}, {"verdict", VerdictName(m.verdict)}});
  }
  json counts = json::object();
  for (int v = 0; v < 8; ++v) counts[VerdictName(static_cast<Verdict>(v))] = c.counts[v];
  return json{{"format", "pmbench-compare-v1"}, {"warnings", c.warnings}, {"rows", rows}, {"counts", counts},
              {"time_geomean", c.time_geomean}, {"matched", c.matched}, {"regressed", c.regressed()}}
             .dump(2) + "\n";
}

}  // namespace pmbench::cli
