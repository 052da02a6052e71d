#include "lib/results/metrics.h"

#include <cstddef>

namespace pmbench::results {
namespace {

constexpr std::string_view kNotMetrics[] = {
    "name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "iterations", "time_unit",
    "family_index", "per_family_instance_index", "aggregate_name", "aggregate_unit", "error_occurred",
    "error_message", "label", "pmbench_bench", "big_o", "rms", "complexity_n", "skipped",
    // Not numbers in our files, but never metrics either.
    "errors_by_reason", "pmbench_kind", "pmbench_repetition", "pmbench_note"};

// Counts that are bad news: the fewer the better, 0 the only good value of most.
constexpr std::string_view kLowerCounts[] = {
    "errors", "lost", "rejected", "failed", "dropped", "unfinished", "resets", "reconnects",
    "generator_bound", "generator_cpu", "thresholds_failed", "goals_missed", "false_alarms",
    "false_improvements", "expired", "timeouts", "slow_consumers", "click_incomplete", "new_market_incomplete",
    "odds_missing", "api_5xx", "cache_backend_errors"};

// The run's size, its input, or what a fault run endured: reported, never judged.
constexpr std::string_view kInfo[] = {
    "samples", "rows", "lines", "bets", "clients", "connections", "trials", "sent", "confirmed", "ok",
    "notified", "updates_received", "threads_used", "resubscriptions", "bets_in_database",
    "backend_kills", "retries", "resends", "resigns", "rpc_429s", "rpc_retries", "rpc_failovers",
    "first_missed_tx_per_min", "repetitions_needed", "repetitions_a_side", "pgbench_tps", "verify_threads",
    "users", "click_complete", "ws_connections", "submitted", "writers", "cache_loads", "faults_injected", "shards"};

template <size_t N>
bool In(const std::string_view (&names)[N], std::string_view m) {
  for (const auto n : names) {
    if (n == m) return true;
  }
  return false;
}

}  // namespace

bool IsMetricKey(std::string_view key) { return !In(kNotMetrics, key); }

Direction DirectionOf(std::string_view m) {
  if (m == "real_time" || m == "cpu_time" || In(kLowerCounts, m)) return Direction::kLower;
  // A limit measured beside our figure (limit_*) says what the hardware gave, and a peer's
  // own figures (wrk_*) how the peer did: neither is how we did.
  // A sharded run's percentiles over a single process's: 1 is right, and whether it is
  // close enough is the *_agrees goals' to say.
  if (In(kInfo, m) || m.ends_with("_samples") || m.starts_with("offered_") || m.starts_with("limit_") || m.starts_with("wrk_") ||
      m.ends_with("_confirmed") || m.starts_with("merged_vs_single_") ||
      m.ends_with("_stored")) {
    return Direction::kInfo;
  }
  if (m.ends_with("_floor_ratio") || m.ends_with("kb_per_connection") || m.ends_with("_mb") || m.ends_with("_cores_used") ||
      m.find("_drift_") != std::string_view::npos) {
    return Direction::kLower;
  }
  if (m == "items_per_second" || m == "bytes_per_second" || m == "slowdowns_flagged" || m.ends_with("_agrees") || m.ends_with("_per_s") ||
      m.ends_with("_per_min") || m.ends_with("_ratio") || m.ends_with("_accuracy") || m.ends_with("_speedup") ||
      m.find("_vs_") != std::string_view::npos) {
    return Direction::kHigher;
  }
  if (m.ends_with("_ns") || m.ends_with("_us") || m.ends_with("_ms") || m.ends_with("_s")) return Direction::kLower;
  return Direction::kUnknown;
}

const char* DirectionName(Direction d) {
  switch (d) {
    case Direction::kLower: return "lower";
    case Direction::kHigher: return "higher";
    case Direction::kInfo: return "info";
    case Direction::kUnknown: return "unknown";
  }
  return "unknown";
}

}  // namespace pmbench::results
