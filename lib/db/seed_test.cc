#include "lib/db/seed.h"

#include <stdexcept>

#include <gtest/gtest.h>

#include "lib/db/testing/test_schema.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"

namespace pmbench::db {
namespace {

using test::TestSchema;

std::map<std::string, int64_t> Expected(const SeedSpec& spec) {
  SeedRows rows(spec);
  std::map<std::string, int64_t> m;
  for (SeedTable t : kSeedTables) m[std::string(TableName(t))] = rows.RowCount(t);
  return m;
}

// One digest of every row of every seeded table, in key order.
std::string Digest(const TestSchema& schema) {
  PgSession s(schema.url());
  std::string all;
  for (SeedTable t : kSeedTables) {
    all += s.QueryValue("SELECT md5(string_agg(x::text, '|' ORDER BY x::text)) FROM \"" +
                        schema.name() + "\"." + std::string(TableName(t)) + " x");
  }
  return all;
}

TEST(SeedTest, LoadsExactlyTheGeneratedRows) {
  TestSchema schema("seed");
  const SeedSpec spec{.scale = 0.02, .seed = 5};
  int64_t progress_calls = 0;
  const auto r = Seed(schema.url(), schema.name(), spec,
                      [&](std::string_view, int64_t done, int64_t total) {
                        EXPECT_LE(done, total);
                        ++progress_calls;
                      });
  EXPECT_EQ(r.rows, Expected(spec));
  EXPECT_EQ(CountRows(schema.url(), schema.name()), Expected(spec));
  EXPECT_GE(progress_calls, 6);
  EXPECT_GT(r.seconds, 0);
  // The listener's invariant: a market's counters are the sums of its bets.
  PgSession s(schema.url());
  EXPECT_EQ(s.QueryValue("SELECT count(*) FROM \"" + schema.name() + "\".markets m WHERE "
                         "bet_count <> (SELECT count(*) FROM \"" + schema.name() +
                         "\".bets b WHERE b.market_id = m.id) OR volume <> yes_pool + no_pool"),
            "0");
}

TEST(SeedTest, SameScaleAndSeedGiveTheSameRows) {
  TestSchema a("det_a"), b("det_b"), c("det_c");
  Seed(a.url(), a.name(), {.scale = 0.01, .seed = 11});
  Seed(b.url(), b.name(), {.scale = 0.01, .seed = 11});
  Seed(c.url(), c.name(), {.scale = 0.01, .seed = 12});
  EXPECT_EQ(Digest(a), Digest(b));
  EXPECT_NE(Digest(a), Digest(c));
}

TEST(SeedTest, ReseedingReplacesRatherThanAdds) {
  TestSchema schema("reseed");
  Seed(schema.url(), schema.name(), {.scale = 0.01, .seed = 1});
  Seed(schema.url(), schema.name(), {.scale = 0.02, .seed = 1});
  EXPECT_EQ(CountRows(schema.url(), schema.name()), Expected({.scale = 0.02, .seed = 1}));
}

TEST(SeedTest, RefusesForeignSchemaAndLeavesItUntouched) {
  TestSchema schema("seedforeign");
  PgSession s(schema.url());
  s.Exec("CREATE SCHEMA \"" + schema.name() + "\"");
  s.Exec("CREATE TABLE \"" + schema.name() + "\".users (x int)");
  EXPECT_THROW(Seed(schema.url(), schema.name(), {.scale = 0.01, .seed = 1}), std::runtime_error);
  EXPECT_EQ(s.QueryValue("SELECT count(*) FROM \"" + schema.name() + "\".users"), "0");
}

TEST(SeedTest, UnreachableServerIsAClearError) {
  try {
    Seed("postgresql://pmbench:pw@127.0.0.1:1/pmbench?connect_timeout=2", "t_unreachable",
         {.scale = 0.01, .seed = 1});
    ADD_FAILURE() << "seeded a server that does not exist";
  } catch (const std::exception& e) {
    EXPECT_EQ(std::string(e.what()).find(":pw@"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pmbench::db
