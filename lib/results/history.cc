#include "lib/results/history.h"

#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lib/results/results_file.h"
#include "lib/results/scoreboard.h"

namespace pmbench::results {

using nlohmann::json;

namespace {

bool Kept(const std::string& run, const std::string& metric) {
  if (metric == "real_time" || metric == "p95_ms" || metric == "p99_ms" || metric == "success_ratio" ||
      metric == "items_per_second" || metric.ends_with("_per_s")) {
    return true;
  }
  for (const KeyFigure& f : KeyFigures()) {
    if (f.metric == metric && HasPrefix(run, f.benchmark)) return true;
  }
  return false;
}

}  // namespace

std::string HistoryLine(const std::string& results_json) {
  const ResultsFile r = ResultsFile::Parse(results_json, "the results file");
  json metrics = json::object();
  for (const BenchmarkRuns& b : r.benchmarks()) {
    if (b.errored > 0 || b.repetitions.empty()) continue;
    json m = json::object();
    for (const auto& [key, value] : b.repetitions.front().items()) {
      if (!value.is_number() || !Kept(b.run_name, key)) continue;
      if (const auto v = b.Median(key)) m[key] = *v;
    }
    if (!m.empty()) metrics[ShortName(b.run_name)] = m;
  }
  return json{{"commit", r.commit()}, {"date", r.context().value("date", "")}, {"profile", r.profile()},
              {"metrics", metrics}}
      .dump();
}

std::vector<HistoryPoint> ReadHistory(const std::string& text) {
  std::vector<HistoryPoint> out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      const json j = json::parse(line);
      HistoryPoint p{j.at("commit").get<std::string>(), j.value("date", ""), j.value("profile", ""), {}};
      for (const auto& [run, m] : j.at("metrics").items()) {
        for (const auto& [metric, v] : m.items()) p.metrics[run][metric] = v.get<double>();
      }
      out.push_back(std::move(p));
    } catch (const json::exception& e) {
      throw std::invalid_argument("history line " + std::to_string(number) + " is not a history line: " + e.what());
    }
  }
  return out;
}

}  // namespace pmbench::results
