// File: db_load.h
//
// The platform's database load, for the load engine: which requests each scenario sends,
// with what arguments, through which connections, and how each answer is checked. Used by
// the e2e benchmarks and `pmbench load db`.
//
//   DbWorkload w = DbWorkload::Prepare(direct_url, "pmbench", {.cache = true});
//   LoadSpec spec{.start = 2000, .stages = {{30, 2000}}, .clients = 1000,
//                 .mix = w.Mix(DbScenario::kMarkets)};
//   LoadResult r = RunLoad(spec, w.Clients(pooled_url));
//   w.VerifyBets(direct_url);   // the pools equal the bets placed; throws otherwise
#ifndef PMBENCH_QUERIES_DB_LOAD_H_
#define PMBENCH_QUERIES_DB_LOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/load/engine.h"
#include "lib/queries/cache.h"
#include "lib/queries/queries.h"

namespace pmbench::queries {

// kMix is the story's Scenario 1 (500 browsing, 300 betting, 150 voting, 50 creating
// markets) as database requests; kBrowse its reads alone (lists, market pages, dashboards:
// what a scenario's browsing users send while bets go on chain); kPointSelect is pgbench -S's statement, for comparing the engine with pgbench.
enum class DbScenario { kMarkets, kDetail, kBets, kDashboard, kLeaderboard, kMix, kPointSelect, kBrowse };
std::optional<DbScenario> ParseDbScenario(std::string_view name);
std::string_view DbScenarioName(DbScenario s);

struct DbLoadOptions {
  bool cache = false;  // list, detail and leaderboard through the in-process cache
  CacheOptions cache_options;
  LeaderboardSource leaderboard = LeaderboardSource::kMaterialized;
  std::string run_tag = "load";  // the signatures of this run's bets: <run_tag>.<nonce>-<n>
  int hot_markets = 50;          // bets go to this many of the open markets
  uint64_t seed = 1;
  // Called for every bet the database accepted, from the engine's threads, with the
  // request's start (CLOCK_REALTIME ns): the real-time benchmark times fan-out from it.
  std::function<void(const BetArgs&, const BetResult&, int64_t start_ns)> on_bet;
};

struct DbLoadCounters {
  int64_t bets_placed = 0, bets_replayed = 0, amount_placed = 0;
  CacheStats list_cache, detail_cache, leaderboard_cache;
};

class DbWorkload : public std::enable_shared_from_this<DbWorkload> {
 public:
  // Reads the markets, wallets and proposals the requests draw from. Throws
  // std::runtime_error when the schema holds no open market or no user (seed it first).
  static std::shared_ptr<DbWorkload> Prepare(const std::string& url, const std::string& schema, DbLoadOptions o = {});

  // The request kinds of a scenario and their weights (no database needed).
  static std::vector<load::RequestKind> Mix(DbScenario s);
  // Clients on `pooled_url`; the mix must come from Mix() of this workload.
  load::ClientFactory Clients(const std::string& pooled_url, DbScenario s);

  DbLoadCounters counters() const;
  // Checks, on `url`, that every market this run bet on has pools and counts equal to the
  // sums of its bets, and that the bets the run placed are all there; throws
  // std::runtime_error naming the first mismatch.
  void VerifyBets(const std::string& url) const;

  // The markets scenario as pgbench scripts, (SQL, weight) for `pgbench -f file@weight`:
  // the statements this workload's clients send, with their arguments drawn as often.
  // Throws std::invalid_argument for any other scenario.
  std::vector<std::pair<std::string, int>> PgbenchScripts(DbScenario s) const;

  const QueryPaths& paths() const { return paths_; }
  // What every signature of this workload's bets and votes starts with.
  const std::string& signature_prefix() const { return signature_prefix_; }
  // The markets bets go to (the most traded open ones).
  std::vector<int64_t> hot_market_ids() const;

 private:
  DbWorkload(const std::string& schema, DbLoadOptions o);
  friend class DbClient;

  QueryPaths paths_;
  DbLoadOptions o_;
  std::string schema_;
  std::string signature_prefix_;  // <run_tag>.<nonce>
  std::vector<int64_t> open_markets_, proposals_;
  std::vector<std::string> wallets_;
  std::vector<std::string> categories_;
  std::string point_select_sql_;
  int64_t point_select_rows_ = 0;
  Cache<MarketPage> list_cache_;
  Cache<MarketDetail> detail_cache_;
  Cache<Leaderboard> leaderboard_cache_;
  std::atomic<int64_t> bets_placed_{0}, bets_replayed_{0}, amount_placed_{0};
};

}  // namespace pmbench::queries

#endif  // PMBENCH_QUERIES_DB_LOAD_H_
