#include "lib/queries/queries.h"


#include <algorithm>
#include <map>
#include <memory>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lib/db/testing/test_schema.h"
#include "lib/db/seed.h"
#include "lib/db/staging.h"

namespace pmbench::queries {
namespace {

// One seeded schema (scale 1: 1,000 markets, 100,000 bets) shared by the suite; the bet tests
// work on markets of their own so the read tests' expectations hold whatever order runs.
class QueriesTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    schema_ = std::make_unique<db::test::TestSchema>("queries");
    db::Seed(schema_->url(), schema_->name(), {.scale = 1, .seed = 7});
    paths_ = std::make_unique<QueryPaths>(schema_->name());
  }
  static void TearDownTestSuite() {
    paths_.reset();
    schema_.reset();
  }

  std::string T(const std::string& table) const { return "\"" + schema_->name() + "\"." + table; }
  const QueryPaths& q() const { return *paths_; }
  db::PgSession& direct() { return direct_; }
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    for (auto& r : direct_.QueryRows(sql)) out.push_back(r.at(0));
    return out;
  }
  // A fresh open market with no bets.
  int64_t NewMarket(const std::string& status = "open") {
    static int64_t next = 900'000;
    const int64_t id = ++next;
    direct_.Exec("INSERT INTO " + T("markets") +
                 " (id, title, category, status, creator, created_at, closes_at, outcome) VALUES (" +
                 std::to_string(id) + ", 'test', 'test', '" + status + "', 'c', now(), now() + interval '1 day', " +
                 (status == "resolved" ? "'yes'" : "NULL") + ")");
    return id;
  }

  static std::unique_ptr<db::test::TestSchema> schema_;
  static std::unique_ptr<QueryPaths> paths_;
  db::PgSession direct_{schema_->url()};
  db::PgSession pooled_{db::ResolveStaging().pooled_url};
};
std::unique_ptr<db::test::TestSchema> QueriesTest::schema_;
std::unique_ptr<QueryPaths> QueriesTest::paths_;

std::vector<std::string> Ids(const std::vector<Market>& ms) {
  std::vector<std::string> ids;
  for (const auto& m : ms) ids.push_back(std::to_string(m.id));
  return ids;
}

TEST_F(QueriesTest, PagesVisitEveryMarketOnceInOrder) {
  struct Case {
    ListMarketsArgs args;
    std::string where, order;
  };
  const std::vector<Case> cases = {
      {{.status = "open", .order = MarketOrder::kVolume, .limit = 37}, "status = 'open'", "volume DESC, id DESC"},
      {{.status = "resolved", .order = MarketOrder::kClosesAt, .limit = 50}, "status = 'resolved'", "closes_at, id"},
      {{.status = "open", .category = "sports", .order = MarketOrder::kVolume, .limit = 7},
       "status = 'open' AND category = 'sports'", "volume DESC, id DESC"},
      {{.status = "open", .category = "crypto", .order = MarketOrder::kClosesAt, .limit = 9},
       "status = 'open' AND category = 'crypto'", "closes_at, id"},
  };
  for (const auto& c : cases) {
    const auto want = Column("SELECT id FROM " + T("markets") + " WHERE " + c.where + " ORDER BY " + c.order);
    ASSERT_GT(want.size(), static_cast<size_t>(c.args.limit)) << c.where;  // several pages
    std::vector<std::string> got;
    ListMarketsArgs a = c.args;
    int pages = 0;
    do {
      const MarketPage page = ListMarkets(pooled_, q(), a);
      ASSERT_LE(page.markets.size(), static_cast<size_t>(a.limit));
      for (const auto& m : page.markets) EXPECT_EQ(m.status, c.args.status);
      const auto ids = Ids(page.markets);
      got.insert(got.end(), ids.begin(), ids.end());
      a.after = page.next;
      ASSERT_LT(++pages, 1000);
    } while (!a.after.empty());
    EXPECT_EQ(got, want) << c.where << " by " << c.order;
  }
}

TEST_F(QueriesTest, BadListArgumentsAreRejected) {
  EXPECT_THROW(q().ListMarkets({.status = "open'; DROP TABLE bets; --"}), std::invalid_argument);
  EXPECT_THROW(q().ListMarkets({.limit = 0}), std::invalid_argument);
  EXPECT_THROW(q().ListMarkets({.limit = 101}), std::invalid_argument);
  EXPECT_THROW(q().ListMarkets({.after = "c10.5"}), std::invalid_argument);  // a closes_at cursor for volume
  EXPECT_THROW(q().ListMarkets({.after = "v10"}), std::invalid_argument);
  EXPECT_THROW(q().ListMarkets({.after = "v10.x"}), std::invalid_argument);
  EXPECT_THROW(QueryPaths("pg_catalog"), std::invalid_argument);
  EXPECT_THROW(QueryPaths("Bad-Name"), std::invalid_argument);
  EXPECT_NO_THROW(QueryPaths("public"));  // a platform's own schema is read as it is
}

TEST_F(QueriesTest, MarketDetailHasOddsAndTheLatestTwentyBets) {
  const std::string id = Column("SELECT market_id FROM " + T("bets") + " GROUP BY market_id HAVING count(*) > 30 LIMIT 1").at(0);
  const auto d = GetMarketDetail(pooled_, q(), std::stoll(id));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(std::to_string(d->market.id), id);
  const auto pools = direct_.QueryRows("SELECT yes_pool, no_pool FROM " + T("markets") + " WHERE id = " + id).at(0);
  EXPECT_EQ(d->market.yes_pool, std::stoll(pools[0]));
  EXPECT_DOUBLE_EQ(d->market.odds_yes(), std::stod(pools[0]) / (std::stod(pools[0]) + std::stod(pools[1])));
  const auto want = Column("SELECT id FROM " + T("bets") + " WHERE market_id = " + id + " ORDER BY placed_at DESC LIMIT 20");
  std::vector<std::string> got;
  for (const auto& b : d->last_bets) got.push_back(std::to_string(b.id));
  EXPECT_EQ(got, want);

  EXPECT_FALSE(GetMarketDetail(pooled_, q(), 123'456'789).has_value());
  const int64_t empty = NewMarket();
  const auto e = GetMarketDetail(pooled_, q(), empty);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->last_bets.empty());
  EXPECT_DOUBLE_EQ(e->market.odds_yes(), 0.5);
}

TEST_F(QueriesTest, PlaceBetMovesThePoolsOnceAndRejectsWhatThePlatformWould) {
  const int64_t m = NewMarket();
  BetArgs a{.wallet = "w1", .market_id = m, .side = "yes", .amount = 500, .tx_signature = "sig-a"};
  const BetResult first = PlaceBet(pooled_, q(), a);
  ASSERT_EQ(first.code, BetCode::kOk);
  EXPECT_FALSE(first.replayed);
  EXPECT_EQ(first.yes_pool, 500);
  EXPECT_EQ(PlaceBet(pooled_, q(), {.wallet = "w2", .market_id = m, .side = "no", .amount = 300, .tx_signature = "sig-b"}).no_pool, 300);

  // A retry returns the original bet and moves nothing, even if its arguments differ.
  a.amount = 9999;
  const BetResult retry = PlaceBet(pooled_, q(), a);
  EXPECT_EQ(retry.code, BetCode::kOk);
  EXPECT_TRUE(retry.replayed);
  EXPECT_EQ(retry.bet_id, first.bet_id);
  const auto row = direct_.QueryRows("SELECT yes_pool, no_pool, volume, bet_count FROM " + T("markets") + " WHERE id = " + std::to_string(m)).at(0);
  EXPECT_EQ(row, (std::vector<std::string>{"500", "300", "800", "2"}));

  EXPECT_EQ(PlaceBet(pooled_, q(), {.wallet = "w", .market_id = m, .side = "yes", .amount = 0, .tx_signature = "rej-z1"}).code, BetCode::kBadAmount);
  EXPECT_EQ(PlaceBet(pooled_, q(), {.wallet = "w", .market_id = m, .side = "yes", .amount = -5, .tx_signature = "rej-z2"}).code, BetCode::kBadAmount);
  EXPECT_EQ(PlaceBet(pooled_, q(), {.wallet = "w", .market_id = m, .side = "maybe", .amount = 5, .tx_signature = "rej-z3"}).code, BetCode::kBadSide);
  EXPECT_EQ(PlaceBet(pooled_, q(), {.wallet = "w", .market_id = 987'654'321, .side = "yes", .amount = 5, .tx_signature = "rej-z4"}).code, BetCode::kUnknownMarket);
  for (const char* status : {"closed", "resolved", "cancelled"}) {
    EXPECT_EQ(PlaceBet(pooled_, q(), {.wallet = "w", .market_id = NewMarket(status), .side = "yes", .amount = 5, .tx_signature = std::string("rej-z5") + status}).code,
              BetCode::kMarketClosed) << status;
  }
  // Rejected bets leave no row behind.
  EXPECT_EQ(Column("SELECT count(*) FROM " + T("bets") + " WHERE tx_signature LIKE 'rej-%'").at(0), "0");
}

TEST_F(QueriesTest, ConcurrentBetsOnOneMarketSumExactly) {
  const int64_t m = NewMarket();
  constexpr int kThreads = 8, kBets = 60;
  std::vector<std::thread> threads;
  std::atomic<int64_t> yes{0}, no{0};
  std::atomic<int> replays{0};
  const std::string url = db::ResolveStaging().pooled_url;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      db::PgSession s(url);
      for (int i = 0; i < kBets; ++i) {
        // Every third bet is sent twice, and the second half of the threads repeat the first
        // half's signatures: retries race with their originals.
        const int owner = t % (kThreads / 2);
        const BetArgs a{.wallet = "w" + std::to_string(t), .market_id = m, .side = i % 2 ? "yes" : "no",
                        .amount = 1 + i * 7 + owner, .tx_signature = "c" + std::to_string(owner) + "-" + std::to_string(i)};
        for (int k = 0; k < (i % 3 == 0 ? 2 : 1); ++k) {
          const BetResult r = PlaceBet(s, q(), a);
          ASSERT_EQ(r.code, BetCode::kOk);
          if (r.replayed) {
            ++replays;
          } else {
            (a.side == "yes" ? yes : no) += a.amount;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto row = direct_.QueryRows("SELECT yes_pool, no_pool, bet_count FROM " + T("markets") + " WHERE id = " + std::to_string(m)).at(0);
  EXPECT_EQ(std::stoll(row[0]), yes.load());
  EXPECT_EQ(std::stoll(row[1]), no.load());
  EXPECT_EQ(row[2], std::to_string(kThreads / 2 * kBets));
  EXPECT_EQ(Column("SELECT sum(amount) FROM " + T("bets") + " WHERE market_id = " + std::to_string(m)).at(0),
            std::to_string(yes + no));
  EXPECT_GT(replays.load(), kThreads / 2 * kBets);  // every duplicate was recognised
}

TEST_F(QueriesTest, DashboardSumsEachMarketsStakesAndPayouts) {
  const std::string wallet = Column("SELECT wallet FROM " + T("bets") + " GROUP BY wallet ORDER BY count(*) DESC, wallet LIMIT 1").at(0);
  const Dashboard d = UserDashboard(pooled_, q(), wallet);
  const auto want = direct_.QueryRows(
      "SELECT market_id, sum(CASE WHEN side = 'yes' THEN amount ELSE 0 END), sum(CASE WHEN side = 'no' THEN amount ELSE 0 END) FROM " +
      T("bets") + " WHERE wallet = '" + wallet + "' GROUP BY market_id");
  ASSERT_EQ(d.markets.size(), want.size());
  std::map<int64_t, std::pair<int64_t, int64_t>> stakes;
  for (const auto& r : want) stakes[std::stoll(r[0])] = {std::stoll(r[1]), std::stoll(r[2])};
  int64_t staked = 0;
  for (const auto& row : d.markets) {
    EXPECT_EQ(std::make_pair(row.yes_stake, row.no_stake), stakes.at(row.market_id));
    staked += row.yes_stake + row.no_stake;
  }
  EXPECT_EQ(d.total_staked, staked);

  // A resolved market: the winner takes both pools in proportion to the stake.
  const int64_t m = NewMarket();
  PlaceBet(pooled_, q(), {.wallet = "dash", .market_id = m, .side = "yes", .amount = 100, .tx_signature = "d1"});
  PlaceBet(pooled_, q(), {.wallet = "other", .market_id = m, .side = "yes", .amount = 300, .tx_signature = "d2"});
  PlaceBet(pooled_, q(), {.wallet = "other", .market_id = m, .side = "no", .amount = 600, .tx_signature = "d3"});
  Dashboard open = UserDashboard(pooled_, q(), "dash");
  ASSERT_EQ(open.markets.size(), 1u);
  EXPECT_EQ(open.markets[0].payout, 100 * 1000 / 400);
  EXPECT_DOUBLE_EQ(open.markets[0].odds_yes, 0.4);
  direct_.Exec("UPDATE " + T("markets") + " SET status = 'resolved', outcome = 'no' WHERE id = " + std::to_string(m));
  EXPECT_EQ(UserDashboard(pooled_, q(), "dash").total_payout, 0);
  EXPECT_EQ(UserDashboard(pooled_, q(), "other").total_payout, 1000);
  EXPECT_TRUE(UserDashboard(pooled_, q(), "nobody").markets.empty());
}

TEST_F(QueriesTest, LeaderboardLiveAndMaterializedAgreeAfterARefresh) {
  pooled_.Query(q().RefreshLeaderboard());
  const Leaderboard live = GetLeaderboard(pooled_, q(), 25, LeaderboardSource::kLive);
  const Leaderboard mat = GetLeaderboard(pooled_, q(), 25, LeaderboardSource::kMaterialized);
  ASSERT_EQ(live.by_volume.size(), 25u);
  ASSERT_EQ(live.by_profit.size(), 25u);
  auto key = [](const std::vector<LeaderRow>& rows) {
    std::vector<std::string> k;
    for (const auto& r : rows) k.push_back(r.wallet + ":" + std::to_string(r.volume) + ":" + std::to_string(r.profit));
    return k;
  };
  EXPECT_EQ(key(live.by_volume), key(mat.by_volume));
  EXPECT_EQ(key(live.by_profit), key(mat.by_profit));
  EXPECT_TRUE(std::is_sorted(live.by_volume.begin(), live.by_volume.end(), [](auto& a, auto& b) { return a.volume > b.volume; }));
  EXPECT_TRUE(std::is_sorted(live.by_profit.begin(), live.by_profit.end(), [](auto& a, auto& b) { return a.profit > b.profit; }));
  const std::string top = live.by_volume[0].wallet;
  EXPECT_EQ(Column("SELECT sum(amount) FROM " + T("bets") + " WHERE wallet = '" + top + "'").at(0), std::to_string(live.by_volume[0].volume));

  // A whale appears in the live board at once, in the materialized one after a refresh.
  PlaceBet(pooled_, q(), {.wallet = "whale", .market_id = NewMarket(), .side = "yes", .amount = int64_t{1} << 50, .tx_signature = "whale"});
  EXPECT_EQ(GetLeaderboard(pooled_, q(), 1, LeaderboardSource::kLive).by_volume.at(0).wallet, "whale");
  EXPECT_NE(GetLeaderboard(pooled_, q(), 1, LeaderboardSource::kMaterialized).by_volume.at(0).wallet, "whale");
  pooled_.Query(q().RefreshLeaderboard());
  EXPECT_EQ(GetLeaderboard(pooled_, q(), 1, LeaderboardSource::kMaterialized).by_volume.at(0).wallet, "whale");
}

// Every relation a plan scans sequentially, from EXPLAIN (FORMAT JSON).
void SeqScans(const nlohmann::json& node, std::vector<std::string>& out) {
  if (node.value("Node Type", "") == "Seq Scan") out.push_back(node.value("Relation Name", "?"));
  if (node.contains("Plans")) {
    for (const auto& child : node["Plans"]) SeqScans(child, out);
  }
}

TEST_F(QueriesTest, EveryPathIsServedByAnIndex) {
  const std::string wallet = Column("SELECT wallet FROM " + T("bets") + " LIMIT 1").at(0);
  const std::string market = Column("SELECT market_id FROM " + T("bets") + " LIMIT 1").at(0);
  direct_.Exec("ANALYZE " + T("markets") + ", " + T("bets"));
  const std::vector<std::pair<std::string, Statement>> paths = {
      {"list by volume", q().ListMarkets({})},
      {"list by volume, next page", q().ListMarkets({.after = "v1000000.500"})},
      {"list by category and volume", q().ListMarkets({.category = "sports"})},
      {"list by closes_at", q().ListMarkets({.order = MarketOrder::kClosesAt})},
      {"list by category and closes_at", q().ListMarkets({.category = "sports", .order = MarketOrder::kClosesAt})},
      {"market detail", q().MarketDetail(std::stoll(market))},
      {"dashboard", q().UserDashboard(wallet)},
      {"leaderboard (materialized)", q().Leaderboard(20, LeaderboardSource::kMaterialized)},
  };
  for (const auto& [name, st] : paths) {
    const db::PgResult r = direct_.Query("EXPLAIN (FORMAT JSON) " + *st.sql, st.params);
    const auto plan = nlohmann::json::parse(db::ResultView(r.get()).Get(0, 0));
    std::vector<std::string> seq;
    SeqScans(plan.at(0).at("Plan"), seq);
    EXPECT_TRUE(seq.empty()) << name << " scans sequentially: " << seq.at(0) << "\n" << plan.dump(1);
  }
  // place_bet runs inside a function: its statements are checked by the plan of the same
  // lookups it makes.
  for (const std::string& sql : {"SELECT id FROM " + T("bets") + " WHERE tx_signature = 'x' AND event_index IS NULL",
                                 "SELECT status FROM " + T("markets") + " WHERE id = 5 FOR UPDATE"}) {
    const db::PgResult r = direct_.Query("EXPLAIN (FORMAT JSON) " + sql);
    std::vector<std::string> seq;
    SeqScans(nlohmann::json::parse(db::ResultView(r.get()).Get(0, 0)).at(0).at("Plan"), seq);
    EXPECT_TRUE(seq.empty()) << sql;
  }
}

}  // namespace
}  // namespace pmbench::queries
