// File: seed.h
//
// `pmbench db seed`: loads the deterministic data set (seed_rows.h) into the suite's schema
// with COPY, replacing what the tables held, in one transaction.
//
//   SeedResult r = Seed(url, "pmbench", {.scale = 1, .seed = 42},
//                       [](std::string_view table, int64_t done, int64_t total) { ... });
//   r.total_rows() / r.seconds  // rows/s
#ifndef PMBENCH_DB_SEED_H_
#define PMBENCH_DB_SEED_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "lib/db/seed_rows.h"

namespace pmbench::db {

struct SeedResult {
  std::map<std::string, int64_t> rows;  // per table, as the server reported the COPYs
  double seconds = 0;                   // generation + COPY + commit + ANALYZE
  int64_t total_rows() const;
};

using SeedProgress = std::function<void(std::string_view table, int64_t done, int64_t total)>;

// Migrates `schema` if needed (it must be the suite's), then replaces its platform tables'
// rows. Throws std::runtime_error on any failure; the transaction then leaves nothing behind.
SeedResult Seed(const std::string& url, const std::string& schema, const SeedSpec& spec,
                const SeedProgress& progress = {});

// COUNT(*) of each seeded table.
std::map<std::string, int64_t> CountRows(const std::string& url, const std::string& schema);

}  // namespace pmbench::db

#endif  // PMBENCH_DB_SEED_H_
