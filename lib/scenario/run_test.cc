// A whole-platform run, small: staging's database and pgbouncer, a private ledger, the
// listener and the fan-out server in child processes, browsing and betting users — and a
// stall injected mid-run that the time series must show where it happened.
#include "lib/scenario/run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>

#include "lib/chain/testing/local_ledger.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/db/staging.h"
#include "lib/results/shard_merge.h"

namespace pmbench::scenario {
namespace {

ScenarioSpec Small() {
  ScenarioSpec s;
  s.name = "test";
  s.title = "a small whole-platform run";
  s.seconds = 9;
  s.hot_markets = 4;
  s.interval_s = 0.5;
  s.roles = {{.name = "browse", .action = "browse", .users = 20, .think_s = 0.1},
             {.name = "bet", .action = "bets", .users = 8, .think_s = 0.5}};
  return s;
}

// The lock on markets from 3 s to 5 s: reads wait for it (their p95 in the intervals it
// covers is near the stall), not before it; the run reports how long after its end the
// reads' p95 was back under the SLA, and every bet still reaches the database and the screen.
TEST(ScenarioRunTest, AStallShowsWhenItHappenedAndTheRecoveryIsMeasured) {
  chain::test::LocalLedger ledger({"--slot-ms", "100"});
  const db::Staging st = db::ResolveStaging();
  ScenarioSpec spec = Small();
  spec.stall = Stall{.at_s = 3, .seconds = 2};
  const ScenarioResult r = RunScenario(spec, {.direct_url = st.direct_url, .pooled_url = st.pooled_url, .ledger_url = ledger.url(),
                                              .schema = "scn_test_" + std::to_string(getpid()),
                                              .say = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }});

  const RoleResult& browse = r.roles.at(0);
  // Time 0 is when every role had opened its clients and begun: the stall is timed from the load.
  for (const RoleResult& role : r.roles) EXPECT_LE(std::abs(role.offset_s), 0.5) << role.name;
  const stats::IntervalSeries& series = browse.load.total.series;
  ASSERT_GE(series.size(), 16u);
  const auto p95_ms = [&](double from_s, double to_s) {
    const auto at = [&](double t) { return static_cast<size_t>(std::max(0.0, (t - browse.offset_s) / series.interval_s())); };
    return series.Histogram(at(from_s), at(to_s) + 1).Percentile(95) / 1e6;  // the intervals holding from_s..to_s
  };
  EXPECT_LT(p95_ms(0.5, 2.4), 500) << "before the stall";
  std::string intervals;  // shown when a bar fails
  for (size_t i = 0; i < series.size(); ++i) {
    intervals += std::to_string(i) + ":" + std::to_string(series.count(i)) + "/" +
                 std::to_string(static_cast<int>(series.Histogram(i).Percentile(95) / 1e6)) + " ";
  }
  EXPECT_GE(p95_ms(3.0, 5.5), 1000) << "during the stall; offset " << browse.offset_s << "; interval:count/p95_ms " << intervals;
  EXPECT_LT(p95_ms(6.5, 8.9), 500) << "after it";
  ASSERT_TRUE(r.disturbance_end_s.has_value());
  EXPECT_DOUBLE_EQ(*r.disturbance_end_s, 5);
  ASSERT_TRUE(r.recovery_s.has_value());
  EXPECT_LE(*r.recovery_s, 2.0);
  const auto recovered = std::find_if(r.bars.begin(), r.bars.end(), [](const auto& b) { return b.metric == "recovered"; });
  ASSERT_NE(recovered, r.bars.end());
  EXPECT_TRUE(recovered->pass);

  // Every confirmed bet reached the database and every subscriber of its market.
  ASSERT_EQ(r.sync.size(), 1u);
  EXPECT_EQ(r.sync[0].kind, "bets");
  EXPECT_GT(r.sync[0].confirmed, 20);
  EXPECT_EQ(r.sync[0].stored, r.sync[0].confirmed);
  EXPECT_EQ(r.click.complete, r.sync[0].confirmed);
  EXPECT_EQ(r.click.incomplete, 0);
  EXPECT_EQ(r.ws_lost, 0);
  EXPECT_EQ(r.ws_connections, 20);
  EXPECT_GT(r.confirm_to_commit.count(), 0u);
  // The bets' click to screen includes the stall for those caught by it.
  EXPECT_GE(r.click.latency.max(), 1e9);

  // Where the time went: every process group sampled, the listener and fan-out among them.
  for (const char* name : {"postgresql", "pgbouncer", "listener", "fanout", "generator"}) {
    const auto g = std::find_if(r.processes.begin(), r.processes.end(), [&](const auto& p) { return p.name == name; });
    ASSERT_NE(g, r.processes.end()) << name;
    EXPECT_GT(g->rss_mb_max(), 0) << name;
  }
  EXPECT_FALSE(db::IsSuiteSchema(st.direct_url, "scn_test_" + std::to_string(getpid()))) << "the run's schema is dropped";
}

// One run from two shards loading one platform, merged: every bet is timed on every
// subscriber's screen, whichever shard sent it and whichever shard holds the subscriber.
// Each shard watches half the hot markets (subscriber i watches market 1 + i % 4; shard 0
// holds the even i), so a shard alone cannot time most bets: only the merge can.
TEST(ScenarioRunTest, ShardsOfOneRunMergeIntoTheWholeRun) {
  chain::test::LocalLedger ledger({"--slot-ms", "100"});
  const db::Staging st = db::ResolveStaging();
  ScenarioSpec spec = Small();
  spec.seconds = 6;
  const std::string schema = "scn_shard_test_" + std::to_string(getpid());
  const RunOptions base{.direct_url = st.direct_url, .pooled_url = st.pooled_url, .ledger_url = ledger.url(), .schema = schema,
                        .say = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }};
  PlatformHost host(spec, base);
  const PlatformState state = PlatformState::Parse(host.state().ToJson());  // as a shard reads it
  EXPECT_EQ(state.schema, schema);

  const auto start_at = std::chrono::system_clock::now() + std::chrono::seconds(8);
  std::vector<RunOptions> options(2, base);
  std::vector<ScenarioResult> shards(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    options[i].platform = state;
    options[i].shard_index = i;
    options[i].shard_count = 2;
    options[i].start_at = start_at;
    options[i].shard_plan = "test";
    threads.emplace_back([&, i] { shards[i] = RunScenario(spec, options[i]); });
  }
  for (auto& t : threads) t.join();

  int64_t own_timed = 0, confirmed = 0;
  std::vector<results::ShardFile> files;
  for (const ScenarioResult& r : shards) {
    ASSERT_TRUE(r.shard.has_value());
    EXPECT_EQ(r.watchers, 10);
    EXPECT_EQ(r.roles.at(1).load.clients, 4);  // its part of the 8 betting users (and wallets)
    own_timed += r.click.complete;
    confirmed += r.roles.at(1).confirmed;
    files.push_back({"shard-" + std::to_string(r.shard->index), r.ToJson()});
  }
  const int64_t stored = std::stoll(db::PgSession(st.direct_url).QueryValue(
      "SELECT count(*) FROM \"" + schema + "\".bets WHERE id > " + std::to_string(state.max_bet_id)));
  EXPECT_GT(confirmed, 10);
  EXPECT_EQ(stored, confirmed);
  EXPECT_LT(own_timed, confirmed) << "each shard alone sees only its markets' subscribers";

  const results::ShardMerge m = results::MergeShards(files);
  EXPECT_TRUE(m.pass);
  const nlohmann::json merged = nlohmann::json::parse(m.json);
  const nlohmann::json& whole = merged.at("benchmarks").at(0);
  EXPECT_EQ(whole.at("name"), "scenario/test");
  EXPECT_EQ(whole.at("click_complete").get<int64_t>(), confirmed) << "every bet on every screen";
  EXPECT_EQ(whole.at("click_incomplete").get<int64_t>(), 0);
  EXPECT_EQ(whole.at("click_samples").get<int64_t>(), confirmed);
  EXPECT_EQ(whole.at("bets_confirmed").get<int64_t>(), confirmed);
  EXPECT_EQ(whole.at("bets_stored").get<int64_t>(), stored);
  EXPECT_EQ(whole.at("ws_connections").get<int64_t>(), 20);
  EXPECT_EQ(whole.at("users").get<int64_t>(), 28);
  EXPECT_LT(m.start_spread_ms, 200);
  const auto click = std::find_if(m.bars.begin(), m.bars.end(), [](const auto& b) { return b.metric == "click_to_screen"; });
  ASSERT_NE(click, m.bars.end()) << "the goal is judged on the merged screens";
  EXPECT_TRUE(click->was_measured);
}

TEST(ScenarioRunTest, AShardNeedsAPlatformAndEnoughUsers) {
  ScenarioSpec spec = Small();
  EXPECT_THROW(CheckRunOptions(spec, {.shard_index = 0, .shard_count = 2}), std::invalid_argument);
  PlatformState p;
  p.scenario = "test";
  p.hot_markets = spec.hot_markets;
  EXPECT_NO_THROW(CheckRunOptions(spec, {.platform = p, .shard_index = 1, .shard_count = 8}));
  EXPECT_THROW(CheckRunOptions(spec, {.platform = p, .shard_index = 0, .shard_count = 9}), std::invalid_argument)
      << "8 betting users cannot be shared by 9 shards";
  spec.stall = Stall{.at_s = 1, .seconds = 1};
  EXPECT_THROW(CheckRunOptions(spec, {.platform = p, .shard_index = 0, .shard_count = 2}), std::invalid_argument);
  p.scenario = "peak";
  EXPECT_THROW(CheckRunOptions(Small(), {.platform = p}), std::invalid_argument);
  EXPECT_THROW(PlatformState::Parse("{\"scenario\": \"test\"}"), std::invalid_argument);
}

TEST(ScenarioRunTest, NoLedgerIsOneLineNamingIt) {
  const db::Staging st = db::ResolveStaging();
  try {
    RunScenario(Small(), {.direct_url = st.direct_url, .pooled_url = st.pooled_url, .ledger_url = ""});
    FAIL() << "ran without a ledger";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ledger"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pmbench::scenario
