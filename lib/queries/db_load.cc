#include "lib/queries/db_load.h"


#include <chrono>
#include <cstdio>
#include <deque>
#include <random>
#include <stdexcept>

#include "lib/db/async_pg_session.h"
#include "lib/db/pg_session.h"
#include "lib/stats/wall_clock.h"

namespace pmbench::queries {
namespace {

enum class Kind { kList, kDetail, kBet, kDashboard, kLeaderboard, kVote, kCreateMarket, kPoint };

struct KindName {
  Kind kind;
  std::string_view name;
};
constexpr KindName kKinds[] = {
    {Kind::kList, "list_markets"}, {Kind::kDetail, "market_detail"},    {Kind::kBet, "place_bet"},
    {Kind::kDashboard, "dashboard"}, {Kind::kLeaderboard, "leaderboard"}, {Kind::kVote, "vote"},
    {Kind::kCreateMarket, "create_market"}, {Kind::kPoint, "point_select"},
};

constexpr std::pair<DbScenario, std::string_view> kScenarios[] = {
    {DbScenario::kMarkets, "markets"},     {DbScenario::kDetail, "detail"}, {DbScenario::kBets, "bets"},
    {DbScenario::kDashboard, "dashboard"}, {DbScenario::kLeaderboard, "leaderboard"},
    {DbScenario::kMix, "mix"},             {DbScenario::kPointSelect, "point_select"},
    {DbScenario::kBrowse, "browse"},
};

uint64_t Mix64(uint64_t x) {  // splitmix64: request arguments are a pure function of its number
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

std::optional<DbScenario> ParseDbScenario(std::string_view name) {
  for (const auto& [s, n] : kScenarios) {
    if (n == name) return s;
  }
  return std::nullopt;
}

std::string_view DbScenarioName(DbScenario s) {
  for (const auto& [x, n] : kScenarios) {
    if (x == s) return n;
  }
  return "?";
}

DbWorkload::DbWorkload(const std::string& schema, DbLoadOptions o)
    : paths_(schema),
      o_(std::move(o)),
      schema_(schema),
      list_cache_(o_.cache_options,
                  [](const MarketPage& p) {
                    std::vector<int64_t> ids;
                    for (const auto& m : p.markets) ids.push_back(m.id);
                    return ids;
                  }),
      detail_cache_(o_.cache_options),
      leaderboard_cache_(o_.cache_options) {}

std::shared_ptr<DbWorkload> DbWorkload::Prepare(const std::string& url, const std::string& schema, DbLoadOptions o) {
  std::shared_ptr<DbWorkload> w(new DbWorkload(schema, std::move(o)));
  // Each workload signs its bets apart: request numbers restart at 0 with every run, and a
  // repeated signature would be a replay, not a bet.
  char nonce[17];
  std::snprintf(nonce, sizeof nonce, "%016llx", static_cast<unsigned long long>(
                    Mix64(std::random_device()() ^ static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()))));
  w->signature_prefix_ = w->o_.run_tag + "." + nonce;
  db::PgSession s(url);
  const std::string q = "\"" + schema + "\".";
  for (const auto& r : s.QueryRows("SELECT id FROM " + q + "markets WHERE status = 'open' ORDER BY volume DESC, id")) {
    w->open_markets_.push_back(std::stoll(r[0]));
  }
  for (const auto& r : s.QueryRows("SELECT wallet FROM " + q + "users ORDER BY id")) w->wallets_.push_back(r[0]);
  // Only the mix votes: a platform schema without governance serves every other scenario.
  if (!s.QueryValue("SELECT to_regclass('" + q + "proposals')").empty()) {
    for (const auto& r : s.QueryRows("SELECT id FROM " + q + "proposals ORDER BY id")) w->proposals_.push_back(std::stoll(r[0]));
  }
  for (const auto& r : s.QueryRows("SELECT DISTINCT category FROM " + q + "markets ORDER BY 1")) {
    w->categories_.push_back(r[0]);
  }
  if (w->open_markets_.empty() || w->wallets_.empty()) {
    throw std::runtime_error("schema '" + schema + "' holds no open market or no user: seed it first (pmbench db seed)");
  }
  if (!s.QueryValue("SELECT to_regclass('public.pgbench_accounts')").empty()) {
    w->point_select_sql_ = "SELECT abalance FROM public.pgbench_accounts WHERE aid = $1::int";
    w->point_select_rows_ = std::stoll(s.QueryValue("SELECT count(*) FROM public.pgbench_accounts"));
  }
  return w;
}

std::vector<std::pair<std::string, int>> DbWorkload::PgbenchScripts(DbScenario s) const {
  if (s != DbScenario::kMarkets) throw std::invalid_argument("pgbench scripts exist for the markets scenario only");
  // List() draws no category one time in four and each category evenly otherwise, each
  // order half the time: in eighths of a category count n, n for a no-category script and
  // 3 for each (category, order).
  std::vector<std::pair<std::string, int>> scripts;
  const int n = static_cast<int>(categories_.size());
  for (MarketOrder order : {MarketOrder::kVolume, MarketOrder::kClosesAt}) {
    scripts.emplace_back(Inline(paths_.ListMarkets({.order = order})) + ";\n", n);
    for (const auto& c : categories_) {
      scripts.emplace_back(Inline(paths_.ListMarkets({.category = c, .order = order})) + ";\n", 3);
    }
  }
  return scripts;
}

std::vector<load::RequestKind> DbWorkload::Mix(DbScenario s) {
  switch (s) {
    case DbScenario::kMarkets: return {{"list_markets", 1}};
    case DbScenario::kDetail: return {{"market_detail", 1}};
    case DbScenario::kBets: return {{"place_bet", 1}};
    case DbScenario::kDashboard: return {{"dashboard", 1}};
    case DbScenario::kLeaderboard: return {{"leaderboard", 1}};
    case DbScenario::kPointSelect: return {{"point_select", 1}};
    case DbScenario::kBrowse:  // the browsing half of kMix, in its proportions
      return {{"list_markets", 250}, {"market_detail", 200}, {"dashboard", 50}};
    case DbScenario::kMix:
      // Of 1,000 users: 500 browsing (lists, market pages, their dashboard), 300 betting,
      // 150 voting, 50 creating markets.
      return {{"list_markets", 250}, {"market_detail", 200}, {"dashboard", 50},
              {"place_bet", 300},    {"vote", 150},          {"create_market", 50}};
  }
  return {};
}

std::vector<int64_t> DbWorkload::hot_market_ids() const {
  const size_t hot = std::min(open_markets_.size(), static_cast<size_t>(std::max(1, o_.hot_markets)));
  return {open_markets_.begin(), open_markets_.begin() + static_cast<std::ptrdiff_t>(hot)};
}

DbLoadCounters DbWorkload::counters() const {
  return {.bets_placed = bets_placed_.load(),
          .bets_replayed = bets_replayed_.load(),
          .amount_placed = amount_placed_.load(),
          .list_cache = list_cache_.stats(),
          .detail_cache = detail_cache_.stats(),
          .leaderboard_cache = leaderboard_cache_.stats()};
}

void DbWorkload::VerifyBets(const std::string& url) const {
  db::PgSession s(url);
  const std::string q = "\"" + schema_ + "\".";
  std::string ids;
  for (size_t i = 0; i < open_markets_.size() && i < static_cast<size_t>(o_.hot_markets); ++i) {
    if (!ids.empty()) ids += ',';
    ids += std::to_string(open_markets_[i]);
  }
  const auto bad = s.QueryRows(
      "SELECT m.id, m.yes_pool, m.no_pool, m.bet_count, coalesce(b.y, 0), coalesce(b.n, 0), coalesce(b.c, 0) FROM " + q +
      "markets m LEFT JOIN (SELECT market_id, sum(amount) FILTER (WHERE side = 'yes') AS y,"
      " sum(amount) FILTER (WHERE side = 'no') AS n, count(*) AS c FROM " + q + "bets WHERE market_id IN (" + ids +
      ") GROUP BY market_id) b ON b.market_id = m.id WHERE m.id IN (" + ids +
      ") AND (m.yes_pool, m.no_pool, m.bet_count) IS DISTINCT FROM (coalesce(b.y, 0), coalesce(b.n, 0), coalesce(b.c, 0)) LIMIT 1");
  if (!bad.empty()) {
    const auto& r = bad[0];
    throw std::runtime_error("market " + r[0] + ": pools " + r[1] + "/" + r[2] + " and " + r[3] + " bets, but its bets sum to " +
                             r[4] + "/" + r[5] + " in " + r[6]);
  }
  const db::PgResult placed_r =
      s.Query("SELECT count(*) FROM " + q + "bets WHERE starts_with(tx_signature, $1)", {signature_prefix_ + "-"});
  const std::string placed = db::ResultView(placed_r.get()).Get(0, 0);
  if (std::stoll(placed) != bets_placed_.load()) {
    throw std::runtime_error("the run placed " + std::to_string(bets_placed_.load()) + " bets, the table holds " + placed);
  }
}

// One pooled connection; the cache's refreshes share it with the requests, so statements
// queue here and go one at a time.
class DbClient : public load::Client {
 public:
  DbClient(boost::asio::io_context& io, const std::string& url, std::shared_ptr<DbWorkload> w, std::vector<Kind> kinds)
      : session_(io, url), w_(std::move(w)), kinds_(std::move(kinds)) {}

  void Open(std::function<void(std::string)> done) override { session_.Open(std::move(done)); }

  void Start(int kind, uint64_t seq, load::Completion done) override {
    const uint64_t r = Mix64(seq ^ (w_->o_.seed * 0xD1B54A32D192ED03ULL));
    switch (kinds_[static_cast<size_t>(kind)]) {
      case Kind::kList: return List(r, std::move(done));
      case Kind::kDetail: return Detail(r, std::move(done));
      case Kind::kBet: return Bet(r, seq, std::move(done));
      case Kind::kDashboard: return Dash(r, std::move(done));
      case Kind::kLeaderboard: return Board(std::move(done));
      case Kind::kVote: return Vote(r, seq, std::move(done));
      case Kind::kCreateMarket: return Create(r, seq, std::move(done));
      case Kind::kPoint: return Point(r, std::move(done));
    }
  }

 private:
  using Handler = std::function<void(const pg_result*, std::string_view)>;

  void Run(Statement st, Handler h) {
    queue_.push_back({std::move(st), std::move(h)});
    if (queue_.size() == 1) Next();
  }
  void Next() {
    if (queue_.empty()) return;
    session_.Query(*queue_.front().st.sql, queue_.front().st.params, [this](const pg_result* res, std::string_view error) {
      Handler h = std::move(queue_.front().h);
      queue_.pop_front();
      h(res, error);
      Next();
    });
  }

  // Runs `st`, parses with `parse` (which returns "" or why the answer is wrong).
  template <typename Parse>
  void Checked(Statement st, load::Completion done, Parse parse) {
    Run(std::move(st), [done = std::move(done), parse = std::move(parse)](const pg_result* res, std::string_view error) {
      if (!res) return done({.ok = false, .error = std::string(error)});
      try {
        std::string why = parse(res);
        done({.ok = why.empty(), .error = std::move(why)});
      } catch (const std::exception& e) {
        done({.ok = false, .error = e.what()});
      }
    });
  }

  // A cached path: `make` builds the statement, `parse` turns its result into the value.
  template <typename V, typename Parse>
  void Cached(Cache<V>& cache, const std::string& key, std::vector<int64_t> tags, Statement st, Parse parse,
              std::function<std::string(const V&)> check, load::Completion done) {
    cache.Get(
        key, std::move(tags),
        [this, st = std::move(st), parse = std::move(parse)](typename Cache<V>::Done loaded) {
          Run(st, [loaded = std::move(loaded), parse](const pg_result* res, std::string_view error) {
            if (!res) return loaded(nullptr, std::string(error));
            try {
              loaded(std::make_shared<const V>(parse(res)), "");
            } catch (const std::exception& e) {
              loaded(nullptr, e.what());
            }
          });
        },
        [done = std::move(done), check = std::move(check)](typename Cache<V>::Value v, const std::string& error) {
          if (!v) return done({.ok = false, .error = error});
          std::string why = check(*v);
          done({.ok = why.empty(), .error = std::move(why)});
        });
  }

  void List(uint64_t r, load::Completion done) {
    // Drawn as PgbenchScripts() weighs them: a quarter without category, orders even.
    const auto& cats = w_->categories_;
    ListMarketsArgs a{.category = r % 4 == 0 ? "" : cats[(r >> 8) % cats.size()],
                      .order = (r >> 16) % 2 ? MarketOrder::kVolume : MarketOrder::kClosesAt};
    const auto check = [](const MarketPage& p) -> std::string {
      if (p.markets.size() > 20) return "list: too many rows";
      for (const auto& m : p.markets) {
        if (m.status != "open") return "list: a market that is not open";
      }
      return "";
    };
    Statement st = w_->paths_.ListMarkets(a);
    if (!w_->o_.cache) {
      return Checked(std::move(st), std::move(done), [a, check](const pg_result* res) { return check(ParseMarketPage(res, a)); });
    }
    const std::string key = a.category + (a.order == MarketOrder::kVolume ? "/v" : "/c");
    Cached<MarketPage>(w_->list_cache_, key, {}, std::move(st), [a](const pg_result* res) { return ParseMarketPage(res, a); },
                       check, std::move(done));
  }

  void Detail(uint64_t r, load::Completion done) {
    const int64_t id = w_->open_markets_[r % w_->open_markets_.size()];
    const auto check = [id](const std::optional<MarketDetail>& d) -> std::string {
      if (!d || d->market.id != id) return "detail: market missing";
      return d->last_bets.size() > 20 ? "detail: too many bets" : "";
    };
    if (!w_->o_.cache) {
      return Checked(w_->paths_.MarketDetail(id), std::move(done), [check](const pg_result* res) { return check(ParseMarketDetail(res)); });
    }
    Cached<MarketDetail>(
        w_->detail_cache_, "m" + std::to_string(id), {id}, w_->paths_.MarketDetail(id),
        [](const pg_result* res) {
          auto d = ParseMarketDetail(res);
          if (!d) throw std::runtime_error("detail: market missing");
          return *d;
        },
        [check](const MarketDetail& d) { return check(d); }, std::move(done));
  }

  void Bet(uint64_t r, uint64_t seq, load::Completion done) {
    const auto& markets = w_->open_markets_;
    const size_t hot = std::min(markets.size(), static_cast<size_t>(std::max(1, w_->o_.hot_markets)));
    BetArgs a{.wallet = w_->wallets_[(r >> 8) % w_->wallets_.size()],
              .market_id = markets[r % hot],
              .side = (r >> 40) % 2 ? "yes" : "no",
              .amount = static_cast<int64_t>(1'000'000 + (r >> 20) % 1'000'000'000),
              .tx_signature = w_->signature_prefix_ + "-" + std::to_string(seq)};
    DbWorkload* w = w_.get();
    const int64_t start_ns = stats::WallClockNs();
    Checked(w_->paths_.PlaceBet(a), std::move(done), [w, a, start_ns](const pg_result* res) -> std::string {
      const BetResult b = ParseBetResult(res);
      if (b.code != BetCode::kOk) return std::string(BetCodeName(b.code));
      if (w->o_.on_bet) w->o_.on_bet(a, b, start_ns);
      if (b.replayed) {
        ++w->bets_replayed_;
        return "";
      }
      ++w->bets_placed_;
      w->amount_placed_ += a.amount;
      if (w->o_.cache) {
        w->list_cache_.Invalidate(a.market_id);
        w->detail_cache_.Invalidate(a.market_id);
      }
      return "";
    });
  }

  void Dash(uint64_t r, load::Completion done) {
    Checked(w_->paths_.UserDashboard(w_->wallets_[r % w_->wallets_.size()]), std::move(done),
            [](const pg_result* res) -> std::string {
              const Dashboard d = ParseDashboard(res);
              return d.total_staked < 0 ? "dashboard: negative stake" : "";
            });
  }

  void Board(load::Completion done) {
    const auto check = [](const Leaderboard& b) -> std::string {
      return b.by_volume.empty() ? "leaderboard: empty" : "";
    };
    Statement st = w_->paths_.Leaderboard(20, w_->o_.leaderboard);
    if (!w_->o_.cache) {
      return Checked(std::move(st), std::move(done), [check](const pg_result* res) { return check(ParseLeaderboard(res)); });
    }
    Cached<Leaderboard>(w_->leaderboard_cache_, "top20", {}, std::move(st), [](const pg_result* res) { return ParseLeaderboard(res); },
                        check, std::move(done));
  }

  void Vote(uint64_t r, uint64_t seq, load::Completion done) {
    static constexpr std::string_view kChoices[] = {"yes", "no", "abstain"};
    Checked(w_->paths_.CastVote(w_->proposals_[r % w_->proposals_.size()], w_->wallets_[(r >> 8) % w_->wallets_.size()],
                                std::string(kChoices[(r >> 32) % 3]), static_cast<int64_t>(seq),
                                w_->signature_prefix_ + "-v" + std::to_string(seq)),
            std::move(done), [](const pg_result* res) { return db::ResultView(res).rows() == 1 ? "" : "vote: no id returned"; });
  }

  void Create(uint64_t r, uint64_t seq, load::Completion done) {
    const auto& cats = w_->categories_;
    Checked(w_->paths_.CreateMarket("Load market " + std::to_string(seq), cats[r % cats.size()],
                                    w_->wallets_[(r >> 8) % w_->wallets_.size()], 1 + static_cast<int64_t>((r >> 20) % 30)),
            std::move(done), [](const pg_result* res) { return db::ResultView(res).rows() == 1 ? "" : "create_market: no id returned"; });
  }

  void Point(uint64_t r, load::Completion done) {
    if (w_->point_select_sql_.empty()) return done({.ok = false, .error = "no pgbench_accounts table (pgbench -i)"});
    Statement st{&w_->point_select_sql_, {std::to_string(1 + r % static_cast<uint64_t>(w_->point_select_rows_))}};
    Checked(std::move(st), std::move(done), [](const pg_result* res) { return db::ResultView(res).rows() == 1 ? "" : "point_select: no row"; });
  }

  struct Queued {
    Statement st;
    Handler h;
  };
  db::AsyncPgSession session_;
  std::shared_ptr<DbWorkload> w_;
  std::vector<Kind> kinds_;
  std::deque<Queued> queue_;
};

load::ClientFactory DbWorkload::Clients(const std::string& pooled_url, DbScenario s) {
  std::vector<Kind> kinds;
  for (const auto& k : Mix(s)) {
    for (const auto& [kind, name] : kKinds) {
      if (name == k.name) kinds.push_back(kind);
    }
  }
  if (s == DbScenario::kMix && proposals_.empty()) {
    throw std::runtime_error("the mix votes on proposals, and schema '" + schema_ + "' holds none: seed it first (pmbench db seed)");
  }
  if (s == DbScenario::kPointSelect && point_select_sql_.empty()) {
    throw std::runtime_error("point_select needs pgbench's tables: run pgbench -i on the database first");
  }
  auto self = shared_from_this();
  return [self, pooled_url, kinds](boost::asio::io_context& io, int) {
    return std::make_unique<DbClient>(io, pooled_url, self, kinds);
  };
}

}  // namespace pmbench::queries
