// File: pgbouncer.h
//
// pgbouncer's admin console (SHOW POOLS, SHOW STATS) as Prometheus text, named as the
// community's pgbouncer_exporter names it (pgbouncer_pools_client_waiting_connections, ...),
// so its dashboards and ours read the same series. Debian's prometheus-pgbouncer-exporter
// 1.7 cannot read pgbouncer 1.18 (it asks SHOW STATS for total_requests, renamed in 1.8):
// `pmbench exporter pgbouncer` serves this instead.
//
//   PgbouncerCollector c("postgresql://pmbench@127.0.0.1:6432/pgbouncer");
//   registry.AddCollector([&] { return c.Text(); });
#ifndef PMBENCH_MONITORING_PGBOUNCER_H_
#define PMBENCH_MONITORING_PGBOUNCER_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pmbench::db {
class PgSession;
}

namespace pmbench::monitoring {

using Rows = std::vector<std::map<std::string, std::string>>;

// SHOW POOLS and SHOW STATS rows (pgbouncer's own database left out) as exposition text.
std::string PgbouncerText(const Rows& pools, const Rows& stats);

// The admin console's URL for a pooled URL: the same server, user and password, database
// "pgbouncer".
std::string AdminUrl(const std::string& pooled_url);

// Keeps one admin session and reconnects when it is lost; pgbouncer_up is 0 while the
// pooler cannot be reached (and the other families are absent).
class PgbouncerCollector {
 public:
  explicit PgbouncerCollector(std::string admin_url);
  ~PgbouncerCollector();
  std::string Text();
  // The rows as last read (for samplers), or throws std::runtime_error.
  std::pair<Rows, Rows> Read();

 private:
  std::string url_;
  std::mutex mu_;
  std::unique_ptr<db::PgSession> session_;
};

}  // namespace pmbench::monitoring

#endif  // PMBENCH_MONITORING_PGBOUNCER_H_
