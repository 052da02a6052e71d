#include "lib/queries/schema_check.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "lib/db/database_url.h"
#include "lib/db/pg_session.h"

namespace pmbench::queries {
namespace {

const SchemaNeed kMarketsRead{"markets", {"id", "title", "category", "status", "outcome", "closes_at", "yes_pool", "no_pool", "volume", "bet_count"}};
const SchemaNeed kUsers{"users", {"id", "wallet"}};
const SchemaNeed kProposals{"proposals", {"id"}};
const SchemaNeed kBetsRead{"bets", {"id", "market_id", "wallet", "side", "amount", "placed_at"}};
const SchemaNeed kBetsVerify{"bets", {"market_id", "side", "amount", "tx_signature"}};
const SchemaNeed kPlaceBet{"place_bet", {}, true};
const SchemaNeed kLeaderboard{"leaderboard_mv", {"wallet", "volume", "profit", "bets"}};
const SchemaNeed kLeaderboardLive{"leaderboard_live", {"wallet", "volume", "profit", "bets"}};
const SchemaNeed kVotes{"votes", {"id", "proposal_id", "voter", "choice", "nonce", "slot", "signature"}};
const SchemaNeed kMarketsCreate{"markets", {"creator", "created_at"}};

}  // namespace

std::vector<SchemaNeed> NeedsOf(DbScenario s) {
  std::vector<SchemaNeed> n = {kMarketsRead, kUsers};
  switch (s) {
    case DbScenario::kMarkets: break;
    case DbScenario::kDetail: n.push_back(kBetsRead); break;
    case DbScenario::kBets: n.insert(n.end(), {kPlaceBet, kBetsVerify}); break;
    case DbScenario::kDashboard: n.push_back(kBetsRead); break;
    case DbScenario::kLeaderboard: n.insert(n.end(), {kLeaderboard, kLeaderboardLive}); break;
    case DbScenario::kBrowse: n.insert(n.end(), {kBetsRead, kLeaderboard}); break;
    case DbScenario::kMix:
      n.insert(n.end(), {kBetsRead, kLeaderboard, kPlaceBet, kBetsVerify, kProposals, kVotes, kMarketsCreate});
      break;
    case DbScenario::kPointSelect: return {};  // pgbench's tables, in public
  }
  return n;
}

std::vector<SchemaNeed> ApiNeeds() { return {kMarketsRead, kBetsRead, kLeaderboard, kPlaceBet}; }

std::vector<SchemaNeed> FeedNeeds() { return {{"markets", {"id", "yes_pool", "no_pool", "volume", "status"}}}; }

std::vector<std::string> Missing(db::PgSession& s, const std::string& schema, const std::vector<SchemaNeed>& needs) {
  db::CheckReadableSchemaName(schema);  // a plain identifier: safe inside the quotes below
  // Tables, views, materialized views and partitioned tables with their live columns.
  std::map<std::string, std::set<std::string>> relations;
  for (const auto& row : s.QueryRows(
           "SELECT c.relname, a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
           "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
           "WHERE n.nspname = '" + schema + "' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')")) {
    relations[row[0]].insert(row[1]);
  }
  std::set<std::string> functions;
  for (const auto& row : s.QueryRows("SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '" + schema + "'")) {
    functions.insert(row[0]);
  }
  std::vector<std::string> missing;
  const auto add = [&](const std::string& m) {
    if (std::find(missing.begin(), missing.end(), m) == missing.end()) missing.push_back(m);
  };
  for (const SchemaNeed& n : needs) {
    if (n.function) {
      if (!functions.count(n.name)) add("function " + n.name);
      continue;
    }
    const auto it = relations.find(n.name);
    if (it == relations.end()) {
      add("table " + n.name);
      continue;
    }
    for (const auto& c : n.columns) {
      if (!it->second.count(c)) add("column " + n.name + "." + c);
    }
  }
  return missing;
}

void CheckSchema(const std::string& url, const std::string& schema, const std::vector<SchemaNeed>& needs, const std::string& what) {
  db::CheckReadableSchemaName(schema);
  db::PgSession s(url);
  if (s.QueryValue("SELECT 1 FROM pg_namespace WHERE nspname = '" + schema + "'").empty()) {
    throw std::runtime_error("no schema '" + schema + "' in that database");
  }
  const auto missing = Missing(s, schema, needs);
  if (missing.empty()) return;
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  throw std::runtime_error("schema '" + schema + "' lacks what " + what + " needs: " + list +
                           " (README.md, \"Your own schema\")");
}

}  // namespace pmbench::queries
