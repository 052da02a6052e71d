// File: migrate.h
//
// Versioned schema migrations (fixtures/schema/NNN_name.sql, compiled in), applied in order
// into the suite's own schema and recorded there with a checksum. Everything the suite
// creates lives in that schema, which carries a marker table; destructive commands refuse
// a schema without it.
//
//   MigrateResult r = Migrate(url, "pmbench");   // idempotent
//   ResetSchema(url, "pmbench");                 // drop and migrate again
#ifndef PMBENCH_DB_MIGRATE_H_
#define PMBENCH_DB_MIGRATE_H_

#include <string>
#include <string_view>
#include <vector>

namespace pmbench::db {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// In version order, from fixtures/schema.
const std::vector<Migration>& BuiltinMigrations();

struct MigrateResult {
  std::vector<int> applied;  // versions applied by this call
  int version = 0;           // the schema's version afterwards
};

// Creates the schema (with its marker) if missing and applies what is not applied yet.
// Throws std::runtime_error when the schema exists but is not the suite's, or when an
// applied migration's text has changed since.
MigrateResult Migrate(const std::string& url, const std::string& schema,
                      const std::vector<Migration>& migrations = BuiltinMigrations());

// Drops the schema and migrates it again. Throws unless it carries the suite's marker.
MigrateResult ResetSchema(const std::string& url, const std::string& schema);

// True when `schema` exists and carries the suite's marker table.
bool IsSuiteSchema(const std::string& url, const std::string& schema);

// Drops a suite schema (a test's or benchmark's own); refuses one without the marker.
void DropSuiteSchema(const std::string& url, const std::string& schema);

}  // namespace pmbench::db

#endif  // PMBENCH_DB_MIGRATE_H_
