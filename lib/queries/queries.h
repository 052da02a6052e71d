// File: queries.h
//
// The platform's query paths: the market list (keyset pages), a market's page, placing a
// bet, a user's dashboard and the leaderboard. Each path is a Statement (SQL text and text
// parameters, never a server-side prepared statement, so it runs under transaction pooling)
// and a parser of its result; the same pair serves the synchronous calls below and the
// asynchronous load engine.
//
//   const QueryPaths q("pmbench");
//   db::PgSession s(pooled_url);
//   MarketPage page = ListMarkets(s, q, {.category = "sports", .limit = 20});
//   page = ListMarkets(s, q, {.category = "sports", .after = page.next});
//   BetResult r = PlaceBet(s, q, {.wallet = w, .market_id = 7, .side = "yes",
//                                 .amount = 1'000'000, .tx_signature = sig});
#ifndef PMBENCH_QUERIES_QUERIES_H_
#define PMBENCH_QUERIES_QUERIES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/db/pg_session.h"
#include "lib/db/result_view.h"

namespace pmbench::queries {

enum class MarketOrder { kVolume, kClosesAt };

struct ListMarketsArgs {
  std::string status = "open";  // open, closed, resolved, cancelled
  std::string category;         // "" for every category
  MarketOrder order = MarketOrder::kVolume;
  int limit = 20;               // 1..100
  std::string after;            // the previous page's `next`; "" for the first page
};

struct Market {
  int64_t id = 0;
  std::string title, category, status, outcome;  // outcome "" until resolved
  int64_t closes_at_us = 0;                      // Unix microseconds
  int64_t yes_pool = 0, no_pool = 0, volume = 0, bet_count = 0;
  // yes_pool / (yes_pool + no_pool); 0.5 for a market nobody has bet on.
  double odds_yes() const;
};

struct MarketPage {
  std::vector<Market> markets;
  std::string next;  // cursor of the following page; "" when this is the last
};

struct Bet {
  int64_t id = 0;
  std::string wallet, side;
  int64_t amount = 0, placed_at_us = 0;
};

struct MarketDetail {
  Market market;
  std::vector<Bet> last_bets;  // newest first, at most 20
};

struct BetArgs {
  std::string wallet;
  int64_t market_id = 0;
  std::string side;  // yes or no
  int64_t amount = 0;
  std::string tx_signature;  // the bet's identity: a retry with it returns the original bet
};

enum class BetCode { kOk, kBadAmount, kBadSide, kUnknownMarket, kMarketClosed };
std::string_view BetCodeName(BetCode c);

struct BetResult {
  BetCode code = BetCode::kOk;
  int64_t bet_id = 0;     // when kOk
  bool replayed = false;  // the signature was already placed: this is the original bet
  int64_t yes_pool = 0, no_pool = 0;  // the market's pools after the bet
};

struct DashboardRow {
  int64_t market_id = 0;
  std::string title, status, outcome;
  int64_t yes_stake = 0, no_stake = 0;  // this wallet's, on each side
  int64_t yes_pool = 0, no_pool = 0;
  int64_t bets = 0;
  double odds_yes = 0.5;
  // Resolved: what the wallet was paid; cancelled: its stake back; otherwise what it would be
  // paid if the side it staked more on won at the current pools.
  int64_t payout = 0;
};

struct Dashboard {
  std::vector<DashboardRow> markets;  // most recently bet on first
  int64_t total_staked = 0, total_payout = 0;
};

struct LeaderRow {
  std::string wallet;
  int64_t volume = 0, profit = 0, bets = 0;
};

enum class LeaderboardSource { kLive, kMaterialized };

struct Leaderboard {
  std::vector<LeaderRow> by_volume, by_profit;
};

// A statement ready to send: SQL owned by the QueryPaths that made it, text parameters.
struct Statement {
  const std::string* sql = nullptr;
  std::vector<std::string> params;
};

// The statement's SQL with each $N replaced by its parameter as a quoted literal: the same
// query for a tool that cannot bind parameters (a pgbench script).
std::string Inline(const Statement& st);

// The SQL of every path for one schema (names are qualified: a pooled session's search_path
// cannot be relied on).
class QueryPaths {
 public:
  // Throws std::invalid_argument for a schema name that is not a plain identifier.
  explicit QueryPaths(const std::string& schema);

  // Throw std::invalid_argument for arguments the platform would reject (bad status, limit,
  // cursor).
  Statement ListMarkets(const ListMarketsArgs& a) const;
  Statement MarketDetail(int64_t market_id) const;
  Statement PlaceBet(const BetArgs& a) const;
  Statement UserDashboard(const std::string& wallet) const;
  Statement Leaderboard(int limit, LeaderboardSource source) const;
  // A governance vote (choice yes, no or abstain) and a new open market; both return one row
  // holding the new id.
  Statement CastVote(int64_t proposal_id, const std::string& voter, const std::string& choice, int64_t nonce,
                     const std::string& signature) const;
  Statement CreateMarket(const std::string& title, const std::string& category, const std::string& creator,
                         int64_t open_days) const;
  // REFRESH MATERIALIZED VIEW CONCURRENTLY: readers keep the old rows meanwhile.
  const std::string& RefreshLeaderboard() const { return refresh_leaderboard_; }

 private:
  std::string list_[2][2];  // [order][with category]
  std::string vote_, create_market_;
  std::string detail_, bet_, dashboard_, leaderboard_[2], refresh_leaderboard_;
};

// Parsers of each statement's result (PGresult). They throw std::runtime_error when the
// result does not have the expected shape.
MarketPage ParseMarketPage(db::ResultView r, const ListMarketsArgs& a);
std::optional<MarketDetail> ParseMarketDetail(db::ResultView r);  // nullopt: no such market
BetResult ParseBetResult(db::ResultView r);
Dashboard ParseDashboard(db::ResultView r);
Leaderboard ParseLeaderboard(db::ResultView r);

// The synchronous paths. Throw std::runtime_error when the database fails.
MarketPage ListMarkets(db::PgSession& s, const QueryPaths& q, const ListMarketsArgs& a);
std::optional<MarketDetail> GetMarketDetail(db::PgSession& s, const QueryPaths& q, int64_t market_id);
BetResult PlaceBet(db::PgSession& s, const QueryPaths& q, const BetArgs& a);
Dashboard UserDashboard(db::PgSession& s, const QueryPaths& q, const std::string& wallet);
Leaderboard GetLeaderboard(db::PgSession& s, const QueryPaths& q, int limit, LeaderboardSource source);

}  // namespace pmbench::queries

#endif  // PMBENCH_QUERIES_QUERIES_H_
