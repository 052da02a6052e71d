#include "lib/results/gbench_json.h"

#include <ctime>
#include <regex>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lib/db/database_url.h"

namespace pmbench::results {

using nlohmann::json;

std::string WithoutNaN(const std::string& text) {
  static const std::regex kNonFinite(R"((:\s*)-?(NaN|nan|inf|Infinity)\b)");
  return std::regex_replace(text, kNonFinite, "$1null");
}

double NsPerUnit(const std::string& unit) {
  return unit == "s" ? 1e9 : unit == "ms" ? 1e6 : unit == "us" ? 1e3 : 1;
}

json ParseBenchmarkJson(const std::string& text, const std::string& what) {
  json doc;
  try {
    doc = json::parse(WithoutNaN(text));
  } catch (const json::exception& e) {
    throw std::invalid_argument(what + " is not JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
    throw std::invalid_argument(what + " is not Google Benchmark JSON (no \"benchmarks\" array)");
  }
  return doc;
}

json BarJson(const std::string& run_name, const stats::BarResult& r) {
  return {{"run_name", run_name},
          {"kind", r.kind == stats::Bar::Kind::kThreshold ? "threshold" : "goal"},
          {"metric", r.metric},
          {"expression", r.expression},
          {"pass", r.pass},
          {"measured", r.measured},
          {"was_measured", r.was_measured},
          {"message", r.message}};
}

std::string WriteRunJson(const json& context, const std::vector<RunEntry>& entries,
                         const std::vector<stats::BarResult>& bars) {
  return WriteRunJson(context, entries, bars, json::array());
}

std::string WriteRunJson(const json& context, const std::vector<RunEntry>& entries,
                         const std::vector<stats::BarResult>& bars, const json& series) {
  json out;
  out["context"] = context;
  if (!out["context"].contains("date")) {
    char buf[32];
    const std::time_t t = std::time(nullptr);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    out["context"]["date"] = buf;
  }
  out["benchmarks"] = json::array();
  for (const RunEntry& e : entries) {
    json b = {{"name", e.name}, {"run_name", e.name}, {"run_type", "iteration"}, {"repetitions", 1},
              {"repetition_index", 0}, {"threads", 1}, {"iterations", 1}, {"real_time", e.seconds * 1e3},
              {"cpu_time", e.seconds * 1e3}, {"time_unit", "ms"}};
    for (const auto& [k, v] : e.counters) b[k] = v;
    out["benchmarks"].push_back(std::move(b));
  }
  out["pmbench_bars"] = json::array();
  const std::string run = entries.empty() ? "" : entries.front().name;
  for (const auto& r : bars) out["pmbench_bars"].push_back(BarJson(run, r));
  if (!series.empty()) out["pmbench_series"] = series;
  return db::RedactSecrets(out.dump(2)) + "\n";
}

}  // namespace pmbench::results
