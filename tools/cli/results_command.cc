// pmbench results merge|summary|history
#include <filesystem>
#include <iostream>

#include "lib/results/history.h"
#include "lib/results/merge.h"
#include "lib/results/summary.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage = R"(Usage: pmbench results merge --out FILE [options] BENCH.json...
       pmbench results summary FILE [--verbose]
       pmbench results history FILE

  merge     merge bench binaries' Google Benchmark JSON (and the BENCH.bars.json beside
            each) into one file, adding the commit, profile, build type, staging and the
            load average before and after
  summary   verdict first: the story's SLAs (AC2-AC6) PASS or FAIL with their key
            figures, other failed thresholds and errored benchmarks (with how many
            repetitions errored), then our goals; --verbose adds every benchmark's
            counters. Exit 1 when a threshold failed or any repetition errored
  history   the file's line for the performance history (JSON lines, one per commit)

Merge options:
  --out FILE             where to write (written whole or not at all)
  --profile NAME         the profile the benchmarks ran with
  --build-type TYPE      CMake build type of the bench binaries
  --git-commit SHA       the commit measured
  --staging-info FILE    tools/staging's info.json (PostgreSQL version and settings)
  --load-before TEXT     /proc/loadavg before the run
  --load-after TEXT      /proc/loadavg after the run
)";

std::vector<double> LoadAverage(const Flags& flags, const std::string& name) {
  if (!flags.Has(name)) return {};
  try {
    return results::ParseLoadAverage(flags.Get(name, ""));
  } catch (const std::invalid_argument& e) {
    throw UsageError("--" + name + ": " + e.what());
  }
}

int Merge(const Flags& flags) {
  if (!flags.Has("out")) throw UsageError("merge needs --out FILE (see pmbench results --help)");
  std::vector<results::BenchOutput> outputs;
  for (const std::string& p : flags.positional()) {
    if (p.ends_with(".bars.json") || p.ends_with(".series.json") || p.ends_with(".server.json")) continue;
    const fs::path path(p);
    results::BenchOutput out{path.stem().string(), ReadFileOrFail(path.string()), ""};
    // Google Benchmark leaves the file empty when --benchmark_filter matched nothing.
    if (out.json.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    const fs::path bars = path.parent_path() / (path.stem().string() + ".bars.json");
    if (fs::exists(bars)) out.bars_json = ReadFileOrFail(bars.string());
    const fs::path series = path.parent_path() / (path.stem().string() + ".series.json");
    if (fs::exists(series)) out.series_json = ReadFileOrFail(series.string());
    const fs::path server = path.parent_path() / (path.stem().string() + ".server.json");
    if (fs::exists(server)) out.server_json = ReadFileOrFail(server.string());
    outputs.push_back(std::move(out));
  }
  if (outputs.empty()) throw UsageError("no benchmark results to merge (did --filter match nothing?)");
  results::MergeContext context{flags.Get("git-commit", "unknown"), flags.Get("profile", "default"),
                                flags.Get("build-type", "unknown"), "", LoadAverage(flags, "load-before"),
                                LoadAverage(flags, "load-after")};
  if (flags.Has("staging-info") && fs::exists(flags.Get("staging-info", ""))) {
    context.staging_info_json = ReadFileOrFail(flags.Get("staging-info", ""));
  }
  std::string merged;
  try {
    merged = results::MergeResults(outputs, context);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  WriteFileAtomically(flags.Get("out", ""), merged);
  std::cerr << "wrote " << flags.Get("out", "") << " (" << outputs.size() << " bench binaries)\n";
  return 0;
}

}  // namespace

int ResultsCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, kUsage)) return *status;
  const Flags flags({args.begin() + 1, args.end()},
                    {"out", "profile", "build-type", "git-commit", "staging-info", "load-before", "load-after"},
                    {"help", "verbose"});
  if (flags.Has("help")) {
    std::cout << kUsage;
    return 0;
  }
  try {
    if (args[0] == "merge") return Merge(flags);
    if (args[0] == "summary" || args[0] == "history") {
      if (flags.positional().size() != 1) throw UsageError(args[0] + " takes one FILE");
      const std::string text = ReadFileOrFail(flags.positional()[0]);
      if (args[0] == "history") {
        std::cout << results::HistoryLine(text) << "\n";
        return 0;
      }
      const results::Summary s = results::Summarize(text, {.verbose = flags.Has("verbose")});
      std::cout << s.text;
      return s.ok() ? 0 : 1;
    }
  } catch (const std::invalid_argument& e) {
    throw UsageError(flags.positional().empty() ? e.what() : flags.positional()[0] + ": " + e.what());
  }
  throw UsageError("unknown results command '" + args[0] + "' (see pmbench results --help)");
}

}  // namespace pmbench::cli
