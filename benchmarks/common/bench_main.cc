// The main() of every pmbench bench binary. Beyond Google Benchmark's own:
// - sizes, repetitions and minimum time come from the profile (PMBENCH_PROFILE); micro
//   binaries (linked with pmbench::bench_main_micro) repeat micro_repetitions times;
// - PMBENCH_BENCHMARK_FILTER is --benchmark_filter for runs driven by tools/bench;
// - --pmbench_bars_out=FILE writes the thresholds and goals each run evaluated;
// - e2e binaries (the non-micro main) record the servers' side of each benchmark
//   (monitoring/evidence.h) beside the bars, in X.server.json, when staging is local;
// - the exit status is non-zero when any repetition of any benchmark errored, so ctest
//   sees the failure (Google Benchmark 1.7 exits 0 after SkipWithError, and hides an
//   errored repetition behind the aggregates of the others).
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
#ifndef PMBENCH_MICRO_MAIN
#include <functional>
#include <memory>

#include "benchmarks/common/staging.h"
#include "lib/db/database_url.h"
#include "lib/db/staging.h"
#include "lib/monitoring/evidence.h"
#endif

namespace {

// Counts every repetition that errored — Google Benchmark shows a display reporter only
// the aggregates when asked to, and computes them from the repetitions that succeeded,
// so an error in one repetition of three would vanish. This reporter sees every run,
// counts, names each failed repetition, and shows aggregates (plus the failures) when
// there are repetitions.
class CheckingReporter : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    if (runs.empty()) return;
    if (runs.front().run_type == Run::RT_Aggregate) {
      ConsoleReporter::ReportRuns(runs);
      return;
    }
    size_t repetitions = 0, succeeded = 0;
    for (const Run& run : runs) {
      repetitions = std::max(repetitions, static_cast<size_t>(std::max<int64_t>(run.repetitions, 1)));
      succeeded += !run.error_occurred;
      if (run.error_occurred) {
        ++errors_;
        failed_.push_back(run.benchmark_name() + " (repetition " + std::to_string(run.repetition_index + 1) + " of " +
                          std::to_string(std::max<int64_t>(run.repetitions, 1)) + "): " + run.error_message);
      }
    }
    TakeBars(runs, repetitions);
    if (on_benchmark_done) on_benchmark_done(runs.front().run_name.str());
    // Aggregates follow when at least two repetitions succeeded; otherwise show the runs.
    std::vector<Run> shown;
    for (const Run& run : runs) {
      if (repetitions <= 1 || succeeded < 2 || run.error_occurred) shown.push_back(run);
    }
    if (!shown.empty()) ConsoleReporter::ReportRuns(shown);
  }

  std::function<void(const std::string& run_name)> on_benchmark_done;  // after its repetitions
  int errors() const { return errors_; }
  const std::vector<std::string>& failed() const { return failed_; }
  const nlohmann::json& bars() const { return bars_; }

 private:
  // The bars each repetition evaluated, in order; earlier groups came from the calls that
  // settled the iteration count.
  void TakeBars(const std::vector<Run>& runs, size_t repetitions) {
    auto groups = pmbench::bench::internal::TakeLoggedBars();
    const size_t first = groups.size() > repetitions ? groups.size() - repetitions : 0;
    for (size_t g = first; g < groups.size(); ++g) {
      for (auto& r : groups[g]) {
        bars_.push_back({{"run_name", runs.front().run_name.str()},
                         {"kind", r.kind == pmbench::stats::Bar::Kind::kThreshold ? "threshold" : "goal"},
                         {"metric", r.metric},
                         {"expression", r.expression},
                         {"pass", r.pass},
                         {"was_measured", r.was_measured},
                         {"measured", r.measured},
                         {"message", r.message}});
      }
    }
  }

  int errors_ = 0;
  std::vector<std::string> failed_;
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
#ifdef PMBENCH_MICRO_MAIN
  const int repetitions = profile->micro_repetitions;
#else
  const int repetitions = profile->repetitions;
#endif
  if (repetitions > 1 && !HasFlag(args, "--benchmark_repetitions")) {
    args.push_back("--benchmark_repetitions=" + std::to_string(repetitions));
  }
  // The reporter needs every repetition to count errors; it shows the aggregates itself.
  std::erase_if(args, [](const std::string& a) { return a.rfind("--benchmark_display_aggregates_only", 0) == 0; });
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
#ifndef PMBENCH_MICRO_MAIN
  // Each benchmark's evidence runs from the end of the one before it (or the start) to the
  // end of its repetitions: its setup is in it, as the servers saw it.
  nlohmann::json server = nlohmann::json::array();
  std::unique_ptr<pmbench::monitoring::ServerEvidence> evidence;
  std::string direct, pooled;
  try {
    const pmbench::db::Staging st = pmbench::db::ResolveStaging();
    if (pmbench::db::ParseDatabaseUrl(st.direct_url).IsLoopback()) {
      direct = st.direct_url;
      pooled = st.pooled_url;
    }
  } catch (const std::exception&) {  // no staging: the benchmarks say so themselves
  }
  const auto begin_evidence = [&] {
    if (!direct.empty() && !bars_out.empty()) {
      evidence = std::make_unique<pmbench::monitoring::ServerEvidence>(
          pmbench::monitoring::EvidenceOptions{.direct_url = direct, .pooled_url = pooled});
    }
  };
  reporter.on_benchmark_done = [&](const std::string& run_name) {
    if (!evidence) return;
    nlohmann::json e = evidence->End();
    e["run_name"] = run_name;
    server.push_back(std::move(e));
    begin_evidence();
  };
  begin_evidence();
#endif
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
#ifndef PMBENCH_MICRO_MAIN
  pmbench::bench::DropBenchSchemas();  // here, while every library's statics still live
#endif

  if (!bars_out.empty()) {
    std::ofstream out(bars_out);
    out << reporter.bars().dump(2) << "\n";
    if (!out) {
      std::cerr << argv[0] << ": cannot write " << bars_out << "\n";
      return 1;
    }
    nlohmann::json series = nlohmann::json::array();
    for (const std::string& logged : pmbench::bench::internal::TakeLoggedSeries()) {
      for (auto& entry : nlohmann::json::parse(logged)) series.push_back(std::move(entry));
    }
#ifndef PMBENCH_MICRO_MAIN
    evidence.reset();
    if (!server.empty() && bars_out.ends_with(".bars.json")) {
      const std::string path = bars_out.substr(0, bars_out.size() - std::strlen(".bars.json")) + ".server.json";
      std::ofstream s(path);
      s << pmbench::db::RedactSecrets(server.dump()) << "\n";
      if (!s) {
        std::cerr << argv[0] << ": cannot write " << path << "\n";
        return 1;
      }
    }
#endif
    if (!series.empty() && bars_out.ends_with(".bars.json")) {
      const std::string path = bars_out.substr(0, bars_out.size() - std::strlen(".bars.json")) + ".series.json";
      std::ofstream s(path);
      s << series.dump() << "\n";
      if (!s) {
        std::cerr << argv[0] << ": cannot write " << path << "\n";
        return 1;
      }
    }
  }
  if (reporter.errors() > 0) {
    std::cerr << argv[0] << ": " << reporter.errors() << " benchmark repetition(s) failed:\n";
    for (const auto& f : reporter.failed()) std::cerr << "  " << f << "\n";
    return 1;
  }
  return 0;
}
