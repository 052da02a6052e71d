// pmbench realtime serve: the fan-out WebSocket server beside a database.
#include <signal.h>

#include <iostream>

#include "lib/db/database_url.h"
#include "lib/db/staging.h"
#include "lib/queries/schema_check.h"
#include "lib/realtime/market_feed.h"
#include "lib/realtime/server.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {
namespace {

constexpr const char* kUsage = R"(Usage: pmbench realtime serve [options]

Serves live market odds over WebSocket: follows the committed changes to <schema>.markets by
logical decoding (a direct connection with REPLICATION; wal_level=logical) and fans each
out to the subscribers of "market:<id>" and "markets". Runs until SIGINT or SIGTERM.

  ws://HOST:PORT/realtime   JSON frames: {"op":"subscribe","channel":"market:42","since":17},
                            {"op":"unsubscribe",...}, {"op":"ping"}; see README.md
  http://HOST:PORT/healthz  "ok"
  http://HOST:PORT/metrics  Prometheus text: connections, subscriptions, messages, slow
                            consumers, bad frames, publish -> send latency

Options:
  --listen HOST:PORT      address to listen on (default 127.0.0.1:8090)
  --database URL          a direct (not pooled) connection for logical decoding (default:
                          staging's)
  --schema NAME           whose markets to serve (default: pmbench)
  --threads N             io threads (default: one per core)
  --queue-messages N      a session's unsent frames before it is closed as slow (4096)
  --replay N              updates kept per channel for "since" (256)
)";

}  // namespace

int RealtimeCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, kUsage)) return *status;
  if (args[0] != "serve") throw UsageError("unknown realtime command '" + args[0] + "' (see pmbench realtime --help)");
  const Flags flags({args.begin() + 1, args.end()}, {"listen", "database", "schema", "threads", "queue-messages", "replay"},
                    {"help"});
  if (PrintedHelpOrRejectedArguments(flags, kUsage, "pmbench realtime serve")) return 0;
  const std::string listen = flags.Get("listen", "127.0.0.1:8090");
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) throw UsageError("--listen takes HOST:PORT, not '" + listen + "'");
  const uint16_t port = ParsePort("listen", listen.substr(colon + 1));
  const std::string url = flags.Has("database") ? flags.Get("database", "") : db::ResolveStaging().direct_url;
  const db::DatabaseTarget target = db::ParseDatabaseUrl(url);
  const std::string schema = flags.Get("schema", "pmbench");
  db::CheckReadableSchemaName(schema);

  // Signals are taken by sigwait below, not by whichever thread they would interrupt.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  queries::CheckSchema(url, schema, queries::FeedNeeds(), "realtime serve");
  realtime::Hub hub({.replay = static_cast<size_t>(flags.GetUint("replay", 256))});
  realtime::MarketFeed feed(url, schema, hub);
  feed.Start();
  realtime::Server server({.address = listen.substr(0, colon),
                           .port = port,
                           .threads = static_cast<int>(flags.GetUint("threads", 0)),
                           .queue_messages = static_cast<size_t>(flags.GetUint("queue-messages", 4096))},
                          hub);
  server.Start();
  std::cerr << "serving ws://" << listen.substr(0, colon) << ":" << server.port() << "/realtime (markets of " << schema
            << " on " << target.Display() << "); Ctrl-C stops\n";
  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "stopping\n";
  server.Stop();
  feed.Stop();
  const auto c = server.counters();
  std::cerr << c.connections_total << " connections, " << c.messages_sent << " frames sent, " << c.slow_consumers
            << " slow consumers closed, " << c.bad_frames << " bad frames, " << feed.reconnects()
            << " database reconnects\n";
  return 0;
}

}  // namespace pmbench::cli
