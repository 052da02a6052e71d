#include "lib/monitoring/pgbouncer.h"

#include <gtest/gtest.h>

#include "lib/db/pg_session.h"
#include "lib/db/staging.h"

namespace pmbench::monitoring {
namespace {

TEST(PgbouncerTest, PoolsAndStatsAreRenderedWithoutTheAdminDatabase) {
  const Rows pools = {{{"database", "pmbench"}, {"user", "pmbench"}, {"cl_active", "7"}, {"cl_waiting", "3"},
                       {"sv_active", "20"}, {"sv_idle", "0"}, {"sv_used", "0"}, {"sv_login", "0"}, {"maxwait", "1"},
                       {"maxwait_us", "250000"}},
                      {{"database", "pgbouncer"}, {"user", "pgbouncer"}, {"cl_active", "1"}}};
  const Rows stats = {{{"database", "pmbench"}, {"total_xact_count", "100"}, {"total_query_count", "120"},
                       {"total_wait_time", "2500000"}, {"total_query_time", "1000"}}};
  const std::string t = PgbouncerText(pools, stats);
  EXPECT_NE(t.find("pgbouncer_up 1\n"), std::string::npos);
  EXPECT_NE(t.find("pgbouncer_pools_client_waiting_connections{database=\"pmbench\",user=\"pmbench\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("pgbouncer_pools_client_maxwait_seconds{database=\"pmbench\",user=\"pmbench\"} 1.25\n"), std::string::npos);
  EXPECT_NE(t.find("pgbouncer_stats_client_wait_seconds_total{database=\"pmbench\"} 2.5\n"), std::string::npos);
  EXPECT_NE(t.find("pgbouncer_stats_sql_transactions_pooled_total{database=\"pmbench\"} 100\n"), std::string::npos);
  EXPECT_EQ(t.find("database=\"pgbouncer\""), std::string::npos);
}

TEST(PgbouncerTest, TheAdminUrlIsThePooledOnesServerAndUser) {
  EXPECT_EQ(AdminUrl("postgresql://u:p@127.0.0.1:6432/app?sslmode=disable"), "postgresql://u:p@127.0.0.1:6432/pgbouncer?sslmode=disable");
  EXPECT_EQ(AdminUrl("postgresql://u@h:1/x"), "postgresql://u@h:1/pgbouncer");
}

TEST(PgbouncerTest, StagingsPoolerIsReadAndAnUnreachableOneIsDown) {
  const db::Staging st = db::ResolveStaging();
  db::PgSession pooled(st.pooled_url);  // a client of the pool, so it has a row
  pooled.QueryValue("SELECT 1");
  PgbouncerCollector c(AdminUrl(st.pooled_url));
  const std::string t = c.Text();
  EXPECT_NE(t.find("pgbouncer_up 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("pgbouncer_pools_client_active_connections{database=\"pmbench\""), std::string::npos) << t;
  EXPECT_NE(t.find("pgbouncer_stats_queries_pooled_total{database=\"pmbench\"}"), std::string::npos);
  PgbouncerCollector gone("postgresql://pmbench@127.0.0.1:1/pgbouncer?connect_timeout=1");
  EXPECT_EQ(gone.Text().find("pgbouncer_up 0\n") == std::string::npos, false);
  EXPECT_THROW(gone.Read(), std::runtime_error);
}

}  // namespace
}  // namespace pmbench::monitoring
