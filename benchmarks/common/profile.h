// File: profile.h
//
// The sizes a run uses, chosen by PMBENCH_PROFILE (tools/bench --profile): smoke finishes
// in seconds and runs in CI; default is what baselines are made with; high-load, soak and
// spike stress the platform as the story's scenarios do.
//
//   const Profile& p = CurrentProfile();
//   Seed(url, schema, {.scale = p.seed_scale, ...});
#ifndef PMBENCH_BENCHMARKS_COMMON_PROFILE_H_
#define PMBENCH_BENCHMARKS_COMMON_PROFILE_H_

#include <string_view>

namespace pmbench::bench {

struct Profile {
  std::string_view name;
  int repetitions;      // per e2e benchmark, so medians and spreads can be compared
  int micro_repetitions;  // per micro benchmark: cheap, and the regression gate needs ~20
                          // a side to flag a 10% slowdown on a noisy machine (compare_bench)
  double min_time_s;    // Google Benchmark's --benchmark_min_time; 0 keeps its default
  double seed_scale;    // pmbench db seed --scale for the e2e db benchmarks
  int ballots;          // signed ballots per vote tally (the story's 10,000)
  double arrival_s;     // how long ballots keep arriving while tallies repeat
  int events;           // events per ingest run (sinks x batch sizes)
  double story_rate_s;  // how long events arrive at the story's 1,000/min
  int backlog_large;    // the large backlog drained (the 1,000-event one always runs)
  int db_clients;       // concurrent clients of the database load tests (the story's 1,000+)
  double db_rate;       // market-list requests per second offered to them
  double db_seconds;    // how long each database load runs
  int ws_connections;   // WebSocket subscribers (the story's 500+)
  double chain_seconds; // how long each Solana transaction run sends (100 bets/min, 1,000/min)
};

// The profile named by PMBENCH_PROFILE, "default" when unset. Throws std::invalid_argument
// for an unknown name.
const Profile& CurrentProfile();
const Profile* FindProfile(std::string_view name);

}  // namespace pmbench::bench

#endif  // PMBENCH_BENCHMARKS_COMMON_PROFILE_H_
