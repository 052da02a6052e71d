#include "tools/cli/load_common.h"

#include <cmath>
#include <ctime>
#include <iostream>
#include <stdexcept>

#include "lib/stats/interval_series.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {

double ParseDuration(const std::string& name, const std::string& text) {
  try {
    return load::ParseSeconds(text);
  } catch (const std::invalid_argument&) {
    throw UsageError("--" + name + " takes a duration like 30, 30s or 2m, not '" + text + "'");
  }
}

const char* const kShapeUsage =
    R"(  --stage LIST            k6 stages instead of --duration: '30s:100,1m:1000,30s:0' (each
                          stage moves linearly to its target rate or users over its time)
  --spike                 a spike over --duration: 30% at the level, 20% at x10, the rest
                          back at the level; the result's recovery_s is the time after the
                          spike until p95 is back under its SLA for good
)";

const char* const kMetricsUsage =
    "  --metrics-listen H:P     serve Prometheus metrics at http://H:P/metrics while it runs (port 0: a free one)\n";

std::unique_ptr<MetricsEndpoint> ServeMetrics(const Flags& flags, const std::string& command) {
  if (!flags.Has("metrics-listen")) return nullptr;
  auto m = std::make_unique<MetricsEndpoint>();
  try {
    m->exporter = std::make_unique<metrics::Exporter>(m->registry, flags.Get("metrics-listen", ""));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--metrics-listen: ") + e.what());
  }
  m->exporter->Start();
  std::cerr << command << ": metrics on http://" << m->exporter->host() << ":" << m->exporter->port() << "/metrics\n";
  return m;
}

load::Shape ParseShape(const Flags& flags, double level) {
  const int shapes = flags.Has("stage") + flags.Has("spike") + flags.Has("ramp-up");
  if (shapes > 1) throw UsageError("--stage, --spike and --ramp-up are different shapes: give one");
  if (flags.Has("stage")) {
    if (flags.Has("duration")) throw UsageError("--stage sets the duration: drop --duration");
    try {
      return load::ParseStages(flags.Get("stage", ""));
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--stage: ") + e.what());
    }
  }
  const double duration = ParseDuration("duration", flags.Get("duration", "30s"));
  if (!(duration > 0)) throw UsageError("--duration must be > 0");
  if (flags.Has("spike")) return load::SpikeShape(level, duration);
  return load::ConstantShape(level, duration, ParseDuration("ramp-up", flags.Get("ramp-up", "0")));
}

nlohmann::json SeriesJson(const std::string& base, const load::LoadResult& r) {
  nlohmann::json out = nlohmann::json::array();
  const auto add = [&](const std::string& name, const load::KindResult& k) {
    out.push_back({{"run_name", name}, {"metric", "latency"}, {"log", nlohmann::json::parse(k.series.ToJson())}});
  };
  add(base, r.total);
  for (const auto& k : r.kinds) add(base + "/" + k.name, k);
  return out;
}

std::optional<double> RecoverySeconds(const load::Shape& shape, const load::KindResult& k, double limit_ns) {
  if (!shape.spike_end_s) return std::nullopt;
  const double step = k.series.interval_s();
  const auto from = static_cast<size_t>(std::ceil(*shape.spike_end_s / step - 1e-9));
  const auto at = stats::RecoveredAt(k.series, from, 95, limit_ns);
  if (!at) return std::nullopt;
  return std::max(0.0, static_cast<double>(*at) * step - *shape.spike_end_s);
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
