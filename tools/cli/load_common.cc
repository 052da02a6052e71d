#include "tools/cli/load_common.h"

#include <cmath>
#include <ctime>
#include <iostream>
#include <stdexcept>

#include "tools/cli/flags.h"

namespace pmbench::cli {

double ParseDuration(const std::string& name, const std::string& text) {
  double unit = 1;
  std::string number = text;
  if (text.ends_with("ms")) {
    unit = 1e-3;
    number = text.substr(0, text.size() - 2);
  } else if (text.ends_with("s")) {
    number = text.substr(0, text.size() - 1);
  } else if (text.ends_with("m")) {
    unit = 60;
    number = text.substr(0, text.size() - 1);
  } else if (text.ends_with("h")) {
    unit = 3600;
    number = text.substr(0, text.size() - 1);
  }
  const auto v = ParseFinite(number);
  if (!v || *v < 0) throw UsageError("--" + name + " takes a duration like 30, 30s or 2m, not '" + text + "'");
  return *v * unit;
}

std::optional<double> ParseFinite(const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used == 0 || used != text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::vector<stats::Bar> ParseThresholds(const Flags& flags, std::string_view default_metric,
                                        const std::vector<std::string>& valid) {
  std::vector<stats::Bar> bars;
  try {
    for (const auto& t : flags.GetAll("threshold")) bars.push_back(stats::Bar::Parse(t, default_metric));
    stats::CheckBarMetrics(bars, valid);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--threshold: ") + e.what());
  }
  return bars;
}

std::vector<stats::BarResult> EvaluateThresholds(const std::vector<stats::Bar>& bars,
                                                 const std::map<std::string, stats::Observed>& observed) {
  const auto results = stats::EvaluateBars(bars, observed);
  for (const auto& r : results) {
    std::cerr << "  " << (r.pass ? "ok    " : "FAILED") << " " << r.metric << ":" << r.expression << "  (" << r.message
              << ")\n";
  }
  return results;
}

bool AllPass(const std::vector<stats::BarResult>& results) {
  for (const auto& r : results) {
    if (!r.pass) return false;
  }
  return true;
}

std::vector<std::pair<std::string, double>> KindCounters(const load::KindResult& k, double seconds,
                                                         std::optional<double> offered_per_s) {
  std::vector<std::pair<std::string, double>> c;
  for (const auto& [prefix, h] : {std::pair<std::string, const stats::LatencyHistogram*>{"", &k.latency},
                                  {"service_", &k.service}}) {
    c.emplace_back(prefix + "p50_ms", h->Percentile(50) / 1e6);
    c.emplace_back(prefix + "p95_ms", h->Percentile(95) / 1e6);
    c.emplace_back(prefix + "p99_ms", h->Percentile(99) / 1e6);
    c.emplace_back(prefix + "max_ms", static_cast<double>(h->max()) / 1e6);
    c.emplace_back(prefix + "mean_ms", h->mean() / 1e6);
  }
  c.emplace_back("ok", static_cast<double>(k.ok));
  c.emplace_back("failed", static_cast<double>(k.failed));
  c.emplace_back("dropped", static_cast<double>(k.dropped));
  c.emplace_back("unfinished", static_cast<double>(k.unfinished));
  if (const auto s = k.success_ratio()) c.emplace_back("success_ratio", *s);
  c.emplace_back("achieved_requests_per_s", seconds > 0 ? static_cast<double>(k.ok) / seconds : 0);
  if (offered_per_s) c.emplace_back("offered_requests_per_s", *offered_per_s);
  return c;
}

std::string Now() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void WriteResult(const Flags& flags, const std::string& text) {
  if (flags.Has("out")) {
    WriteFileAtomically(flags.Get("out", ""), text);
  } else {
    std::cout << text;
  }
}

}  // namespace pmbench::cli
