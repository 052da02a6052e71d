#include "lib/realtime/market_feed.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

#include "lib/realtime/internal/recording_subscriber.h"

#include "lib/db/testing/test_schema.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/db/staging.h"
#include "lib/queries/queries.h"

namespace pmbench::realtime {
namespace {

using Recorder = internal::RecordingSubscriber;

TEST(MarketFeedTest, DecodedChangesOfOtherTablesSchemasOrShapesAreIgnored) {
  const std::string update =
      "table s.markets: UPDATE: id[bigint]:4 title[text]:'Will it''s rain? yes_pool[bigint]:1' category[text]:'c' "
      "status[text]:'open' yes_pool[bigint]:30 no_pool[bigint]:10 volume[bigint]:40 bet_count[integer]:2";
  const auto c = ParseMarketChange(update, "s");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->id, 4);
  EXPECT_EQ(c->data, R"({"id":4,"yes_pool":30,"no_pool":10,"odds_yes":0.750000,"volume":40,"status":"open"})");
  const auto inserted = ParseMarketChange(
      "table \"s\".markets: INSERT: id[bigint]:5 status[text]:'resolved' yes_pool[bigint]:0 no_pool[bigint]:0 volume[bigint]:0", "s");
  ASSERT_TRUE(inserted);
  EXPECT_EQ(inserted->data, R"({"id":5,"yes_pool":0,"no_pool":0,"odds_yes":0.500000,"volume":0,"status":"resolved"})");
  const auto rekeyed = ParseMarketChange(
      "table s.markets: UPDATE: old-key: id[bigint]:6 new-tuple: id[bigint]:7 yes_pool[bigint]:1 no_pool[bigint]:1 volume[bigint]:2", "s");
  ASSERT_TRUE(rekeyed);
  EXPECT_EQ(rekeyed->id, 7);
  EXPECT_FALSE(ParseMarketChange("table t.markets: UPDATE: id[bigint]:4 yes_pool[bigint]:3 no_pool[bigint]:1 volume[bigint]:4", "s"));
  EXPECT_FALSE(ParseMarketChange("table s.bets: INSERT: id[bigint]:4 yes_pool[bigint]:3 no_pool[bigint]:1 volume[bigint]:4", "s"));
  EXPECT_FALSE(ParseMarketChange("table s.markets: DELETE: id[bigint]:4", "s"));
  EXPECT_FALSE(ParseMarketChange("table s.markets: UPDATE: id[bigint]:x yes_pool[bigint]:3 no_pool[bigint]:1 volume[bigint]:4", "s"));
  EXPECT_FALSE(ParseMarketChange("table s.markets: UPDATE: id[bigint]:4 title[text]:'unterminated", "s"));
  EXPECT_FALSE(ParseMarketChange("BEGIN", "s"));
}

class MarketFeedDbTest : public testing::Test {
 protected:
  void SetUp() override {
    db::Migrate(schema_.url(), schema_.name());
    s_.Exec("INSERT INTO \"" + schema_.name() + "\".markets (id, title, category, status, creator, created_at, closes_at)"
            " VALUES (42, 't', 'c', 'open', 'x', now(), now() + interval '1 day')");
  }
  db::test::TestSchema schema_{"feed"};
  db::PgSession s_{schema_.url()};
  Hub hub_;
};

TEST_F(MarketFeedDbTest, ABetReachesTheMarketsSubscribers) {
  MarketFeed feed(schema_.url(), schema_.name(), hub_);
  feed.Start();
  auto one = std::make_shared<Recorder>(), all = std::make_shared<Recorder>();
  hub_.Subscribe("market:42", std::nullopt, one);
  hub_.Subscribe("markets", std::nullopt, all);
  db::PgSession pooled(db::ResolveStaging().pooled_url);
  const queries::QueryPaths q(schema_.name());
  ASSERT_EQ(queries::PlaceBet(pooled, q, {.wallet = "w", .market_id = 42, .side = "yes", .amount = 300, .tx_signature = "f1"}).code,
            queries::BetCode::kOk);
  ASSERT_EQ(queries::PlaceBet(pooled, q, {.wallet = "w", .market_id = 42, .side = "no", .amount = 100, .tx_signature = "f2"}).code,
            queries::BetCode::kOk);
  const auto got = one->Wait(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].find(R"("seq":1,)"), std::string::npos);
  EXPECT_NE(got[1].find(R"("data":{"id":42,"yes_pool":300,"no_pool":100,"odds_yes":0.750000,"volume":400,"status":")"),
            std::string::npos)
      << got[1];
  EXPECT_EQ(all->Wait(2).size(), 2u);
  // A rolled-back change is never announced.
  s_.Exec("BEGIN; UPDATE \"" + schema_.name() + "\".markets SET yes_pool = 1 WHERE id = 42; ROLLBACK");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(one->Wait(3).size(), 2u);
}

// A new market appears on "markets", a settled one on its own channel; a bulk load (the
// seed) announces nothing.
TEST_F(MarketFeedDbTest, NewAndSettledMarketsAreAnnounced) {
  MarketFeed feed(schema_.url(), schema_.name(), hub_);
  feed.Start();
  auto all = std::make_shared<Recorder>();
  auto one = std::make_shared<Recorder>();
  hub_.Subscribe("markets", std::nullopt, all);
  hub_.Subscribe("market:42", std::nullopt, one);
  const std::string m = "\"" + schema_.name() + "\".markets";
  s_.Exec("BEGIN; SELECT pg_logical_emit_message(true, 'pmbench.bulk_load', ''); INSERT INTO " + m +
          " (id, title, category, status, creator, created_at, closes_at) SELECT 900001, 'bulk', 'x', 'open', 'c', now(), "
          "now() + interval '1 day'; COMMIT");
  s_.Exec("INSERT INTO " + m + " (id, title, category, status, creator, created_at, closes_at) VALUES (900002, 'new', 'x', 'open', "
          "'c', now(), now() + interval '1 day')");
  // Settled or reopened, whatever the seed made it: a status change.
  s_.Exec("UPDATE " + m + " SET status = CASE WHEN status = 'cancelled' THEN 'closed' ELSE 'cancelled' END, outcome = NULL "
          "WHERE id = 42");
  const auto got = all->Wait(2);
  ASSERT_EQ(got.size(), 2u);  // the new market, then market 42's change
  EXPECT_NE(got[0].find(R"("id":900002,)"), std::string::npos) << got[0];
  EXPECT_NE(got[0].find(R"("status":"open")"), std::string::npos) << got[0];
  EXPECT_NE(got[1].find(R"("id":42,)"), std::string::npos) << got[1];
  const auto mine = one->Wait(1);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_NE(mine[0].find(R"("status":")"), std::string::npos) << mine[0];
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(all->Wait(3).size(), 2u) << "the bulk insert was announced";
}

TEST_F(MarketFeedDbTest, APooledUrlIsRefusedAtStartNamingTheDirectOne) {
  // pgbouncer refuses a replication connection: the error must say what to give instead.
  MarketFeed feed(db::ResolveStaging().pooled_url, schema_.name(), hub_);
  try {
    feed.Start();
    FAIL() << "a pooled URL was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("transaction pooler"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("direct URL"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(feed.connected());
}

TEST_F(MarketFeedDbTest, ALostConnectionIsReopenedAndSubscribersAreReset) {
  // Named, so that only this feed's connection is cut: other tests listen in parallel.
  const std::string tag = "pmbench_feed_test_" + std::to_string(getpid());
  const std::string url = schema_.url() + (schema_.url().find('?') == std::string::npos ? "?" : "&") + "application_name=" + tag;
  MarketFeed feed(url, schema_.name(), hub_);
  feed.Start();
  auto sub = std::make_shared<Recorder>();
  hub_.Subscribe("market:42", std::nullopt, sub);
  s_.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" + tag + "'");
  auto got = sub->Wait(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], R"({"op":"reset","channel":"market:42","seq":0})");
  EXPECT_GE(feed.reconnects(), 1);
  // Updates flow again on the new connection.
  for (int i = 0; i < 100 && sub->Wait(2).size() < 2; ++i) {
    s_.Exec("UPDATE \"" + schema_.name() + "\".markets SET yes_pool = yes_pool + 1 WHERE id = 42");
  }
  got = sub->Wait(2);
  ASSERT_GE(got.size(), 2u);
  EXPECT_NE(got[1].find(R"("op":"update")"), std::string::npos);
}

TEST_F(MarketFeedDbTest, AnUnreachableDatabaseFailsStart) {
  MarketFeed feed("postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=2", schema_.name(), hub_);
  try {
    feed.Start();
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos);
  }
}

}  // namespace
}  // namespace pmbench::realtime
