#include "lib/db/seed.h"

#include <chrono>
#include <stdexcept>

#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"

namespace pmbench::db {
namespace {

constexpr size_t kChunkBytes = 1 << 20;  // large enough that per-call overhead vanishes

std::string Qualified(const std::string& schema, std::string_view table) {
  return "\"" + schema + "\"." + std::string(table);  // schema checked by CheckSchemaName
}

}  // namespace

int64_t SeedResult::total_rows() const {
  int64_t total = 0;
  for (const auto& [table, n] : rows) total += n;
  return total;
}

SeedResult Seed(const std::string& url, const std::string& schema, const SeedSpec& spec,
                const SeedProgress& progress) {
  const auto start = std::chrono::steady_clock::now();
  const SeedRows data(spec);
  Migrate(url, schema);

  PgSession session(url);
  session.Exec("BEGIN");
  std::string tables;
  for (SeedTable t : kSeedTables) {
    tables += (tables.empty() ? "" : ", ") + Qualified(schema, TableName(t));
  }
  session.Exec("TRUNCATE " + tables);

  SeedResult result;
  for (SeedTable t : kSeedTables) {
    const int64_t total = data.RowCount(t);
    int64_t next = 0;
    const std::string sql = "COPY " + Qualified(schema, TableName(t)) + " (" +
                            std::string(TableColumns(t)) + ") FROM STDIN";
    result.rows[std::string(TableName(t))] = session.CopyIn(sql, [&](std::string& chunk) {
      while (next < total && chunk.size() < kChunkBytes) {
        const int64_t end = std::min(total, next + 256);
        data.Append(t, next, end, chunk);
        next = end;
      }
      if (progress) progress(TableName(t), next, total);
      return next < total;
    });
  }
  session.Exec("COMMIT");
  // Fresh statistics, or the first queries after a seed plan against empty tables.
  session.Exec("ANALYZE " + tables);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::map<std::string, int64_t> CountRows(const std::string& url, const std::string& schema) {
  CheckSchemaName(schema);
  PgSession session(url);
  std::map<std::string, int64_t> counts;
  for (SeedTable t : kSeedTables) {
    counts[std::string(TableName(t))] =
        std::stoll(session.QueryValue("SELECT count(*) FROM " + Qualified(schema, TableName(t))));
  }
  return counts;
}

}  // namespace pmbench::db
