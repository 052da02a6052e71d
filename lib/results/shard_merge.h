// File: shard_merge.h
//
// One load test run by N processes (machines, pods), each with --shard I/N, merged as if
// one process had run it. Each shard's result carries what makes that exact: every
// latency histogram in full (pmbench_histograms), every metric a threshold can read in a
// form that adds up (pmbench_observed: histograms, counts, ratios' numerators and
// denominators), and when it started by its own clock (context.pmbench_shard). The merge
// takes the union's histograms, sums the counts, computes rates over the shards' common
// window, evaluates the thresholds on the whole — k6-operator judges each pod apart — and
// reports how far apart the shards started and how far their clocks disagree.
//
//   nlohmann::json shard = ShardJson(run, {{"latency", {.latency = &h}}}, {{"load_db/markets", "latency", &h}});
//   ShardMerge m = MergeShards({{"shard-0.json", text0}, {"shard-1.json", text1}});
//   if (!m.pass) ...   // a threshold failed on the union
#ifndef PMBENCH_RESULTS_SHARD_MERGE_H_
#define PMBENCH_RESULTS_SHARD_MERGE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/stats/histogram.h"
#include "lib/stats/report.h"

namespace pmbench::results {

// When and how a shard ran. Times are Unix nanoseconds by the shard's own clock.
struct ShardRun {
  int index = 0, count = 1;
  // The run's options but the shard's own (--shard, --out, ...): shards of one run agree on
  // it, and the merge refuses shards that do not.
  std::string plan;
  std::optional<int64_t> start_at_ns;  // the instant asked for (--start-at)
  int64_t schedule_ns = 0;             // when its schedule started (its series' time 0)
  int64_t started_ns = 0;              // when it actually began it (schedule_ns + its first wake-up's lag)
  double warmup_s = 0;
  double seconds = 0;                  // from the warm-up's end to its last answer
  // This shard's clock minus a reference clock both shards can read (the database's), with
  // half the best round trip as its error; nullopt when not measured.
  std::optional<double> clock_offset_ms, clock_offset_error_ms;
  std::string clock_reference;  // e.g. "postgresql clock_timestamp()"
};

// One metric a threshold can read, in a form that merges exactly.
struct ShardMetric {
  const stats::LatencyHistogram* latency = nullptr;  // merged by union
  std::optional<double> count;                       // summed
  bool count_per_second = false;                     // rate = the summed count / the window
  std::optional<std::pair<double, double>> ratio;    // rate = summed numerators / denominators
};

// A histogram behind an entry's counters: metric "latency" gives p50_ms, p95_ms, ...;
// any other metric M gives M_p50_ms, ... (service_p99_ms, lag_p99_ms).
struct ShardHistogram {
  std::string run_name, metric;
  const stats::LatencyHistogram* histogram = nullptr;
};

// Adds context.pmbench_shard, pmbench_observed and pmbench_histograms to a result document.
void AddShard(nlohmann::json& result, const ShardRun& run, const std::map<std::string, ShardMetric>& observed,
              const std::vector<ShardHistogram>& histograms);

struct ShardFile {
  std::string name;  // for messages
  std::string text;
};

struct ShardMerge {
  std::string json;                     // the merged result (Google Benchmark JSON)
  std::vector<stats::BarResult> bars;   // evaluated on the union
  // Each shard's own verdicts, as it wrote them, by shard index: what k6-operator would show.
  std::vector<std::vector<nlohmann::json>> shard_bars;
  bool pass = true;                     // every threshold (not goal) passed on the union
  double window_s = 0;                  // the common window the rates are over
  double start_spread_ms = 0;           // latest start - earliest, by the shards' clocks
  std::optional<double> clock_skew_ms;  // largest clock offset - smallest, when measured
  std::optional<double> clock_skew_error_ms;
  std::vector<std::string> not_merged;  // counters no rule merges exactly: left out
};

// Throws std::invalid_argument naming the file and the problem: not a shard's result,
// shards of different runs, an index twice or missing, malformed histograms.
ShardMerge MergeShards(const std::vector<ShardFile>& files);

// True when the document is a shard's result (context.pmbench_shard).
bool IsShardResult(const nlohmann::json& doc);

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_SHARD_MERGE_H_
