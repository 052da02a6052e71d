// pmbench results merge|summary
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "tools/cli/commands.h"
#include "tools/cli/flags.h"
#include "tools/cli/results.h"

namespace pmbench::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage = R"(Usage: pmbench results merge --out FILE [options] BENCH.json...
       pmbench results summary FILE

  merge     merge bench binaries' Google Benchmark JSON (and the BENCH.bars.json beside
            each) into one file, adding the commit, profile, build type and staging
  summary   print each benchmark's key counters and its thresholds and goals; exit 1 when
            a threshold failed or a benchmark errored

Merge options:
  --out FILE             where to write (written whole or not at all)
  --profile NAME         the profile the benchmarks ran with
  --build-type TYPE      CMake build type of the bench binaries
  --git-commit SHA       the commit measured
  --staging-info FILE    tools/staging's info.json (PostgreSQL version and settings)
)";

int Merge(const Flags& flags) {
  if (!flags.Has("out")) throw UsageError("merge needs --out FILE (see pmbench results --help)");
  std::vector<BenchOutput> outputs;
  for (const std::string& p : flags.positional()) {
    if (p.ends_with(".bars.json")) continue;
    const fs::path path(p);
    BenchOutput out{path.stem().string(), ReadFileOrFail(path.string()), ""};
    // Google Benchmark leaves the file empty when --benchmark_filter matched nothing.
    if (out.json.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    const fs::path bars = path.parent_path() / (path.stem().string() + ".bars.json");
    if (fs::exists(bars)) out.bars_json = ReadFileOrFail(bars.string());
    outputs.push_back(std::move(out));
  }
  if (outputs.empty()) throw UsageError("no benchmark results to merge (did --filter match nothing?)");
  MergeContext context{flags.Get("git-commit", "unknown"), flags.Get("profile", "default"),
                       flags.Get("build-type", "unknown"), ""};
  if (flags.Has("staging-info") && fs::exists(flags.Get("staging-info", ""))) {
    context.staging_info_json = ReadFileOrFail(flags.Get("staging-info", ""));
  }
  WriteFileAtomically(flags.Get("out", ""), MergeResults(outputs, context));
  std::cerr << "wrote " << flags.Get("out", "") << " (" << outputs.size() << " bench binaries)\n";
  return 0;
}

}  // namespace

int ResultsCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, kUsage)) return *status;
  const Flags flags({args.begin() + 1, args.end()},
                    {"out", "profile", "build-type", "git-commit", "staging-info"}, {"help"});
  if (flags.Has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (args[0] == "merge") return Merge(flags);
  if (args[0] == "summary") {
    if (flags.positional().size() != 1) throw UsageError("summary takes one FILE");
    const Summary s = Summarize(ReadFileOrFail(flags.positional()[0]));
    std::cout << s.text;
    return s.ok() ? 0 : 1;
  }
  throw UsageError("unknown results command '" + args[0] + "' (see pmbench results --help)");
}

}  // namespace pmbench::cli
