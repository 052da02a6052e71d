#include "lib/db/migrate.h"

#include <stdexcept>

#include <gtest/gtest.h>

#include "lib/db/testing/test_schema.h"
#include "lib/db/pg_session.h"

namespace pmbench::db {
namespace {

using test::TestSchema;

TEST(MigrateTest, AppliesEveryMigrationOnceAndRecordsIt) {
  TestSchema schema("migrate");
  const auto first = Migrate(schema.url(), schema.name());
  ASSERT_EQ(first.applied.size(), BuiltinMigrations().size());
  EXPECT_EQ(first.version, BuiltinMigrations().back().version);
  const auto again = Migrate(schema.url(), schema.name());
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(again.version, first.version);
  EXPECT_TRUE(IsSuiteSchema(schema.url(), schema.name()));
  PgSession s(schema.url());
  EXPECT_EQ(s.QueryValue("SELECT count(*) FROM \"" + schema.name() + "\".schema_migrations"),
            std::to_string(BuiltinMigrations().size()));
  // Every index the query paths use says which query it serves.
  EXPECT_EQ(s.QueryValue("SELECT count(*) FROM pg_indexes i WHERE schemaname = '" + schema.name() +
                         "' AND indexname NOT LIKE '%pkey' AND indexname NOT LIKE '%key'"
                         " AND obj_description(format('%I.%I', schemaname, indexname)::regclass) IS NULL"),
            "0");
}

TEST(MigrateTest, WorksThroughThePoolerInTransactionMode) {
  TestSchema schema("pooled");
  const auto r = Migrate(ResolveStaging().pooled_url, schema.name());
  EXPECT_EQ(r.applied.size(), BuiltinMigrations().size());
}

TEST(MigrateTest, RefusesASchemaThatIsNotTheSuites) {
  TestSchema schema("foreign");
  PgSession s(schema.url());
  s.Exec("CREATE SCHEMA \"" + schema.name() + "\"");
  s.Exec("CREATE TABLE \"" + schema.name() + "\".precious (x int)");
  EXPECT_THROW(Migrate(schema.url(), schema.name()), std::runtime_error);
  EXPECT_THROW(ResetSchema(schema.url(), schema.name()), std::runtime_error);
  EXPECT_THROW(DropSuiteSchema(schema.url(), schema.name()), std::runtime_error);
  EXPECT_EQ(s.QueryValue("SELECT to_regclass('\"" + schema.name() + "\".precious') IS NOT NULL"), "t");
}

TEST(MigrateTest, DetectsAMigrationEditedAfterItWasApplied) {
  TestSchema schema("edited");
  std::vector<Migration> v1 = {{1, "t", "CREATE TABLE t (x int);"}};
  Migrate(schema.url(), schema.name(), v1);
  std::vector<Migration> edited = {{1, "t", "CREATE TABLE t (x bigint);"}};
  EXPECT_THROW(Migrate(schema.url(), schema.name(), edited), std::runtime_error);
  std::vector<Migration> v2 = {v1[0], {2, "u", "CREATE TABLE u (y int);"}};
  EXPECT_EQ(Migrate(schema.url(), schema.name(), v2).applied, std::vector<int>{2});
}

TEST(MigrateTest, FailedMigrationLeavesNothingBehind) {
  TestSchema schema("broken");
  std::vector<Migration> broken = {{1, "ok", "CREATE TABLE ok (x int);"},
                                   {2, "bad", "CREATE TABLE bad (x nosuchtype);"}};
  EXPECT_THROW(Migrate(schema.url(), schema.name(), broken), std::runtime_error);
  PgSession s(schema.url());
  EXPECT_EQ(s.QueryValue("SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema.name() + "'"),
            "0");
}

TEST(MigrateTest, ResetEmptiesTheSuiteSchema) {
  TestSchema schema("reset");
  Migrate(schema.url(), schema.name());
  PgSession s(schema.url());
  s.Exec("INSERT INTO \"" + schema.name() + "\".stakes VALUES ('w', 1)");
  ResetSchema(schema.url(), schema.name());
  EXPECT_EQ(s.QueryValue("SELECT count(*) FROM \"" + schema.name() + "\".stakes"), "0");
  EXPECT_TRUE(IsSuiteSchema(schema.url(), schema.name()));
}

}  // namespace
}  // namespace pmbench::db
