#include "lib/results/metrics.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pmbench::results {
namespace {

TEST(MetricsTest, DirectionsFollowTheNames) {
  for (const char* m : {"real_time", "cpu_time", "p99_ms", "submit_p95_ms", "connect_s", "errors", "lost", "dropped",
                        "failed", "unfinished", "resets", "generator_bound", "false_alarms", "verify_floor_ratio", "odds_missing",
                        "server_kb_per_connection", "api_5xx", "cache_backend_errors", "server_cores_used"}) {
    EXPECT_EQ(DirectionOf(m), Direction::kLower) << m;
  }
  for (const char* m : {"events_per_s", "achieved_requests_per_s", "items_per_second", "success_ratio", "copy_vs_insert",
                        "sync_accuracy", "index_speedup", "tx_per_min", "slowdowns_flagged", "ballots_per_s_vs_limit",
                        "vs_wrk_ratio", "cached_vs_none", "cache_hit_ratio", "p50_agrees"}) {
    EXPECT_EQ(DirectionOf(m), Direction::kHigher) << m;
  }
  for (const char* m : {"samples", "fanout_samples", "rows", "clients", "offered_requests_per_s", "offered_ballots_per_s",
                        "trials", "retries", "pgbench_tps", "limit_ballots_per_s", "wrk_requests_per_s", "wrk_p99_ms",
                        "cache_loads", "shards", "merged_vs_single_p99"}) {
    EXPECT_EQ(DirectionOf(m), Direction::kInfo) << m;
  }
  EXPECT_EQ(DirectionOf("widgets"), Direction::kUnknown);
  EXPECT_FALSE(IsMetricKey("repetition_index"));
  EXPECT_TRUE(IsMetricKey("p99_ms"));
}

// Every counter the suite writes has a direction: walk a real results file (the committed
// baseline, recorded by tools/bench) and fail on any name the gate would not judge.
TEST(MetricsTest, EveryCounterOfTheBaselineHasADirection) {
  std::ifstream in(std::string(PMBENCH_SOURCE_DIR) + "/results/baseline.json");
  ASSERT_TRUE(in) << "results/baseline.json";
  std::stringstream text;
  text << in.rdbuf();
  const auto doc = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  std::set<std::string> seen, unknown;
  for (const auto& b : doc.at("benchmarks")) {
    for (const auto& [key, value] : b.items()) {
      if (!value.is_number() || !IsMetricKey(key) || !seen.insert(key).second) continue;
      if (DirectionOf(key) == Direction::kUnknown) unknown.insert(key);
    }
  }
  EXPECT_GT(seen.size(), 50u);
  std::string list;
  for (const auto& u : unknown) list += " " + u;
  EXPECT_TRUE(unknown.empty()) << "counters without a direction:" << list;
}

}  // namespace
}  // namespace pmbench::results
