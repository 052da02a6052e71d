// pmbench exporter pgbouncer: pgbouncer's pools and stats for Prometheus.
#include <pthread.h>

#include <csignal>
#include <iostream>

#include "lib/db/database_url.h"
#include "lib/db/staging.h"
#include "lib/metrics/exporter.h"
#include "lib/metrics/registry.h"
#include "lib/monitoring/pgbouncer.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {
namespace {

constexpr const char* kUsage = R"(Usage: pmbench exporter pgbouncer [options]

Serves pgbouncer's admin console (SHOW POOLS, SHOW STATS) as Prometheus metrics, named as
the community's pgbouncer_exporter names them: pgbouncer_up, pgbouncer_pools_client_
{active,waiting}_connections, pgbouncer_pools_client_maxwait_seconds, pgbouncer_pools_
server_{active,idle,used,login}_connections, pgbouncer_stats_{queries,sql_transactions}_
pooled_total, pgbouncer_stats_client_wait_seconds_total, ... Each scrape reads the console
once; while pgbouncer cannot be reached, pgbouncer_up is 0. (Debian's prometheus-pgbouncer-
exporter 1.7 cannot read pgbouncer 1.18's SHOW STATS.) Runs until Ctrl-C or SIGTERM.

Options:
  --pooler URL            a pooled URL of the pgbouncer (its admin console is the same
                          server and user, database pgbouncer; the user must be one of its
                          admin_users or stats_users) [staging's pooled URL]
  --listen H:P            where to serve /metrics                      [127.0.0.1:9127]
)";

}  // namespace

int ExporterCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, kUsage)) return *status;
  if (args[0] != "pgbouncer") throw UsageError("unknown exporter '" + args[0] + "' (see pmbench exporter --help)");
  const Flags flags({args.begin() + 1, args.end()}, {"pooler", "listen"}, {"help"});
  if (PrintedHelpOrRejectedArguments(flags, kUsage, "pmbench exporter pgbouncer")) return 0;
  const std::string pooled = flags.Has("pooler") ? flags.Get("pooler", "") : db::ResolveStaging().pooled_url;
  const db::DatabaseTarget target = db::ParseDatabaseUrl(pooled);
  monitoring::PgbouncerCollector collector(monitoring::AdminUrl(pooled));
  collector.Read();  // a wrong URL or user is said now, not as pgbouncer_up 0 forever

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  metrics::Registry registry;
  registry.AddCollector([&] { return collector.Text(); });
  std::unique_ptr<metrics::Exporter> exporter;
  try {
    exporter = std::make_unique<metrics::Exporter>(registry, flags.Get("listen", "127.0.0.1:9127"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--listen: ") + e.what());
  }
  exporter->Start();
  std::cerr << "serving http://" << exporter->host() << ":" << exporter->port() << "/metrics for pgbouncer at "
            << target.Display() << "; Ctrl-C stops\n";
  int sig = 0;
  sigwait(&signals, &sig);
  exporter->Stop();
  return 0;
}

}  // namespace pmbench::cli
