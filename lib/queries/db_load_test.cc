#include "lib/queries/db_load.h"

#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "lib/db/testing/test_schema.h"
#include "lib/db/result_view.h"
#include "lib/db/seed.h"
#include "lib/db/staging.h"
#include "lib/stats/threshold.h"

namespace pmbench::queries {
namespace {

class DbLoadTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    schema_ = std::make_unique<db::test::TestSchema>("dbload");
    db::Seed(schema_->url(), schema_->name(), {.scale = 0.2, .seed = 3});
  }
  static void TearDownTestSuite() { schema_.reset(); }
  static std::unique_ptr<db::test::TestSchema> schema_;
  const std::string pooled_ = db::ResolveStaging().pooled_url;

  // After `after`, holds an ACCESS EXCLUSIVE lock on the markets for `hold`: the server
  // stalls every query on them. Join the thread.
  std::thread StallMarkets(std::chrono::milliseconds after, std::chrono::milliseconds hold) const {
    return std::thread([url = schema_->url(), markets = "\"" + schema_->name() + "\".markets", after, hold] {
      db::PgSession s(url);
      std::this_thread::sleep_for(after);
      s.Exec("BEGIN; LOCK TABLE " + markets + " IN ACCESS EXCLUSIVE MODE");
      std::this_thread::sleep_for(hold);  // the stall itself
      s.Exec("COMMIT");
    });
  }
};
std::unique_ptr<db::test::TestSchema> DbLoadTest::schema_;

int Threads() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (const dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

TEST_F(DbLoadTest, MixRunsEveryKindAndTheBetsAddUp) {
  auto w = DbWorkload::Prepare(schema_->url(), schema_->name(), {.run_tag = "mixtest", .hot_markets = 5});
  // A bound far above the clients: on a busy machine late timers make many requests due at
  // once, and this test counts every request, not drops.
  const load::LoadResult r = load::RunLoad({.start = 300, .stages = {{1.5, 300}}, .clients = 20, .max_in_flight = 4000,
                                            .mix = w->Mix(DbScenario::kMix)},
                                           w->Clients(pooled_, DbScenario::kMix));
  for (const auto& k : r.kinds) {
    EXPECT_GT(k.ok, 0) << k.name;
    EXPECT_EQ(k.failed, 0) << k.name << ": " << (k.errors.empty() ? "" : k.errors.begin()->first);
  }
  EXPECT_EQ(r.total.ok, 450);
  EXPECT_EQ(w->counters().bets_placed, r.kinds[3].ok);
  EXPECT_NO_THROW(w->VerifyBets(schema_->url()));
}

// pgbench, the limit BM_MarketsThroughput measures beside the engine, must run the very
// statements the clients send, weighted as the clients draw them.
TEST_F(DbLoadTest, PgbenchScriptsAreTheClientsListsWeightedAsDrawn) {
  auto w = DbWorkload::Prepare(schema_->url(), schema_->name());
  const auto scripts = w->PgbenchScripts(DbScenario::kMarkets);
  db::PgSession s(schema_->url());
  const auto categories = s.QueryRows("SELECT DISTINCT category FROM \"" + schema_->name() + "\".markets");
  const int n = static_cast<int>(categories.size());
  ASSERT_GT(n, 1);
  ASSERT_EQ(scripts.size(), 2 * (1 + categories.size()));
  int total = 0, no_category = 0;
  for (const auto& [sql, weight] : scripts) {
    total += weight;
    if (sql.find("AND m.category = ") == std::string::npos) no_category += weight;
  }
  EXPECT_EQ(no_category * 4, total);  // List(): no category one time in four
  // Each script returns the page the parameterised statement returns.
  for (MarketOrder order : {MarketOrder::kVolume, MarketOrder::kClosesAt}) {
    const Statement st = w->paths().ListMarkets({.category = categories[0][0], .order = order});
    const std::string inlined = Inline(st) + ";\n";
    const auto it = std::find_if(scripts.begin(), scripts.end(), [&](const auto& p) { return p.first == inlined; });
    ASSERT_NE(it, scripts.end()) << inlined;
    const auto result = s.Query(*st.sql, st.params);
    const db::ResultView want(result.get());
    const auto got = s.QueryRows(Inline(st));
    ASSERT_EQ(got.size(), static_cast<size_t>(want.rows()));
    ASSERT_FALSE(got.empty());
    for (size_t r = 0; r < got.size(); ++r) EXPECT_EQ(got[r][0], want.Get(static_cast<int>(r), 0));
  }
  EXPECT_THROW(w->PgbenchScripts(DbScenario::kBets), std::invalid_argument);
}

TEST(InlineTest, QuotesEachParameterInPlace) {
  const std::string sql = "SELECT $1, $10, $2 WHERE x = $1";
  Statement st{&sql, {"a'b", "2", "3", "4", "5", "6", "7", "8", "9", "ten"}};
  EXPECT_EQ(Inline(st), "SELECT 'a''b', 'ten', '2' WHERE x = 'a''b'");
  st.params.resize(2);
  EXPECT_THROW(Inline(st), std::invalid_argument);  // $10 has no parameter
}

TEST_F(DbLoadTest, RepeatedRunsWithOneTagPlaceNewBets) {
  for (int run = 0; run < 2; ++run) {
    auto w = DbWorkload::Prepare(schema_->url(), schema_->name(), {.run_tag = "again", .hot_markets = 3});
    const load::LoadResult r = load::RunLoad({.start = 100, .stages = {{0.3, 100}}, .clients = 4, .mix = w->Mix(DbScenario::kBets)},
                                             w->Clients(pooled_, DbScenario::kBets));
    EXPECT_EQ(w->counters().bets_placed, r.total.ok) << "run " << run;
    EXPECT_EQ(w->counters().bets_replayed, 0) << "run " << run;
    EXPECT_NO_THROW(w->VerifyBets(schema_->url()));
  }
}

TEST_F(DbLoadTest, VerificationCatchesPoolsThatDisagreeWithTheirBets) {
  auto w = DbWorkload::Prepare(schema_->url(), schema_->name(), {.run_tag = "verifytest", .hot_markets = 3});
  load::RunLoad({.start = 100, .stages = {{0.5, 100}}, .clients = 4, .mix = w->Mix(DbScenario::kBets)},
                w->Clients(pooled_, DbScenario::kBets));
  EXPECT_NO_THROW(w->VerifyBets(schema_->url()));
  db::PgSession s(schema_->url());
  const std::string one_market = "(SELECT market_id FROM \"" + schema_->name() + "\".bets WHERE starts_with(tx_signature, '" +
                                 w->signature_prefix() + "') LIMIT 1)";
  s.Exec("UPDATE \"" + schema_->name() + "\".markets SET yes_pool = yes_pool + 1 WHERE id = " + one_market);
  EXPECT_THROW(w->VerifyBets(schema_->url()), std::runtime_error);
  s.Exec("UPDATE \"" + schema_->name() + "\".markets SET yes_pool = yes_pool - 1 WHERE id = " + one_market);
}

TEST_F(DbLoadTest, CachedReadsAreServedFromMemoryAndBetsInvalidateTheirMarket) {
  auto w = DbWorkload::Prepare(schema_->url(), schema_->name(),
                               {.cache = true, .cache_options = {.ttl = std::chrono::seconds(30)}, .run_tag = "cachetest"});
  const load::LoadResult r = load::RunLoad({.start = 1000, .stages = {{1, 1000}}, .clients = 10, .max_in_flight = 4000,
                                            .mix = w->Mix(DbScenario::kMarkets)},
                                           w->Clients(pooled_, DbScenario::kMarkets));  // bound: as above
  EXPECT_EQ(r.total.ok, 1000);
  const auto c = w->counters().list_cache;
  EXPECT_LE(c.loads, 14);  // 7 categories (6 and "all") x 2 orders, each loaded once
  EXPECT_GE(c.hits + c.misses, 1000);

  // A bet on a listed market drops the pages that list it.
  load::RunLoad({.start = 50, .stages = {{0.2, 50}}, .clients = 2, .mix = w->Mix(DbScenario::kBets)},
                w->Clients(pooled_, DbScenario::kBets));
  EXPECT_GT(w->counters().list_cache.invalidated, 0);
}

// The open model through a real server that stalls: a lock held for 0.5 s stops every
// request; those due meanwhile wait for a connection, and only the latency from the intended
// start shows what their users saw.
TEST_F(DbLoadTest, AStalledServerShowsInCorrectedLatencyOnly) {
  auto w = DbWorkload::Prepare(schema_->url(), schema_->name(), {});
  std::thread locker = StallMarkets(std::chrono::milliseconds(700), std::chrono::milliseconds(500));
  const load::LoadResult r = load::RunLoad({.start = 200, .stages = {{2.5, 200}}, .clients = 2, .max_in_flight = 1000,
                                            .mix = w->Mix(DbScenario::kMarkets), .threads = 1},
                                           w->Clients(pooled_, DbScenario::kMarkets));
  locker.join();
  EXPECT_EQ(r.total.ok, 500);
  // ~100 requests fell due during the stall and waited 0-500 ms; only the 2 in flight when
  // it began were slow to serve.
  EXPECT_GT(r.total.latency.Percentile(90), 150e6);
  EXPECT_GT(r.total.latency.max(), 400e6);
  EXPECT_LT(r.total.service.Percentile(90), 50e6);
}

// A server that stalls past the run's deadline: the requests it never answered are the
// slowest, and they must count — p(99) fails and success drops below 1, though every
// request that was answered was quick.
TEST_F(DbLoadTest, AStallPastTheDeadlineCannotPassP99ByLosingItsSlowest) {
  auto w = DbWorkload::Prepare(schema_->url(), schema_->name(), {});
  // Stalled past the deadline (1 s + 0.3 s).
  std::thread locker = StallMarkets(std::chrono::milliseconds(700), std::chrono::milliseconds(2000));
  const load::LoadResult r = load::RunLoad({.start = 200, .stages = {{1, 200}}, .clients = 2, .max_in_flight = 1000,
                                            .mix = w->Mix(DbScenario::kMarkets), .threads = 1, .drain_s = 0.3},
                                           w->Clients(pooled_, DbScenario::kMarkets));
  locker.join();
  // ~60 requests fell due after the stall began; none was answered before the deadline.
  EXPECT_GT(r.total.unfinished, 30);
  EXPECT_EQ(r.total.requests(), 200);
  EXPECT_EQ(r.total.latency.count(), 200u);
  EXPECT_LT(r.total.success_ratio().value(), 0.9);
  const auto bar = stats::Threshold::Parse("p(99)<100ms");
  EXPECT_FALSE(bar.Evaluate({.latency = &r.total.latency}).pass);
  EXPECT_GE(r.total.latency.Percentile(99), 300e6);
  // What a tool timing only the answered requests would have reported: a pass.
  EXPECT_TRUE(bar.Evaluate({.latency = &r.total.service}).pass);
}

TEST_F(DbLoadTest, AThousandConnectionsNeedNoMoreThreadsThanCores) {
  auto w = DbWorkload::Prepare(schema_->url(), schema_->name(), {});
  const int before = Threads();
  int most = 0;
  const load::LoadResult r = load::RunLoad(
      {.start = 500, .stages = {{1.5, 500}}, .clients = 1000, .mix = w->Mix(DbScenario::kDetail), .threads = 2,
       .progress = [&](const load::Progress&) { most = std::max(most, Threads()); }},
      w->Clients(pooled_, DbScenario::kDetail));
  EXPECT_EQ(r.clients, 1000);
  EXPECT_EQ(r.total.ok, 750);
  EXPECT_GT(most, 0);
  EXPECT_LE(most - before, 2);  // the engine's two loops, nothing per connection
}

TEST_F(DbLoadTest, AnUnreachableDatabaseFailsTheRunBeforeItStarts) {
  auto w = DbWorkload::Prepare(schema_->url(), schema_->name(), {});
  EXPECT_THROW(load::RunLoad({.start = 10, .stages = {{1, 10}}, .clients = 3, .mix = w->Mix(DbScenario::kMarkets)},
                             w->Clients("postgresql://pmbench@127.0.0.1:1/pmbench", DbScenario::kMarkets)),
               std::runtime_error);
  EXPECT_THROW(DbWorkload::Prepare(schema_->url(), "no_such_schema", {}), std::runtime_error);
}

}  // namespace
}  // namespace pmbench::queries
