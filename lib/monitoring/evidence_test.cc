#include "lib/monitoring/evidence.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "lib/db/pg_session.h"
#include "lib/db/staging.h"
#include "lib/db/testing/test_schema.h"

namespace pmbench::monitoring {
namespace {

// A run whose bottleneck is a lock: a second session waits a second on a row the first
// holds. The evidence must name the statement, the wait and the lock. (A row lock: it is
// waited for while the statement executes. A table lock is taken while the statement is
// parsed, a time pg_stat_statements does not count; only the wait events show that one.)
TEST(EvidenceTest, ALockWaitAndTheStatementBehindItAreFound) {
  const db::Staging st = db::ResolveStaging();
  db::test::TestSchema schema("evidence");
  const std::string table = "\"" + schema.name() + "\".evidence_marker";
  db::PgSession setup(schema.url());
  setup.Exec("CREATE SCHEMA \"" + schema.name() + "\"");
  setup.Exec("CREATE TABLE " + table + " (id int)");
  setup.Exec("INSERT INTO " + table + " SELECT generate_series(1, 100)");

  ServerEvidence ev({.direct_url = st.direct_url, .pooled_url = st.pooled_url, .sample_every_s = 0.05});
  db::PgSession holder(st.direct_url);
  holder.Exec("BEGIN");
  holder.Exec("UPDATE " + table + " SET id = id WHERE id = 1");
  std::thread waiter([&] {
    db::PgSession s(st.direct_url);
    s.Exec("UPDATE " + table + " SET id = id + 0 WHERE id = 1");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // the lock is held this long
  holder.Exec("COMMIT");
  waiter.join();
  db::PgSession pooled(st.pooled_url);
  for (int i = 0; i < 30; ++i) pooled.QueryValue("SELECT 1");
  const nlohmann::json j = ev.End();

  ASSERT_TRUE(j.contains("top_statements")) << j.dump(2);
  ASSERT_FALSE(j["top_statements"].empty());
  // The blocked UPDATE spent a second waiting: it is the top statement by total time.
  EXPECT_NE(j["top_statements"][0]["query"].get<std::string>().find("evidence_marker"), std::string::npos) << j.dump(2);
  EXPECT_GE(j["top_statements"][0]["total_ms"].get<double>(), 800);
  EXPECT_GE(j["locks"]["waiting_max"].get<double>(), 1);
  EXPECT_GT(j["locks"]["share_of_samples_waiting"].get<double>(), 0.3);
  EXPECT_GE(j["wait_events_backend_s"].value("Lock:transactionid", 0.0), 0.5) << j["wait_events_backend_s"].dump();
  for (const auto& t : j["top_statements"]) EXPECT_EQ(t["query"].get<std::string>().find("pmbench evidence"), std::string::npos);
  EXPECT_GE(j["pgbouncer"]["transactions"].get<double>(), 30);
  EXPECT_GT(j["database"]["xact_commit"].get<double>(), 0);  // backends report these at most once a second
  EXPECT_GT(j["node"]["cpu_user_s"].get<double>() + j["node"]["cpu_system_s"].get<double>(), 0);
  EXPECT_TRUE(j["unavailable"].empty()) << j["unavailable"].dump();
}

TEST(EvidenceTest, AServerThatCannotBeReachedIsNamedNotThrown) {
  ServerEvidence ev({.direct_url = "postgresql://u:secret@127.0.0.1:1/x?connect_timeout=1",
                     .pooled_url = "postgresql://u:secret@127.0.0.1:1/x?connect_timeout=1"});
  const nlohmann::json j = ev.End();
  ASSERT_EQ(j["unavailable"].size(), 2u) << j.dump(2);
  EXPECT_EQ(j.dump().find("secret"), std::string::npos);
  EXPECT_TRUE(j.contains("node"));
}

}  // namespace
}  // namespace pmbench::monitoring
