#include "lib/db/migrate.h"

#include <pqxx/pqxx>

#include <stdexcept>

#include "lib/db/database_url.h"

namespace pmbench::db {
namespace {

constexpr const char* kMarker = "pmbench_marker";

bool HasMarker(pqxx::transaction_base& tx, const std::string& schema) {
  return tx.exec_params("SELECT to_regclass($1) IS NOT NULL",
                        tx.quote_name(schema) + "." + kMarker)[0][0].as<bool>();
}

bool SchemaExists(pqxx::transaction_base& tx, const std::string& schema) {
  return !tx.exec_params("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema).empty();
}

void RequireSuiteSchema(pqxx::transaction_base& tx, const std::string& schema) {
  if (!SchemaExists(tx, schema)) {
    throw std::runtime_error("schema " + schema + " does not exist");
  }
  if (!HasMarker(tx, schema)) {
    throw std::runtime_error("schema " + schema +
                             " has no pmbench marker table: not the suite's, refusing to touch it");
  }
}

}  // namespace

MigrateResult Migrate(const std::string& url, const std::string& schema,
                      const std::vector<Migration>& migrations) {
  CheckSchemaName(schema);
  pqxx::connection conn(url);
  pqxx::work tx(conn);
  const std::string s = tx.quote_name(schema);
  // Two migrators of one schema (e.g. parallel tests) take turns.
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "pmbench.migrate." + schema);
  if (SchemaExists(tx, schema) && !HasMarker(tx, schema)) {
    const bool empty = tx.exec_params(
        "SELECT NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1)", schema)[0][0].as<bool>();
    if (!empty) {
      throw std::runtime_error("schema " + schema +
                               " exists and was not created by pmbench: refusing to migrate it");
    }
  }
  tx.exec0("CREATE SCHEMA IF NOT EXISTS " + s);
  tx.exec0("CREATE TABLE IF NOT EXISTS " + s + "." + kMarker +
           " (suite text NOT NULL DEFAULT 'pmbench', created_at timestamptz NOT NULL DEFAULT now())");
  tx.exec0("INSERT INTO " + s + "." + kMarker + " SELECT WHERE NOT EXISTS (SELECT 1 FROM " + s +
           "." + kMarker + ")");
  tx.exec0("CREATE TABLE IF NOT EXISTS " + s +
           ".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
           "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
  tx.exec0("SET LOCAL search_path TO " + s);

  MigrateResult result;
  for (const Migration& m : migrations) {
    const std::string sql(m.sql);
    const pqxx::result done = tx.exec_params(
        "SELECT checksum = md5($2) FROM schema_migrations WHERE version = $1", m.version, sql);
    if (!done.empty()) {
      if (!done[0][0].as<bool>()) {
        throw std::runtime_error("migration " + std::to_string(m.version) + "_" +
                                 std::string(m.name) + " changed after it was applied to " +
                                 schema + ": run pmbench db reset");
      }
      result.version = m.version;
      continue;
    }
    try {
      tx.exec0(sql);
    } catch (const pqxx::sql_error& e) {
      throw std::runtime_error("migration " + std::to_string(m.version) + "_" +
                               std::string(m.name) + " failed: " + e.what());
    }
    tx.exec_params0("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, md5($3))",
                    m.version, std::string(m.name), sql);
    result.applied.push_back(m.version);
    result.version = m.version;
  }
  tx.commit();
  return result;
}

bool IsSuiteSchema(const std::string& url, const std::string& schema) {
  CheckSchemaName(schema);
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  return SchemaExists(tx, schema) && HasMarker(tx, schema);
}

void DropSuiteSchema(const std::string& url, const std::string& schema) {
  CheckSchemaName(schema);
  pqxx::connection conn(url);
  pqxx::work tx(conn);
  RequireSuiteSchema(tx, schema);
  tx.exec0("DROP SCHEMA " + tx.quote_name(schema) + " CASCADE");
  tx.commit();
}

MigrateResult ResetSchema(const std::string& url, const std::string& schema) {
  DropSuiteSchema(url, schema);
  return Migrate(url, schema);
}

}  // namespace pmbench::db
