// pmbench api serve: the platform's HTTP JSON API (lib/api) beside a database.
#include <signal.h>

#include <iostream>

#include "lib/api/server.h"
#include "lib/db/database_url.h"
#include "lib/db/staging.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_common.h"

namespace pmbench::cli {
namespace {

constexpr const char* kUsage = R"(Usage: pmbench api serve [options]

Serves the platform's paths as an HTTP JSON API (the stand-in for its Next.js API routes),
on the query paths of pmbench load db, until SIGINT or SIGTERM:

  GET  /api/markets?cursor=&category=&status=&order=volume|closes_at&limit=
  GET  /api/markets/{id}
  GET  /api/users/{wallet}/dashboard
  GET  /api/leaderboard?limit=
  POST /api/bets     {"wallet", "market_id", "side", "amount", "tx_signature"}
  GET  /healthz

Lists, market pages and the leaderboard go through --cache: entries are fresh for --ttl,
then served stale for --stale while one refresh runs; concurrent misses share one load (in
Redis, across processes); a bet placed here and every market change committed by anyone
(followed by logical decoding on the direct URL) invalidate that market's entries. Bad
input gets a 4xx with {"error": ...}; a database that fails, 503.

Options:
  --listen HOST:PORT      address to listen on (default 127.0.0.1:8080; port 0: a free one)
  --database URL          where queries go (default: staging's pooled URL)
  --feed-database URL     a direct URL to follow market changes by (default: staging's
                          direct URL; 'none' to rely on TTLs and this server's own bets)
  --schema NAME           the platform's schema (default: pmbench)
  --cache KIND            none | memory | redis://HOST:PORT[/DB] | redis (staging's)  [none]
  --ttl D                 how long an entry is fresh                             [1s]
  --stale D               how long after that it is served while refreshed       [5s]
  --db-connections N      workers, each with a connection                        [16]
  --threads N             io threads                                             [cores]
  --body-limit BYTES      larger request bodies get 413                          [16384]
)";

}  // namespace

int ApiCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, kUsage)) return *status;
  if (args[0] != "serve") throw UsageError("unknown api command '" + args[0] + "' (see pmbench api --help)");
  const Flags flags({args.begin() + 1, args.end()},
                    {"listen", "database", "feed-database", "schema", "cache", "ttl", "stale", "db-connections", "threads", "body-limit"},
                    {"help"});
  if (PrintedHelpOrRejectedArguments(flags, kUsage, "pmbench api serve")) return 0;
  const std::string listen = flags.Get("listen", "127.0.0.1:8080");
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) throw UsageError("--listen takes HOST:PORT, not '" + listen + "'");
  api::ApiOptions o;
  o.address = listen.substr(0, colon);
  o.port = ParsePort("listen", listen.substr(colon + 1));
  const bool need_staging = !flags.Has("database") || !flags.Has("feed-database") || flags.Get("cache", "") == "redis";
  const db::Staging staging = need_staging ? db::ResolveStaging() : db::Staging{};
  o.database = flags.Has("database") ? flags.Get("database", "") : staging.pooled_url;
  const db::DatabaseTarget target = db::ParseDatabaseUrl(o.database);
  o.feed_url = flags.Has("feed-database") ? flags.Get("feed-database", "") : staging.direct_url;
  if (o.feed_url == "none") o.feed_url.clear();
  if (!o.feed_url.empty()) db::ParseDatabaseUrl(o.feed_url);
  o.schema = flags.Get("schema", "pmbench");
  o.cache = flags.Get("cache", "none");
  if (o.cache == "redis") {
    if (staging.redis_url.empty()) throw UsageError("--cache redis: staging has no Redis (tools/staging up starts one; or give redis://HOST:PORT)");
    o.cache = staging.redis_url;
  }
  o.cache_options.ttl = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(ParseDuration("ttl", flags.Get("ttl", "1s"))));
  o.cache_options.stale = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(ParseDuration("stale", flags.Get("stale", "5s"))));
  o.db_connections = static_cast<int>(flags.GetUint("db-connections", 16));
  o.threads = static_cast<int>(flags.GetUint("threads", 0));
  o.body_limit = flags.GetUint("body-limit", 16384);
  std::unique_ptr<api::ApiServer> server;
  try {
    server = std::make_unique<api::ApiServer>(o);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }

  sigset_t signals;  // taken by sigwait below, not by whichever thread they would interrupt
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  server->Start();
  std::cerr << "serving http://" << o.address << ":" << server->port() << "/api (schema " << o.schema << " on "
            << target.Display() << ", cache " << (o.cache.rfind("redis://", 0) == 0 ? "redis" : o.cache)
            << (o.feed_url.empty() ? "" : ", invalidated by the live feed") << "); Ctrl-C stops\n";
  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "stopping\n";
  server->Stop();
  const auto c = server->counters();
  std::cerr << c.requests << " requests: 2xx " << c.by_class[2] << ", 4xx " << c.by_class[4] << ", 5xx " << c.by_class[5]
            << "; cache hits " << c.cache.hits << ", stale " << c.cache.stale << ", misses " << c.cache.misses << ", loads "
            << c.cache.loads << ", invalidated " << c.cache.invalidated << ", backend errors " << c.cache.backend_errors << "\n";
  return 0;
}

}  // namespace pmbench::cli
