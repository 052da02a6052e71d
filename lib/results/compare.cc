#include "lib/results/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lib/results/gbench_json.h"
#include "lib/results/results_file.h"
#include "lib/stats/significance.h"

namespace pmbench::results {
namespace {

using nlohmann::json;
using stats::Alternative;

// One benchmark's data in one file.
struct Samples {
  std::map<std::string, std::vector<double>> values;  // metric -> one value per repetition
  std::map<std::string, stats::Summary> aggregates;   // metric -> mean, stddev, n
  int errored = 0, runs = 0;                          // repetitions that errored, of all
  std::string error;                                  // the first error's message
};

std::pair<std::map<std::string, Samples>, json> Load(const std::string& text, const char* which) {
  const json doc = ParseBenchmarkJson(text, which);
  std::map<std::string, Samples> out;
  std::map<std::string, std::map<std::string, double>> means, stddevs, ns;
  for (const json& b : doc["benchmarks"]) {
    if (!b.is_object()) continue;
    const std::string run = RunNameOf(b);
    Samples& s = out[run];
    const std::string agg = b.value("aggregate_name", "");
    if (agg.empty()) ++s.runs;
    if (IsErrored(b)) {
      ++s.errored;
      if (s.error.empty()) s.error = b.value("error_message", "error");
      continue;
    }
    const double scale = NsPerUnit(b.value("time_unit", "ns"));
    std::map<std::string, double> metrics;
    for (const auto& [key, value] : b.items()) {
      if (!value.is_number() || !IsMetricKey(key)) continue;
      metrics[key] = value.get<double>() * (key == "real_time" || key == "cpu_time" ? scale : 1);
    }
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

// The robust spread of one side around its own median: 1.4826 x MAD, which equals the
// standard deviation for normal noise but ignores one stalled repetition.
double Spread(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double med = Median(v);
  std::vector<double> dev;
  for (double x : v) dev.push_back(std::fabs(x - med));
  return 1.4826 * Median(dev);
}

// Both sides' spreads pooled, relative to the baseline's median.
double RelativeNoise(const std::vector<double>& base, const std::vector<double>& contender) {
  const double b = Spread(base), n = Spread(contender), med = std::fabs(Median(base));
  const int sides = (base.size() >= 2) + (contender.size() >= 2);
  if (sides == 0 || med == 0) return 0;
  return std::sqrt((b * b + n * n) / sides) / med;
}

double NormalQuantile(double p) {  // Acklam's rational approximation, |error| < 1.2e-9
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549671010243015e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - 0.02425) return -NormalQuantile(1 - p);
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

// Repetitions a side that would decide a change of `effect` noise units: at least enough
// for the test to reach alpha at all, and enough for 90% power (the normal approximation
// of the one-sided t test, scaled by pi/3 for the rank test's efficiency).
int RepetitionsNeeded(double effect, double alpha, size_t have) {
  int n = 2;
  while (stats::SmallestP(static_cast<size_t>(n), static_cast<size_t>(n), Alternative::kGreater) > alpha) ++n;
  if (effect > 0 && std::isfinite(effect)) {
    const double z = NormalQuantile(1 - alpha) + NormalQuantile(0.9);
    const double power_n = std::ceil(M_PI / 3 * 2 * z * z / (effect * effect));
    n = std::max(n, static_cast<int>(std::min(power_n, 1000.0)));
  }
  return std::max(n, static_cast<int>(have) + 1);
}

struct Rule {
  std::regex benchmark, metric;
  std::optional<Direction> direction;
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
        rule.direction = d == "lower" ? Direction::kLower : d == "higher" ? Direction::kHigher : Direction::kInfo;
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
  if (!std::isfinite(change)) return "new";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", change * 100);
  return buf;
}

// The row's verdict with what the reader needs to act on it.
std::string VerdictText(const MetricComparison& m) {
  std::string v = VerdictName(m.verdict);
  if (m.verdict == Verdict::kInconclusive) {
    v += " (" + std::to_string(m.repetitions_needed) + " repetitions a side would decide)";
  }
  if (!m.note.empty() && m.verdict != Verdict::kInconclusive) v += ": " + m.note;
  return v;
}

// The order a reader wants: what fails the gate first.
int Rank(Verdict v) {
  switch (v) {
    case Verdict::kRegressed: return 0;
    case Verdict::kErrored: return 1;
    case Verdict::kRemoved: return 2;
    case Verdict::kMissing: return 3;
    case Verdict::kNotJudged: return 4;
    case Verdict::kInconclusive: return 5;
    case Verdict::kImproved: return 6;
    case Verdict::kAdded: return 7;
    default: return 8;
  }
}

std::vector<const MetricComparison*> Ordered(const Comparison& c, bool all_rows, bool brief = false) {
  std::vector<const MetricComparison*> rows;
  for (const auto& m : c.rows) {
    if (brief && !all_rows && m.verdict == Verdict::kInconclusive) continue;
    if (all_rows || (m.verdict != Verdict::kUnchanged && m.verdict != Verdict::kInfo)) rows.push_back(&m);
  }
  std::stable_sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return Rank(a->verdict) < Rank(b->verdict); });
  return rows;
}

std::string Headline(const Comparison& c) {
  if (c.broken()) {
    return "BROKEN: " + std::to_string(c.count(Verdict::kErrored) + c.count(Verdict::kRemoved) + c.count(Verdict::kMissing)) +
           " benchmark(s) or metric(s) errored, vanished or lost in NEW" +
           (c.regressed() ? "; " + std::to_string(c.count(Verdict::kRegressed)) + " metric(s) regressed" : "");
  }
  if (c.regressed()) return "REGRESSED: " + std::to_string(c.count(Verdict::kRegressed)) + " metric(s)";
  return "no regression";
}

}  // namespace

const char* VerdictName(Verdict v) {
  static const char* kNames[kVerdictCount] = {"regressed", "improved", "unchanged", "inconclusive", "info",
                                              "not judged", "added",   "removed",   "errored",      "missing"};
  return kNames[static_cast<int>(v)];
}

bool Comparison::broken() const {
  if (count(Verdict::kRemoved) > 0 || count(Verdict::kMissing) > 0) return true;
  for (const auto& m : rows) {
    if (m.verdict == Verdict::kErrored && m.contender_n > 0) return true;  // errored in NEW
  }
  return false;
}

namespace {

// Warnings for what makes two runs incomparable: another machine, profile or build.
std::vector<std::string> ContextWarnings(const json& base_ctx, const json& new_ctx) {
  std::vector<std::string> warnings;
  auto warn_if_differs = [&](const std::string& key, const std::string& what) {
    const json a = base_ctx.value(key, json()), b = new_ctx.value(key, json());
    if (a != b) warnings.push_back(what + " differs: " + a.dump() + " vs " + b.dump());
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
  if (staging_kind(base_ctx) != staging_kind(new_ctx)) warnings.push_back("staging kind differs");
  for (const json* ctx : {&base_ctx, &new_ctx}) {
    const std::string type = ctx->value("pmbench_build_type", "");
    if (type == "Debug" || type == "debug") warnings.push_back("DEBUG BUILD: its times say nothing about release performance");
  }
  return warnings;
}

// The row of a benchmark that cannot be compared metric by metric (removed, errored), or
// nullopt when it can.
std::optional<MetricComparison> WholeBenchmarkRow(const std::string& run, const Samples& b, const Samples* n) {
  MetricComparison whole;
  whole.benchmark = run;
  if (!n) {
    whole.verdict = Verdict::kRemoved;
    whole.note = "in BASE, not in NEW";
  } else if (n->errored > 0) {
    whole.verdict = Verdict::kErrored;
    whole.contender_n = static_cast<size_t>(n->errored);
    whole.note = "errored in " + std::to_string(n->errored) + " of " + std::to_string(std::max(n->runs, n->errored)) +
                 " NEW repetitions: " + n->error;
  } else if (b.errored > 0 && b.values.empty() && b.aggregates.empty()) {
    whole.verdict = Verdict::kErrored;
    whole.note = "errored in BASE (" + b.error + "); nothing to compare with";
  } else {
    return std::nullopt;
  }
  return whole;
}

// Measures one metric on both sides: medians and Mann-Whitney U over repetitions, or
// means and Welch's t over aggregates. False when NEW lacks it. Sets p_worse/p_better.
bool Measure(MetricComparison& m, const Samples& b, const Samples& n, double& p_worse, double& p_better) {
  const auto bv = b.values.find(m.metric);
  const auto nv = n.values.find(m.metric);
  const auto ba = b.aggregates.find(m.metric);
  const auto na = n.aggregates.find(m.metric);
  // Which way is worse for this metric: new larger (lower is better) or smaller.
  const Alternative worse = m.direction == Direction::kHigher ? Alternative::kLess : Alternative::kGreater;
  const Alternative better = worse == Alternative::kLess ? Alternative::kGreater : Alternative::kLess;
  if (bv != b.values.end() && nv != n.values.end()) {
    m.method = "u";
    p_worse = stats::MannWhitneyU(bv->second, nv->second, worse).p_value;
    p_better = stats::MannWhitneyU(bv->second, nv->second, better).p_value;
    m.base = Median(bv->second);
    m.contender = Median(nv->second);
    m.noise = RelativeNoise(bv->second, nv->second);
    m.base_n = bv->second.size();
    m.contender_n = nv->second.size();
    return true;
  }
  if (ba != b.aggregates.end() && na != n.aggregates.end()) {
    m.method = "welch";
    p_worse = stats::WelchT(ba->second, na->second, worse).p_value;
    p_better = stats::WelchT(ba->second, na->second, better).p_value;
    m.base = ba->second.mean;
    m.contender = na->second.mean;
    m.noise = m.base != 0 ? std::sqrt((ba->second.stddev * ba->second.stddev + na->second.stddev * na->second.stddev) / 2) /
                                std::fabs(m.base)
                          : 0;
    m.base_n = static_cast<size_t>(ba->second.n);
    m.contender_n = static_cast<size_t>(na->second.n);
    return true;
  }
  return false;
}

// The verdict: regressed or improved only when the change is past the tolerance in the
// metric's direction and significant one-sided.
void Judge(MetricComparison& m, double p_worse, double p_better, const CompareOptions& options) {
  if (m.direction == Direction::kInfo) {
    m.verdict = Verdict::kInfo;
    return;
  }
  if (m.direction == Direction::kUnknown) {
    m.verdict = Verdict::kNotJudged;
    m.note = "no direction for this name (benchmarks/README.md; or give one in results/policy.json)";
    return;
  }
  const double signed_change = (m.direction == Direction::kHigher ? 1 : -1) * m.change;  // > 0: better
  const bool got_worse = signed_change < -m.tolerance, got_better = signed_change > m.tolerance;
  m.p_value = signed_change < 0 ? p_worse : p_better;
  if (got_worse && p_worse <= options.alpha) {
    m.verdict = Verdict::kRegressed;
  } else if (got_better && p_better <= options.alpha) {
    m.verdict = Verdict::kImproved;
  } else if (got_worse || got_better) {
    m.verdict = Verdict::kInconclusive;
    const double effect = m.noise > 0 ? std::fabs(m.change) / m.noise : 0;
    m.repetitions_needed = RepetitionsNeeded(effect, options.alpha, std::min(m.base_n, m.contender_n));
  } else {
    m.verdict = Verdict::kUnchanged;
  }
}

}  // namespace

Comparison Compare(const std::string& base_json, const std::string& contender_json, const CompareOptions& options) {
  const auto [base, base_ctx] = Load(base_json, "baseline");
  const auto [contender, new_ctx] = Load(contender_json, "contender");
  const auto rules = ParsePolicy(options.policy_json);
  Comparison c;
  c.warnings = ContextWarnings(base_ctx, new_ctx);

  double log_sum = 0;
  size_t timed = 0;
  for (const auto& [run, b] : base) {
    const auto it = contender.find(run);
    if (auto whole = WholeBenchmarkRow(run, b, it == contender.end() ? nullptr : &it->second)) {
      c.rows.push_back(*whole);
      continue;
    }
    const Samples& n = it->second;
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
      double p_worse = 1, p_better = 1;
      if (!Measure(m, b, n, p_worse, p_better)) {
        m.verdict = Verdict::kMissing;
        m.note = "NEW's run has no " + metric;
        c.rows.push_back(m);
        continue;
      }
      m.change = m.base != 0 ? m.contender / m.base - 1 : (m.contender == 0 ? 0 : INFINITY);
      m.tolerance = std::max(tolerance, options.noise_factor * m.noise);
      if (metric == "real_time" && m.base > 0 && m.contender > 0) {
        log_sum += std::log(m.contender / m.base);
        ++timed;
      }
      Judge(m, p_worse, p_better, options);
      c.rows.push_back(m);
    }
  }
  for (const auto& [run, n] : contender) {
    if (base.count(run)) continue;
    MetricComparison m;
    m.benchmark = run;
    m.verdict = n.errored ? Verdict::kErrored : Verdict::kAdded;
    m.contender_n = static_cast<size_t>(n.errored);
    if (n.errored) m.note = "errored in " + std::to_string(n.errored) + " NEW repetitions: " + n.error;
    c.rows.push_back(m);
  }
  for (const auto& m : c.rows) ++c.counts[static_cast<int>(m.verdict)];
  c.time_geomean = timed ? std::exp(log_sum / static_cast<double>(timed)) : 1;
  return c;
}

std::string SummaryLine(const Comparison& c) {
  std::string s;
  for (int v = 0; v < kVerdictCount; ++v) {
    if (v == static_cast<int>(Verdict::kInfo)) continue;
    if (!s.empty()) s += ", ";
    s += std::to_string(c.counts[v]) + " " + VerdictName(static_cast<Verdict>(v));
  }
  char tail[128];
  std::snprintf(tail, sizeof tail, "; time geomean %.3fx over %zu matched benchmarks", c.time_geomean, c.matched);
  return s + tail;
}

std::string FormatText(const Comparison& c, const FormatOptions& options) {
  std::string out = Headline(c) + "\n";
  for (const auto& w : c.warnings) out += "warning: " + w + "\n";
  const auto rows = Ordered(c, options.all_rows, options.brief);
  size_t width = 9;
  for (const auto* m : rows) width = std::max(width, m->benchmark.size());
  width = std::min<size_t>(width, 70);
  char line[1024];
  if (!rows.empty()) {
    std::snprintf(line, sizeof line, "%-*s %-22s %12s %12s %8s %8s %7s  %s\n", static_cast<int>(width), "benchmark", "metric",
                  "old", "new", "change", "p", "noise", "verdict");
    out += line;
  }
  for (const auto* m : rows) {
    const char* paint = "";
    if (options.color && (m->verdict == Verdict::kRegressed || m->verdict == Verdict::kErrored ||
                          m->verdict == Verdict::kRemoved || m->verdict == Verdict::kMissing)) {
      paint = "\033[31m";
    }
    if (options.color && m->verdict == Verdict::kImproved) paint = "\033[32m";
    const bool v = m->has_values();
    std::snprintf(line, sizeof line, "%s%-*s %-22s %12s %12s %8s %8s %7s  %s%s\n", paint, static_cast<int>(width),
                  m->benchmark.substr(0, width).c_str(), m->metric.substr(0, 22).c_str(), v ? Value(*m, m->base).c_str() : "",
                  v ? Value(*m, m->contender).c_str() : "", v ? Percent(m->change).c_str() : "",
                  v && m->direction != Direction::kInfo ? Num(m->p_value).c_str() : "",
                  v ? Percent(m->noise).substr(1).c_str() : "", VerdictText(*m).c_str(), *paint ? "\033[0m" : "");
    out += line;
  }
  if (options.brief && !options.all_rows && c.count(Verdict::kInconclusive) > 0) {
    out += std::to_string(c.count(Verdict::kInconclusive)) +
           " inconclusive rows not listed: changes the repetitions cannot decide (pmbench compare lists them, "
           "with the repetitions each would need)\n";
  }
  return out + SummaryLine(c) + "\n";
}

std::string FormatMarkdown(const Comparison& c) {
  std::string out = c.broken()      ? "### :x: Benchmarks broke\n\n"
                    : c.regressed() ? "### :x: Benchmarks regressed\n\n"
                                    : "### :white_check_mark: No benchmark regressed\n\n";
  out += Headline(c) + ".\n\n";
  for (const auto& w : c.warnings) out += "> **warning:** " + w + "\n";
  if (!c.warnings.empty()) out += "\n";
  const auto rows = Ordered(c, false);
  if (!rows.empty()) {
    out += "| benchmark | metric | old | new | change | p | noise | verdict |\n|---|---|---:|---:|---:|---:|---:|---|\n";
  }
  for (const auto* m : rows) {
    const bool v = m->has_values();
    out += "| `" + m->benchmark + "` | " + m->metric + " | " + (v ? Value(*m, m->base) : "") + " | " +
           (v ? Value(*m, m->contender) : "") + " | " + (v ? Percent(m->change) : "") + " | " +
           (v ? Num(m->p_value) : "") + " | " + (v ? Percent(m->noise).substr(1) : "") + " | " + VerdictText(*m) + " |\n";
  }
  return out + "\n" + SummaryLine(c) + ".\n";
}

std::string FormatJson(const Comparison& c) {
  json rows = json::array();
  for (const auto& m : c.rows) {
    rows.push_back({{"benchmark", m.benchmark}, {"metric", m.metric}, {"direction", DirectionName(m.direction)},
                    {"old", m.base}, {"new", m.contender}, {"change", std::isfinite(m.change) ? json(m.change) : json()},
                    {"p_value", m.p_value}, {"noise", m.noise}, {"tolerance", m.tolerance}, {"method", m.method},
                    {"old_n", m.base_n}, {"new_n", m.contender_n}, {"repetitions_needed", m.repetitions_needed},
                    {"verdict", VerdictName(m.verdict)}, {"note", m.note}});
  }
  json counts = json::object();
  for (int v = 0; v < kVerdictCount; ++v) counts[VerdictName(static_cast<Verdict>(v))] = c.counts[v];
  return json{{"format", "pmbench-compare-v2"}, {"warnings", c.warnings}, {"rows", rows}, {"counts", counts},
              {"time_geomean", c.time_geomean}, {"matched", c.matched}, {"regressed", c.regressed()},
              {"broken", c.broken()}, {"exit_code", c.ExitCode()}}
             .dump(2) +
         "\n";
}

}  // namespace pmbench::results
