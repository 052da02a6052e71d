#include "lib/results/results_file.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <tuple>

#include "lib/results/gbench_json.h"

namespace pmbench::results {

using nlohmann::json;

std::string RunNameOf(const json& b) {
  if (b.contains("run_name") && b["run_name"].is_string()) return b["run_name"];
  std::string name = b.value("name", "");
  const std::string agg = b.value("aggregate_name", "");
  if (!agg.empty() && name.ends_with("_" + agg)) name.resize(name.size() - agg.size() - 1);
  return name;
}

bool IsErrored(const json& b) {
  return b.value("error_occurred", false) || (b.contains("skipped") && b["skipped"].is_boolean() && b["skipped"]);
}

namespace {

std::optional<double> Number(const json& b, const std::string& metric) {
  if (!b.contains(metric) || !b[metric].is_number()) return std::nullopt;
  double v = b[metric].get<double>();
  if (metric == "real_time" || metric == "cpu_time") v *= NsPerUnit(b.value("time_unit", "ns"));
  return v;
}

}  // namespace

std::optional<double> BenchmarkRuns::Median(const std::string& metric) const {
  std::vector<double> v;
  for (const json& r : repetitions) {
    if (IsErrored(r)) continue;
    if (const auto x = Number(r, metric)) v.push_back(*x);
  }
  if (v.empty()) {
    const auto it = aggregates.find("median");
    return it == aggregates.end() ? std::nullopt : Number(it->second, metric);
  }
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

ResultsFile ResultsFile::Parse(const std::string& text, const std::string& what) {
  const json doc = ParseBenchmarkJson(text, what);
  ResultsFile f;
  f.context_ = doc.value("context", json::object());
  std::map<std::string, size_t> index;
  for (const json& b : doc["benchmarks"]) {
    if (!b.is_object()) continue;
    const std::string run = RunNameOf(b);
    auto [it, fresh] = index.try_emplace(run, f.benchmarks_.size());
    if (fresh) {
      f.benchmarks_.push_back({});
      f.benchmarks_.back().run_name = run;
      f.benchmarks_.back().bench = b.value("pmbench_bench", "");
    }
    BenchmarkRuns& r = f.benchmarks_[it->second];
    const std::string agg = b.value("aggregate_name", "");
    if (!agg.empty()) {
      r.aggregates[agg] = b;
      continue;
    }
    r.repetitions.push_back(b);
    if (IsErrored(b)) {
      ++r.errored;
      if (r.error.empty()) r.error = b.value("error_message", "error");
    }
  }
  // One verdict per bar over its repetitions.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::vector<json>> groups;
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> order;
  for (const json& bar : doc.value("pmbench_bars", json::array())) {
    const auto key = std::make_tuple(bar.value("run_name", ""), bar.value("kind", ""), bar.value("metric", ""),
                                     bar.value("expression", ""));
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(bar);
  }
  for (const auto& key : order) {
    auto list = groups[key];
    std::sort(list.begin(), list.end(),
              [](const json& a, const json& b) { return a.value("measured", 0.0) < b.value("measured", 0.0); });
    BarVerdict v;
    std::tie(v.run_name, v.kind, v.metric, v.expression) = key;
    v.threshold = v.kind == "threshold";
    v.runs = static_cast<int>(list.size());
    const json* first_failure = nullptr;
    for (const json& b : list) {
      if (!b.value("pass", false)) {
        ++v.failures;
        if (!first_failure) first_failure = &b;
      }
    }
    const json& median = list[list.size() / 2];
    v.pass = v.threshold ? v.failures == 0 : median.value("pass", false);
    v.was_measured = median.value("was_measured", true);
    v.message = (v.threshold && first_failure ? *first_failure : median).value("message", "");
    f.bars_.push_back(std::move(v));
  }
  return f;
}

const BenchmarkRuns* ResultsFile::Find(const std::string& run_name) const {
  for (const auto& b : benchmarks_) {
    if (b.run_name == run_name) return &b;
  }
  return nullptr;
}

bool ResultsFile::ErrorIsAFailedBar(const BenchmarkRuns& b) const {
  if (!b.error.starts_with("threshold failed:")) return false;
  for (const BarVerdict& bar : bars_) {
    if (bar.threshold && !bar.pass && bar.run_name == b.run_name) return true;
  }
  return false;
}

std::string ResultsFile::profile() const { return context_.value("pmbench_profile", "?"); }
std::string ResultsFile::commit() const { return context_.value("git_commit", "?"); }

std::string ShortName(std::string name) {
  for (const char* noise : {"/iterations:1", "/manual_time", "/real_time", "/process_time"}) {
    for (size_t at; (at = name.find(noise)) != std::string::npos;) name.erase(at, std::string(noise).size());
  }
  if (const size_t at = name.find("/repeats:"); at != std::string::npos) {
    size_t end = at + 9;
    while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
    name.erase(at, end - at);
  }
  return name;
}

}  // namespace pmbench::results
