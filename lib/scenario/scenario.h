// File: scenario.h
//
// The story's whole-platform scenarios as data: roles of users (how many, what each does in
// its loop, how long it thinks), a load shape over time, and the bars the run must pass.
// A browsing user reads lists, market pages and dashboards through the pooler and holds a
// WebSocket subscription to the markets it looks at; every other role sends transactions
// to the ledger (bets, votes, market creations, approvals, resolutions, claims), each user
// signing with its own wallet for the whole run.
//
//   ScenarioSpec s = Builtin("peak", "default");   // Scenario 1: 1,000 users for 3 minutes
//   ScenarioSpec f = ParseScenario(json_text);      // a scenario file (README "Scenarios")
#ifndef PMBENCH_SCENARIO_SCENARIO_H_
#define PMBENCH_SCENARIO_SCENARIO_H_

#include <optional>
#include <string>
#include <vector>

#include "lib/load/shape.h"

namespace pmbench::scenario {

struct Role {
  std::string name;
  // "browse", or the chain kind each user sends: bets, votes, markets, approvals,
  // resolutions, claims (events/chain_load.h).
  std::string action = "browse";
  int users = 0;          // closed model: users at the shape's full level, each a loop
  double think_s = 0;     // a user's pause between its actions...
  // ... drawn from think_s x [1 - j, 1 + j]; users also begin spread over one pause. 0: they
  // act together, every think_s (what a role of simultaneous actions wants).
  double think_jitter = 0.5;
  double rate_per_s = 0;  // instead of users: actions arriving at this rate (open model)
  double start_s = 0;     // the role begins this long into the run...
  double seconds = 0;     // ... and lasts this long (0: until the run's end)
  bool browses() const { return action == "browse"; }
};

// A fault injected mid-run, to see it in the time series and measure the recovery: an
// exclusive lock on the markets table held `seconds`, from `at_s` into the run.
struct Stall {
  double at_s = 0, seconds = 0;
};

struct ScenarioSpec {
  std::string name, title;
  std::vector<Role> roles;
  double seconds = 60;
  // Levels are users in all (closed roles); each role gets its share, and open roles' rates
  // scale alike. Empty stages: the roles' numbers for the whole run.
  load::Shape shape;
  int hot_markets = 50;          // subscriptions, bets, resolutions and claims go to markets 1..hot_markets
  bool watch_new_markets = false;  // browsing users also subscribe to "markets" (new ones appear there)
  std::optional<Stall> stall;
  double interval_s = 1;
  // The story's SLAs (thresholds) and our goal.
  double db_p95_ms = 100, update_p95_ms = 200, success_min = 0.99, click_p99_goal_ms = 1000;
  // A soak run fails when p95 grows faster than this per hour, or a process's RSS, or the
  // number of processes of a group (PostgreSQL's: its connections).
  double drift_p95_ms_per_h = 50, drift_rss_mb_per_h = 200, drift_processes_per_h = 10;
  bool soak = false;  // drift is checked (a run of at least 10 minutes)

  int users() const;  // closed-model users at full level, all roles
  // Throws std::invalid_argument naming the first problem (no role, a bad action, ...).
  void Validate() const;
};

// Scenarios 1-4: "peak", "flood", "creation", "sustained", at a profile: "smoke" (seconds,
// a tenth of the users), "default" (minutes, the story's users and rates) or "soak" (the
// story's durations: Scenario 4 is an hour). Throws std::invalid_argument for an unknown one.
ScenarioSpec Builtin(const std::string& name, const std::string& profile);
std::vector<std::string> BuiltinNames();

// A scenario file: {"name", "title", "seconds", "hot_markets", "watch_new_markets",
// "stages": "30s:100,1m:1000", "roles": [{"name", "action", "users" | "rate_per_min",
// "think_s", "start_s", "seconds"}]}. Throws std::invalid_argument naming the problem.
ScenarioSpec ParseScenario(const std::string& json_text);

}  // namespace pmbench::scenario

#endif  // PMBENCH_SCENARIO_SCENARIO_H_
