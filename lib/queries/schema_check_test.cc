#include "lib/queries/schema_check.h"

#include <gtest/gtest.h>

#include "lib/db/pg_session.h"
#include "lib/db/seed.h"
#include "lib/db/staging.h"
#include "lib/db/testing/test_schema.h"
#include "lib/load/engine.h"
#include "lib/queries/db_load.h"

namespace pmbench::queries {
namespace {

constexpr DbScenario kAll[] = {DbScenario::kMarkets,     DbScenario::kDetail, DbScenario::kBets,  DbScenario::kDashboard,
                               DbScenario::kLeaderboard, DbScenario::kMix,    DbScenario::kBrowse};

TEST(SchemaCheckTest, TheSuitesOwnSchemaMeetsEveryPath) {
  db::test::TestSchema schema("needs");
  db::Seed(schema.url(), schema.name(), {.scale = 0.01, .seed = 1});
  db::PgSession s(schema.url());
  for (DbScenario sc : kAll) EXPECT_EQ(Missing(s, schema.name(), NeedsOf(sc)), std::vector<std::string>{}) << DbScenarioName(sc);
  EXPECT_TRUE(Missing(s, schema.name(), ApiNeeds()).empty());
  EXPECT_TRUE(Missing(s, schema.name(), FeedNeeds()).empty());
}

// A platform's own schema: its tables under its own names, and views giving the suite the
// names it reads. Checked, never migrated; what is missing is named, all of it at once.
class PlatformSchemaTest : public testing::Test {
 protected:
  void SetUp() override {
    db::PgSession s(schema_.url());
    const std::string q = "\"" + schema_.name() + "\".";
    s.Exec("CREATE SCHEMA \"" + schema_.name() + "\"");
    s.Exec("CREATE TABLE " + q + "prediction_markets (market_id bigint PRIMARY KEY, question text, topic text, state text, "
           "result text, ends_at timestamptz, yes_total bigint, no_total bigint)");
    s.Exec("INSERT INTO " + q + "prediction_markets SELECT i, 'Will it happen #' || i, 'sports', 'open', NULL, now() + interval '1 day', "
           "i * 10, i * 7 FROM generate_series(1, 50) i");
    s.Exec("CREATE TABLE " + q + "profiles (id bigint PRIMARY KEY, wallet_address text)");
    s.Exec("INSERT INTO " + q + "profiles SELECT i, 'wallet' || i FROM generate_series(1, 10) i");
  }
  db::test::TestSchema schema_{"platform"};
};

TEST_F(PlatformSchemaTest, NamesEverythingMissingAndChangesNothing) {
  db::PgSession s(schema_.url());
  EXPECT_EQ(Missing(s, schema_.name(), NeedsOf(DbScenario::kMarkets)), (std::vector<std::string>{"table markets", "table users"}));
  const std::string q = "\"" + schema_.name() + "\".";
  s.Exec("CREATE VIEW " + q + "markets AS SELECT market_id AS id, question AS title, topic AS category, state AS status, "
         "result AS outcome, ends_at AS closes_at, yes_total AS yes_pool, no_total AS no_pool FROM " + q + "prediction_markets");
  EXPECT_EQ(Missing(s, schema_.name(), NeedsOf(DbScenario::kMarkets)),
            (std::vector<std::string>{"column markets.volume", "column markets.bet_count", "table users"}));
  try {
    CheckSchema(schema_.url(), schema_.name(), NeedsOf(DbScenario::kDetail), "load db --scenario detail");
    FAIL() << "a schema without bets passed";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("lacks what load db --scenario detail needs: column markets.volume, column markets.bet_count, "
                                         "table users, table bets"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(s.QueryValue("SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema_.name() + "'"), "2");  // nothing added
  EXPECT_THROW(CheckSchema(schema_.url(), "no_such_schema", NeedsOf(DbScenario::kMarkets), "x"), std::runtime_error);
}

// With views naming what the suite reads, the market list runs on the platform's own
// tables: every answer passes its check.
TEST_F(PlatformSchemaTest, TheMarketListRunsOnItThroughViews) {
  db::PgSession s(schema_.url());
  const std::string q = "\"" + schema_.name() + "\".";
  s.Exec("CREATE VIEW " + q + "markets AS SELECT market_id AS id, question AS title, topic AS category, state AS status, "
         "result AS outcome, ends_at AS closes_at, yes_total AS yes_pool, no_total AS no_pool, yes_total + no_total AS volume, "
         "0::bigint AS bet_count FROM " + q + "prediction_markets");
  s.Exec("CREATE VIEW " + q + "users AS SELECT id, wallet_address AS wallet FROM " + q + "profiles");
  CheckSchema(schema_.url(), schema_.name(), NeedsOf(DbScenario::kMarkets), "load db --scenario markets");
  auto w = DbWorkload::Prepare(schema_.url(), schema_.name());
  const auto r = load::RunLoad({.start = 100, .stages = {{1, 100}}, .clients = 4, .mix = DbWorkload::Mix(DbScenario::kMarkets)},
                               w->Clients(db::ResolveStaging().pooled_url, DbScenario::kMarkets));
  EXPECT_EQ(r.total.ok, 100) << (r.total.errors.empty() ? "" : r.total.errors.begin()->first);
  EXPECT_THROW(w->Clients(db::ResolveStaging().pooled_url, DbScenario::kMix), std::runtime_error);  // no proposals to vote on
}

}  // namespace
}  // namespace pmbench::queries
