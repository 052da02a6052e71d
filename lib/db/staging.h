// File: staging.h
//
// Where staging is: a remote one named by STAGING_DATABASE_URL (pooled) and
// STAGING_DATABASE_DIRECT_URL (direct, defaults to the pooled one), or else the embedded one
// that `tools/staging up` describes in its state file (path in PMBENCH_STAGING_STATE).
//
//   Staging s = ResolveStaging();   // throws std::runtime_error saying what to do
//   db::PgSession c(s.direct_url);
#ifndef PMBENCH_DB_STAGING_H_
#define PMBENCH_DB_STAGING_H_

#include <string>

namespace pmbench::db {

struct Staging {
  std::string kind;        // "embedded" or "remote"
  std::string pooled_url;  // through pgbouncer (transaction pooling): no session state
  std::string direct_url;  // PostgreSQL itself: COPY, LISTEN, session settings
  // The local Solana ledger's RPC (fixtures/localnet), or STAGING_LEDGER_URL with a
  // remote staging; empty when there is none.
  std::string ledger_url;
  // Why there is no local ledger, as `tools/staging up` found it (one line), when it has none.
  std::string ledger_error;
  // With `tools/staging up --monitoring`: Prometheus' URL, and the folder of file_sd target
  // files it scrapes (a run adds its processes there). Empty without monitoring.
  std::string prometheus_url, prometheus_targets;
  std::string alertmanager_url, dashboard;  // and Alertmanager's URL; the dashboard it goes with
  // The API server's shared cache: redis://host:port (STAGING_REDIS_URL with a remote
  // staging); empty when there is none.
  std::string redis_url;
};

Staging ResolveStaging();

}  // namespace pmbench::db

#endif  // PMBENCH_DB_STAGING_H_
