// The main() of every pmbench bench binary. Beyond Google Benchmark's own:
// - sizes, repetitions and minimum time come from the profile (PMBENCH_PROFILE);
// - PMBENCH_BENCHMARK_FILTER is --benchmark_filter for runs driven by tools/bench;
// - --pmbench_bars_out=FILE writes the thresholds and goals each run evaluated;
// - the exit status is non-zero when any benchmark errored, so ctest sees the failure
//   (Google Benchmark 1.7 exits 0 after SkipWithError).
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "benchmarks/common/internal/bar_log.h"
#include "benchmarks/common/profile.h"

namespace {

class CheckingReporter : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    // With --benchmark_display_aggregates_only this reporter sees only the aggregates, so
    // the repetition count comes from the runs, not from counting them.
    size_t repetitions = 0;
    for (const Run& run : runs) {
      errors_ += run.error_occurred;
      repetitions = std::max(repetitions, static_cast<size_t>(std::max<int64_t>(run.repetitions, 1)));
    }
    auto groups = pmbench::bench::internal::TakeLoggedBars();
    // Earlier groups came from the calls that settled the iteration count.
    const size_t first = groups.size() > repetitions ? groups.size() - repetitions : 0;
    for (size_t g = first; g < groups.size() && !runs.empty(); ++g) {
      for (auto& r : groups[g]) {
        bars_.push_back({{"run_name", runs.front().run_name.str()},
                         {"kind", r.kind == pmbench::stats::Bar::Kind::kThreshold ? "threshold" : "goal"},
                         {"metric", r.metric},
                         {"expression", r.expression},
                         {"pass", r.pass},
                         {"measured", r.measured},
                         {"message", r.message}});
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  int errors() const { return errors_; }
  const nlohmann::json& bars() const { return bars_; }

 private:
  int errors_ = 0;
  nlohmann::json bars_ = nlohmann::json::array();
};

bool HasFlag(const std::vector<std::string>& args, const std::string& flag) {
  for (const auto& a : args) {
    if (a.rfind(flag + "=", 0) == 0 || a == flag) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const pmbench::bench::Profile* profile = nullptr;
  try {
    profile = &pmbench::bench::CurrentProfile();
  } catch (const std::exception& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    return 2;
  }

  std::vector<std::string> args(argv, argv + argc);
  std::string bars_out;
  for (auto it = args.begin(); it != args.end();) {
    if (it->rfind("--pmbench_bars_out=", 0) == 0) {
      bars_out = it->substr(std::strlen("--pmbench_bars_out="));
      it = args.erase(it);
    } else {
      ++it;
    }
  }
  if (profile->min_time_s > 0 && !HasFlag(args, "--benchmark_min_time")) {
    args.push_back("--benchmark_min_time=" + std::to_string(profile->min_time_s));
  }
  if (profile->repetitions > 1 && !HasFlag(args, "--benchmark_repetitions")) {
    args.push_back("--benchmark_repetitions=" + std::to_string(profile->repetitions));
    if (!HasFlag(args, "--benchmark_display_aggregates_only")) {
      args.push_back("--benchmark_display_aggregates_only=true");
    }
  }
  if (const char* f = std::getenv("PMBENCH_BENCHMARK_FILTER");
      f && *f && !HasFlag(args, "--benchmark_filter")) {
    args.push_back(std::string("--benchmark_filter=") + f);
  }

  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  int cargc = static_cast<int>(cargs.size());
  benchmark::Initialize(&cargc, cargs.data());
  if (benchmark::ReportUnrecognizedArguments(cargc, cargs.data())) return 2;
  benchmark::AddCustomContext("pmbench_profile", std::string(profile->name));

  CheckingReporter reporter(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_ColorTabular
                                                  : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  if (!bars_out.empty()) {
    std::ofstream out(bars_out);
    out << reporter.bars().dump(2) << "\n";
    if (!out) {
      std::cerr << argv[0] << ": cannot write " << bars_out << "\n";
      return 1;
    }
  }
  if (reporter.errors() > 0) {
    std::cerr << argv[0] << ": " << reporter.errors() << " benchmark run(s) failed\n";
    return 1;
  }
  return 0;
}
