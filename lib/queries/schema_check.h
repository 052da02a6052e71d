// File: schema_check.h
//
// A platform's own schema, used as it is: what each path of the suite reads and calls, and a
// check of an existing schema against it that changes nothing and names whatever is missing
// (the suite never migrates a schema it did not create; `pmbench db migrate` refuses to).
//
//   CheckSchema(url, "public", NeedsOf(DbScenario::kBrowse));
//   // std::runtime_error: schema 'public' lacks what load db --scenario browse needs:
//   //   column markets.bet_count, materialized view or table leaderboard_mv
#ifndef PMBENCH_QUERIES_SCHEMA_CHECK_H_
#define PMBENCH_QUERIES_SCHEMA_CHECK_H_

#include <string>
#include <vector>

#include "lib/queries/db_load.h"

namespace pmbench::db {
class PgSession;
}

namespace pmbench::queries {

// A relation (table, view or materialized view) with the columns read from it, or a function.
struct SchemaNeed {
  std::string name;
  std::vector<std::string> columns;
  bool function = false;
};

// What `pmbench load db --scenario s` reads and calls (and what preparing it reads: the open
// markets, the users' wallets; the proposals for the mix).
std::vector<SchemaNeed> NeedsOf(DbScenario s);
// What `pmbench api serve` reads and calls (every route).
std::vector<SchemaNeed> ApiNeeds();
// What the live feed reads from each decoded change to markets (realtime serve, api serve's
// invalidation).
std::vector<SchemaNeed> FeedNeeds();

// The needs `schema` does not meet, one phrase each ("column markets.volume", "table bets",
// "function place_bet"); empty when it meets them all. Reads the catalog only.
std::vector<std::string> Missing(db::PgSession& s, const std::string& schema, const std::vector<SchemaNeed>& needs);
// Throws std::runtime_error "schema 'X' lacks what WHAT needs: ..." naming every one missing.
void CheckSchema(const std::string& url, const std::string& schema, const std::vector<SchemaNeed>& needs, const std::string& what);

}  // namespace pmbench::queries

#endif  // PMBENCH_QUERIES_SCHEMA_CHECK_H_
