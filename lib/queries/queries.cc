#include "lib/queries/queries.h"


#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

#include "lib/db/database_url.h"

namespace pmbench::queries {
namespace {

// Time columns travel as Unix microseconds: exact, and no timestamp parsing on the hot path.
constexpr std::string_view kUs = "(extract(epoch FROM {}) * 1000000)::bigint";

std::string Us(std::string_view column) {
  std::string s(kUs);
  s.replace(s.find("{}"), 2, column);
  return s;
}

std::string MarketColumns(std::string_view m) {
  const std::string p = std::string(m) + ".";
  return p + "id, " + p + "title, " + p + "category, " + p + "status, coalesce(" + p + "outcome, ''), " +
         Us(p + "closes_at") + ", " + p + "yes_pool, " + p + "no_pool, " + p + "volume, " + p + "bet_count";
}
constexpr int kMarketColumns = 10;

int64_t Int(db::ResultView r, int row, int col) {
  const char* v = r.Get(row, col);
  int64_t out = 0;
  const auto end = v + std::char_traits<char>::length(v);
  if (std::from_chars(v, end, out).ec != std::errc()) {
    throw std::runtime_error(std::string("unexpected value in column ") + r.ColumnName(col) + ": '" + v + "'");
  }
  return out;
}

std::string Text(db::ResultView r, int row, int col) { return r.Get(row, col); }

void ExpectColumns(db::ResultView r, int n, std::string_view what) {
  if (!r.has_rows() || r.columns() != n) {
    throw std::runtime_error(std::string(what) + ": unexpected result shape");
  }
}

Market ReadMarket(db::ResultView r, int row, int col) {
  Market m;
  m.id = Int(r, row, col);
  m.title = Text(r, row, col + 1);
  m.category = Text(r, row, col + 2);
  m.status = Text(r, row, col + 3);
  m.outcome = Text(r, row, col + 4);
  m.closes_at_us = Int(r, row, col + 5);
  m.yes_pool = Int(r, row, col + 6);
  m.no_pool = Int(r, row, col + 7);
  m.volume = Int(r, row, col + 8);
  m.bet_count = Int(r, row, col + 9);
  return m;
}

double Odds(int64_t yes, int64_t no) {
  return yes + no == 0 ? 0.5 : static_cast<double>(yes) / static_cast<double>(yes + no);
}

__extension__ using Int128 = __int128;  // stake x pool overflows 64 bits at lamport scale

// Parimutuel: the winners share both pools in proportion to their stakes.
int64_t Payout(int64_t stake, int64_t winning_pool, int64_t total) {
  if (stake == 0 || winning_pool == 0) return 0;
  return static_cast<int64_t>(static_cast<Int128>(stake) * total / winning_pool);
}

// Cursor: "v<volume>.<id>" or "c<closes_at_us>.<id>".
std::pair<std::string, std::string> ParseCursor(std::string_view c, MarketOrder order) {
  const char tag = order == MarketOrder::kVolume ? 'v' : 'c';
  const auto dot = c.find('.');
  int64_t a = 0, b = 0;
  if (c.size() < 4 || c[0] != tag || dot == std::string_view::npos ||
      std::from_chars(c.data() + 1, c.data() + dot, a).ptr != c.data() + dot ||
      std::from_chars(c.data() + dot + 1, c.data() + c.size(), b).ptr != c.data() + c.size()) {
    throw std::invalid_argument("invalid cursor '" + std::string(c.substr(0, 40)) + "' for this order");
  }
  return {std::to_string(a), std::to_string(b)};
}

}  // namespace

double Market::odds_yes() const { return Odds(yes_pool, no_pool); }

std::string_view BetCodeName(BetCode c) {
  switch (c) {
    case BetCode::kOk: return "ok";
    case BetCode::kBadAmount: return "bad_amount";
    case BetCode::kBadSide: return "bad_side";
    case BetCode::kUnknownMarket: return "unknown_market";
    case BetCode::kMarketClosed: return "market_closed";
  }
  return "?";
}

QueryPaths::QueryPaths(const std::string& schema) {
  db::CheckReadableSchemaName(schema);
  const std::string s = "\"" + schema + "\".";
  // $1 status, [$2 category], then the cursor's two values, then the limit.
  for (int order = 0; order < 2; ++order) {
    for (int cat = 0; cat < 2; ++cat) {
      const int k = cat ? 3 : 2;
      const std::string p = "$" + std::to_string(k), q = "$" + std::to_string(k + 1);
      const std::string keyset =
          order == 0 ? "(m.volume, m.id) < (" + p + "::bigint, " + q + "::bigint)"
                     : "(m.closes_at, m.id) > ('epoch'::timestamptz + " + p + "::bigint * interval '1 microsecond', " +
                           q + "::bigint)";
      list_[order][cat] = "SELECT " + MarketColumns("m") + " FROM " + s + "markets m WHERE m.status = $1" +
                          (cat ? " AND m.category = $2" : "") + " AND " + keyset +
                          (order == 0 ? " ORDER BY m.volume DESC, m.id DESC" : " ORDER BY m.closes_at, m.id") +
                          " LIMIT $" + std::to_string(k + 2);
    }
  }
  detail_ = "SELECT " + MarketColumns("m") + ", b.id, b.wallet, b.side, b.amount, " + Us("b.placed_at") +
            " FROM " + s + "markets m LEFT JOIN LATERAL (SELECT * FROM " + s +
            "bets x WHERE x.market_id = m.id ORDER BY x.placed_at DESC LIMIT 20) b ON true"
            " WHERE m.id = $1 ORDER BY b.placed_at DESC";
  bet_ = "SELECT code, coalesce(bet_id, 0), replayed, coalesce(yes_pool, 0), coalesce(no_pool, 0) FROM " + s +
         "place_bet($1, $2::bigint, $3, $4::bigint, $5)";
  // The wallet's bets are aggregated first (bets_wallet_placed_at), then each market is
  // fetched by key. LIMIT 1 keeps the planner from flattening the lateral into a hash join
  // that reads every market to serve a user with ten bets.
  dashboard_ =
      "SELECT m.id, m.title, m.status, coalesce(m.outcome, ''), m.yes_pool, m.no_pool, b.yes, b.no, b.n FROM"
      " (SELECT market_id, coalesce(sum(amount) FILTER (WHERE side = 'yes'), 0)::bigint AS yes,"
      " coalesce(sum(amount) FILTER (WHERE side = 'no'), 0)::bigint AS no, count(*) AS n, max(placed_at) AS last"
      " FROM " + s + "bets WHERE wallet = $1 GROUP BY market_id) b"
      " CROSS JOIN LATERAL (SELECT * FROM " + s + "markets x WHERE x.id = b.market_id LIMIT 1) m"
      " ORDER BY b.last DESC, m.id";
  const auto board = [&](const std::string& from, const std::string& with) {
    return with + "(SELECT 'v', wallet, volume, profit, bets FROM " + from +
           " ORDER BY volume DESC, wallet LIMIT $1) UNION ALL (SELECT 'p', wallet, volume, profit, bets FROM " +
           from + " ORDER BY profit DESC, wallet LIMIT $1)";
  };
  leaderboard_[0] = board("l", "WITH l AS MATERIALIZED (SELECT * FROM " + s + "leaderboard_live) ");
  leaderboard_[1] = board(s + "leaderboard_mv", "");
  vote_ = "INSERT INTO " + s + "votes (proposal_id, voter, choice, nonce, slot, signature)"
          " VALUES ($1::bigint, $2, $3, $4::bigint, 0, $5) RETURNING id";
  create_market_ = "INSERT INTO " + s + "markets (title, category, status, creator, created_at, closes_at)"
                   " VALUES ($1, $2, 'open', $3, now(), now() + $4::bigint * interval '1 day') RETURNING id";
  refresh_leaderboard_ = "REFRESH MATERIALIZED VIEW CONCURRENTLY " + s + "leaderboard_mv";
}

Statement QueryPaths::ListMarkets(const ListMarketsArgs& a) const {
  static constexpr std::string_view kStatuses[] = {"open", "closed", "resolved", "cancelled"};
  if (std::find(std::begin(kStatuses), std::end(kStatuses), a.status) == std::end(kStatuses)) {
    throw std::invalid_argument("invalid market status '" + a.status.substr(0, 40) + "'");
  }
  if (a.limit < 1 || a.limit > 100) throw std::invalid_argument("limit must be 1..100");
  const int order = a.order == MarketOrder::kVolume ? 0 : 1;
  Statement st{&list_[order][a.category.empty() ? 0 : 1], {a.status}};
  if (!a.category.empty()) st.params.push_back(a.category);
  if (a.after.empty()) {  // before every row: the largest key for DESC, the smallest for ASC
    st.params.push_back(order == 0 ? "9223372036854775807" : "-9007199254740992");  // 1685: before any market
    st.params.push_back(order == 0 ? "9223372036854775807" : "-9223372036854775808");
  } else {
    auto [x, y] = ParseCursor(a.after, a.order);
    st.params.push_back(std::move(x));
    st.params.push_back(std::move(y));
  }
  st.params.push_back(std::to_string(a.limit));
  return st;
}

std::string Inline(const Statement& st) {
  std::string out;
  const std::string& sql = *st.sql;
  for (size_t i = 0; i < sql.size();) {
    if (sql[i] == '$' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      size_t end = i + 1;
      size_t n = 0;
      while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end]))) n = n * 10 + static_cast<size_t>(sql[end++] - '0');
      if (n < 1 || n > st.params.size()) throw std::invalid_argument("statement has $" + std::to_string(n) + " but " + std::to_string(st.params.size()) + " parameters");
      out += '\'';
      for (char c : st.params[n - 1]) {
        if (c == '\'') out += '\'';  // doubled inside the literal
        out += c;
      }
      out += '\'';
      i = end;
    } else {
      out += sql[i++];
    }
  }
  return out;
}

Statement QueryPaths::MarketDetail(int64_t market_id) const { return {&detail_, {std::to_string(market_id)}}; }

Statement QueryPaths::PlaceBet(const BetArgs& a) const {
  return {&bet_, {a.wallet, std::to_string(a.market_id), a.side, std::to_string(a.amount), a.tx_signature}};
}

Statement QueryPaths::UserDashboard(const std::string& wallet) const { return {&dashboard_, {wallet}}; }

Statement QueryPaths::Leaderboard(int limit, LeaderboardSource source) const {
  if (limit < 1 || limit > 1000) throw std::invalid_argument("leaderboard limit must be 1..1000");
  return {&leaderboard_[source == LeaderboardSource::kLive ? 0 : 1], {std::to_string(limit)}};
}

Statement QueryPaths::CastVote(int64_t proposal_id, const std::string& voter, const std::string& choice,
                               int64_t nonce, const std::string& signature) const {
  return {&vote_, {std::to_string(proposal_id), voter, choice, std::to_string(nonce), signature}};
}

Statement QueryPaths::CreateMarket(const std::string& title, const std::string& category, const std::string& creator,
                                   int64_t open_days) const {
  return {&create_market_, {title, category, creator, std::to_string(open_days)}};
}

MarketPage ParseMarketPage(db::ResultView r, const ListMarketsArgs& a) {
  ExpectColumns(r, kMarketColumns, "market list");
  MarketPage page;
  const int n = r.rows();
  page.markets.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) page.markets.push_back(ReadMarket(r, i, 0));
  if (n == a.limit) {
    const Market& last = page.markets.back();
    page.next = (a.order == MarketOrder::kVolume ? "v" + std::to_string(last.volume)
                                                 : "c" + std::to_string(last.closes_at_us)) +
                "." + std::to_string(last.id);
  }
  return page;
}

std::optional<MarketDetail> ParseMarketDetail(db::ResultView r) {
  ExpectColumns(r, kMarketColumns + 5, "market detail");
  if (r.rows() == 0) return std::nullopt;
  MarketDetail d{.market = ReadMarket(r, 0, 0)};
  for (int i = 0; i < r.rows(); ++i) {
    if (r.IsNull(i, kMarketColumns)) continue;  // a market without bets
    d.last_bets.push_back({.id = Int(r, i, kMarketColumns),
                           .wallet = Text(r, i, kMarketColumns + 1),
                           .side = Text(r, i, kMarketColumns + 2),
                           .amount = Int(r, i, kMarketColumns + 3),
                           .placed_at_us = Int(r, i, kMarketColumns + 4)});
  }
  return d;
}

BetResult ParseBetResult(db::ResultView r) {
  ExpectColumns(r, 5, "place_bet");
  if (r.rows() != 1) throw std::runtime_error("place_bet: expected one row");
  static constexpr BetCode kCodes[] = {BetCode::kOk, BetCode::kBadAmount, BetCode::kBadSide,
                                       BetCode::kUnknownMarket, BetCode::kMarketClosed};
  const std::string code = Text(r, 0, 0);
  BetResult b;
  const auto* it = std::find_if(std::begin(kCodes), std::end(kCodes), [&](BetCode c) { return BetCodeName(c) == code; });
  if (it == std::end(kCodes)) throw std::runtime_error("place_bet: unknown code '" + code + "'");
  b.code = *it;
  b.bet_id = Int(r, 0, 1);
  b.replayed = Text(r, 0, 2) == "t";
  b.yes_pool = Int(r, 0, 3);
  b.no_pool = Int(r, 0, 4);
  return b;
}

Dashboard ParseDashboard(db::ResultView r) {
  ExpectColumns(r, 9, "dashboard");
  Dashboard d;
  for (int i = 0; i < r.rows(); ++i) {
    DashboardRow row{.market_id = Int(r, i, 0),
                     .title = Text(r, i, 1),
                     .status = Text(r, i, 2),
                     .outcome = Text(r, i, 3),
                     .yes_stake = Int(r, i, 6),
                     .no_stake = Int(r, i, 7),
                     .yes_pool = Int(r, i, 4),
                     .no_pool = Int(r, i, 5),
                     .bets = Int(r, i, 8)};
    row.odds_yes = Odds(row.yes_pool, row.no_pool);
    const int64_t total = row.yes_pool + row.no_pool;
    if (row.status == "resolved") {
      row.payout = row.outcome == "yes" ? Payout(row.yes_stake, row.yes_pool, total)
                                        : Payout(row.no_stake, row.no_pool, total);
    } else if (row.status == "cancelled") {
      row.payout = row.yes_stake + row.no_stake;
    } else {
      row.payout = row.yes_stake >= row.no_stake ? Payout(row.yes_stake, row.yes_pool, total)
                                                 : Payout(row.no_stake, row.no_pool, total);
    }
    d.total_staked += row.yes_stake + row.no_stake;
    d.total_payout += row.payout;
    d.markets.push_back(std::move(row));
  }
  return d;
}

Leaderboard ParseLeaderboard(db::ResultView r) {
  ExpectColumns(r, 5, "leaderboard");
  Leaderboard b;
  for (int i = 0; i < r.rows(); ++i) {
    LeaderRow row{.wallet = Text(r, i, 1), .volume = Int(r, i, 2), .profit = Int(r, i, 3), .bets = Int(r, i, 4)};
    (Text(r, i, 0) == "v" ? b.by_volume : b.by_profit).push_back(std::move(row));
  }
  return b;
}

namespace {
db::PgResult Run(db::PgSession& s, const Statement& st) { return s.Query(*st.sql, st.params); }
}  // namespace

MarketPage ListMarkets(db::PgSession& s, const QueryPaths& q, const ListMarketsArgs& a) {
  return ParseMarketPage(Run(s, q.ListMarkets(a)).get(), a);
}

std::optional<MarketDetail> GetMarketDetail(db::PgSession& s, const QueryPaths& q, int64_t market_id) {
  return ParseMarketDetail(Run(s, q.MarketDetail(market_id)).get());
}

BetResult PlaceBet(db::PgSession& s, const QueryPaths& q, const BetArgs& a) {
  return ParseBetResult(Run(s, q.PlaceBet(a)).get());
}

Dashboard UserDashboard(db::PgSession& s, const QueryPaths& q, const std::string& wallet) {
  return ParseDashboard(Run(s, q.UserDashboard(wallet)).get());
}

Leaderboard GetLeaderboard(db::PgSession& s, const QueryPaths& q, int limit, LeaderboardSource source) {
  return ParseLeaderboard(Run(s, q.Leaderboard(limit, source)).get());
}

}  // namespace pmbench::queries
