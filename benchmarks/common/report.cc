#include "benchmarks/common/report.h"

#include <iostream>
#include <mutex>

#include "benchmarks/common/internal/bar_log.h"

namespace pmbench::bench {
namespace internal {
namespace {

std::mutex& LogMutex() {
  static std::mutex m;
  return m;
}
std::vector<std::vector<stats::BarResult>>& Log() {
  static std::vector<std::vector<stats::BarResult>> log;
  return log;
}

std::vector<std::string>& SeriesLog() {
  static std::vector<std::string> log;
  return log;
}

}  // namespace

std::vector<std::string> TakeLoggedSeries() {
  std::lock_guard lock(LogMutex());
  return std::exchange(SeriesLog(), {});
}

void LogBars(const std::vector<stats::BarResult>& results) {
  std::lock_guard lock(LogMutex());
  Log().push_back(results);
}

std::vector<std::vector<stats::BarResult>> TakeLoggedBars() {
  std::lock_guard lock(LogMutex());
  return std::exchange(Log(), {});
}

}  // namespace internal

void ReportLatency(benchmark::State& state, const stats::LatencyHistogram& h,
                   const std::string& prefix) {
  for (const auto& [name, value] : stats::LatencyCounters(h, prefix)) state.counters[name] = value;
}

void ReportSeries(const std::string& series_json_array) {
  std::lock_guard lock(internal::LogMutex());
  internal::SeriesLog().push_back(series_json_array);
}

void ReportRate(benchmark::State& state, const std::string& name, double count, double seconds) {
  state.counters[name] = seconds > 0 ? count / seconds : 0;
}

bool CheckBars(benchmark::State& state, const std::vector<stats::Bar>& bars,
               const std::map<std::string, stats::Observed>& observed) {
  const auto results = stats::EvaluateBars(bars, observed);
  internal::LogBars(results);
  int failed = 0, missed = 0;
  for (const auto& r : results) {
    if (!r.pass) ++(r.kind == stats::Bar::Kind::kThreshold ? failed : missed);
  }
  state.counters["thresholds_failed"] = failed;
  state.counters["goals_missed"] = missed;
  const std::string failure = stats::Failures(results);
  if (!failure.empty()) Fail(state, failure);
  return failure.empty();
}

bool Check(benchmark::State& state, bool ok, const std::string& what) {
  if (!ok) Fail(state, "result check failed: " + what);
  return ok;
}

void Fail(benchmark::State& state, const std::string& why) {
  // Google Benchmark keeps the first error of a run; every later one still reaches the log.
  if (state.error_occurred()) std::cerr << "also failed: " << why << "\n";
  state.SkipWithError(why.c_str());
}

}  // namespace pmbench::bench
