#include "lib/db/seed.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>
#include <stdexcept>

#include "lib/base/bounded_queue.h"
#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"

namespace pmbench::db {
namespace {

constexpr size_t kChunkBytes = 1 << 20;  // large enough that per-call overhead vanishes

std::string Qualified(const std::string& schema, std::string_view table) {
  return "\"" + schema + "\"." + std::string(table);  // schema checked by CheckSchemaName
}

// Loading into bare tables and building keys and indexes afterwards is how pg_restore
// does it: one sort per index and one join per foreign key instead of a lookup per row.
// Everything happens in the seed's transaction, so a failure restores the definitions.
class DeferredKeys {
 public:
  DeferredKeys(PgSession& session, const std::string& schema) : session_(session) {
    std::string names;
    for (SeedTable t : kSeedTables) names += (names.empty() ? "'" : ", '") + std::string(TableName(t)) + "'";
    const std::string in_tables = "c.relnamespace = '\"" + schema +
                                  "\"'::regnamespace AND c.relname IN (" + names + ")";
    // Foreign keys first (they depend on the unique indexes), then primary and unique keys.
    constraints_ = session_.QueryRows(
        "SELECT format('%s', con.conrelid::regclass), quote_ident(con.conname), "
        "pg_get_constraintdef(con.oid) FROM pg_constraint con JOIN pg_class c ON c.oid = "
        "con.conrelid WHERE " + in_tables + " AND con.contype IN ('f', 'p', 'u') ORDER BY con.contype = 'f' DESC, con.conname");
    indexes_ = session_.QueryRows(
        "SELECT format('%s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid), "
        "coalesce(quote_literal(obj_description(i.indexrelid, 'pg_class')), 'NULL') "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE " + in_tables +
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)");
    for (const auto& c : constraints_) {
      session_.Exec("ALTER TABLE " + c[0] + " DROP CONSTRAINT " + c[1]);
    }
    for (const auto& i : indexes_) session_.Exec("DROP INDEX " + i[0]);
  }

  void Restore() {
    for (const auto& i : indexes_) {
      session_.Exec(i[1]);
      session_.Exec("COMMENT ON INDEX " + i[0] + " IS " + i[2]);
    }
    for (auto c = constraints_.rbegin(); c != constraints_.rend(); ++c) {
      session_.Exec("ALTER TABLE " + (*c)[0] + " ADD CONSTRAINT " + (*c)[1] + " " + (*c)[2]);
    }
  }

 private:
  PgSession& session_;
  std::vector<std::vector<std::string>> constraints_;  // table, name, definition
  std::vector<std::vector<std::string>> indexes_;      // name, definition, comment
};

// Streams one table's rows into COPY; returns the rows the server reports.
int64_t CopyTable(PgSession& session, const std::string& schema, const SeedRows& data,
                  SeedTable t, const SeedProgress& progress) {
  const int64_t total = data.RowCount(t);
  // The client formats the next chunk while the server parses the last: at most two ahead.
  base::BoundedQueue<std::pair<std::string, int64_t>> queue(2);
  std::jthread producer([&] {
    for (int64_t next = 0; next < total;) {
      std::string chunk;
      chunk.reserve(kChunkBytes + 4096);
      while (next < total && chunk.size() < kChunkBytes) {
        const int64_t end = std::min(total, next + 256);
        data.Append(t, next, end, chunk);
        next = end;
      }
      if (!queue.Push({std::move(chunk), next})) return;
    }
    queue.Finish();
  });
  const auto close_on_exit = queue.CloseOnExit();  // before the producer is joined
  // FREEZE (the table was truncated in this transaction): rows land frozen, so neither the
  // ANALYZE below nor the first readers stop to set hint bits on every page.
  const std::string sql = "COPY " + Qualified(schema, TableName(t)) + " (" +
                          std::string(TableColumns(t)) + ") FROM STDIN WITH (FREEZE)";
  return session.CopyIn(sql, [&](std::string& chunk) {
    auto next = queue.Pop();
    if (!next) return false;
    chunk = std::move(next->first);
    if (progress) progress(TableName(t), next->second, total);
    return true;
  });
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
  // Says to the live feed (lib/realtime/market_feed.h), in the WAL it decodes, that this
  // transaction is a bulk load: no update per row.
  session.Exec("SELECT pg_logical_emit_message(true, 'pmbench.bulk_load', '')");
  // Index builds sort in memory and may take parallel workers only with 32 MB each.
  session.Exec("SET LOCAL maintenance_work_mem = '256MB'");
  std::string tables;
  for (SeedTable t : kSeedTables) {
    tables += (tables.empty() ? "" : ", ") + Qualified(schema, TableName(t));
  }
  session.Exec("TRUNCATE " + tables);
  DeferredKeys keys(session, schema);

  SeedResult result;
  for (SeedTable t : kSeedTables) {
    result.rows[std::string(TableName(t))] = CopyTable(session, schema, data, t, progress);
  }
  keys.Restore();
  session.Exec("COMMIT");
  // Fresh statistics, or the first queries after a seed plan against empty tables. ANALYZE
  // is one table at a time on one core: the largest table on a second connection, the
  // rest on this one, at once.
  {
    const SeedTable largest = *std::max_element(kSeedTables.begin(), kSeedTables.end(), [&](SeedTable a, SeedTable b) {
      return data.RowCount(a) < data.RowCount(b);
    });
    std::string rest;
    for (SeedTable t : kSeedTables) {
      if (t != largest) rest += (rest.empty() ? "" : ", ") + Qualified(schema, TableName(t));
    }
    PgSession second(url);
    std::exception_ptr failed;
    {
      std::jthread other([&] {
        try {
          second.Exec("ANALYZE " + Qualified(schema, TableName(largest)));
        } catch (...) {
          failed = std::current_exception();
        }
      });
      if (!rest.empty()) session.Exec("ANALYZE " + rest);
    }
    if (failed) std::rethrow_exception(failed);
  }
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
