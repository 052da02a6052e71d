// pmbench results merge|summary|history
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "lib/results/history.h"
#include "lib/results/gbench_json.h"
#include "lib/results/merge.h"
#include "lib/results/shard_merge.h"
#include "lib/results/summary.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage = R"(Usage: pmbench results merge --out FILE [options] BENCH.json...
       pmbench results merge [--out FILE] SHARD.json...
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

Shards: given the results of one load test run as N shards (--shard I/N), merge joins them
exactly as one process's run: the union of every latency histogram (and of every
interval's), counts summed, rates over the shards' common window; evaluates the run's
thresholds on the whole (each shard's own verdict is shown beside it) and reports how far
apart the shards started and how far their clocks disagree (against the database's clock,
where the shards measured it). Exit 1 when a threshold fails on the whole, 2 for a
missing shard, shards of different runs or a file that is not a shard's result. Without
--out the merged JSON goes to stdout; the report goes to stderr.

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

std::string Ms(double ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", ns / 1e6);
  return buf;
}

int MergeShardFiles(const Flags& flags) {
  std::vector<results::ShardFile> files;
  for (const std::string& p : flags.positional()) files.push_back({p, ReadFileOrFail(p)});
  results::ShardMerge m;
  try {
    m = results::MergeShards(files);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const nlohmann::json doc = nlohmann::json::parse(m.json);
  const nlohmann::json& merge = doc["context"]["pmbench_merge"];
  std::cerr << (m.pass ? "PASS" : "FAIL") << ": " << files.size() << " shards merged over a common window of "
            << std::to_string(m.window_s).substr(0, 6) << " s\n";
  for (size_t i = 0; i < m.bars.size(); ++i) {
    const auto& b = m.bars[i];
    std::cerr << "  " << (b.pass ? "ok    " : (b.kind == stats::Bar::Kind::kGoal ? "missed" : "FAILED")) << " " << b.metric << ":"
              << b.expression << "  (whole run: " << b.message << "; each shard alone:";
    for (const auto& bars : m.shard_bars) std::cerr << " " << (i < bars.size() && bars[i].value("pass", false) ? "pass" : "fail");
    std::cerr << ")\n";
  }
  if (!doc["benchmarks"].empty()) {
    // The whole run's line: its count and the percentiles of its first histogram.
    const auto& e = doc["benchmarks"][0];
    std::string metric = "latency";
    for (const auto& h : doc.value("pmbench_histograms", nlohmann::json::array())) {
      if (h.value("run_name", "") == e.value("name", "")) {
        metric = h.value("metric", "latency");
        break;
      }
    }
    const std::string prefix = metric == "latency" ? "" : metric + "_";
    std::cerr << "  " << e.value("name", "");
    for (const char* count : {"ok", "confirmed", "updates_received"}) {
      if (e.contains(count)) std::cerr << ": " << e.value(count, 0.0) << " " << count;
    }
    std::cerr << ", " << metric;
    for (const char* p : {"p50", "p95", "p99"}) std::cerr << " " << p << " " << e.value(prefix + p + "_ms", 0.0) << " ms";
    if (e.contains("achieved_requests_per_s")) std::cerr << ", achieved " << e.value("achieved_requests_per_s", 0.0) << "/s";
    std::cerr << "\n";
  }
  std::cerr << "  shards started within " << Ms(m.start_spread_ms * 1e6) << " ms of each other";
  if (!merge["start_at_ns"].is_null()) {
    double late = 0;
    for (const auto& p : merge["per_shard"]) late = std::max(late, std::abs(p.value("started_ms_after_start_at", 0.0)));
    std::cerr << " (at most " << Ms(late * 1e6) << " ms from --start-at)";
  }
  std::cerr << "\n  clock skew between shards: ";
  if (m.clock_skew_ms) {
    std::cerr << Ms(*m.clock_skew_ms * 1e6) << " ms +- " << Ms(*m.clock_skew_error_ms * 1e6) << " ms (against "
              << merge.value("clock_reference", std::string("a shared clock")) << ")\n";
  } else {
    std::cerr << "not measured (a shard had no reference clock to read)\n";
  }
  if (!m.not_merged.empty()) {
    std::cerr << "  left out (no exact merge):";
    for (const auto& k : m.not_merged) std::cerr << " " << k;
    std::cerr << "\n";
  }
  if (flags.Has("out")) {
    WriteFileAtomically(flags.Get("out", ""), m.json);
    std::cerr << "wrote " << flags.Get("out", "") << "\n";
  } else {
    std::cout << m.json;
  }
  return m.pass ? 0 : 1;
}

bool AreShards(const Flags& flags) {
  if (flags.positional().empty()) return false;
  const std::string& first = flags.positional()[0];
  if (first.ends_with(".bars.json") || first.ends_with(".series.json") || first.ends_with(".server.json")) return false;
  try {
    return results::IsShardResult(nlohmann::json::parse(results::WithoutNaN(ReadFileOrFail(first))));
  } catch (const nlohmann::json::exception&) {
    return false;  // the bench merge names the malformed file
  }
}

int Merge(const Flags& flags) {
  if (AreShards(flags)) return MergeShardFiles(flags);
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
